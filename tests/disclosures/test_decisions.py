"""Deciding third-party requests: four eyes, training, minimisation down to the generated PDF,
safety markers, the data protection lead's second approval, one decision only, and the audit
trail on the person."""

import datetime
import io
import json
import threading

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from access.compliance import forget_compliance
from access.roles import Role
from disclosures import services
from disclosures.models import DisclosureDecision, DisclosureRequest
from records.models import Marker, Person
from tests.factories import (
    DisclosureRequestFactory,
    MarkerFactory,
    PersonFactory,
    SensitiveInformationFactory,
    TrainingModuleFactory,
    TrainingRecordFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore

Status = DisclosureRequest.Status
PHONE = "07700 900123"
BIRTHDAY = datetime.date(1980, 5, 17)


@pytest.fixture
def world(patch_and_officer):
    patch, officer = patch_and_officer
    person = tenant_in_patch(
        patch,
        first_name="Grace",
        last_name="Okonjo",
        phone=PHONE,
        date_of_birth=BIRTHDAY,
        correspondence_address="Flat 9, 12 Hidden Lane, London",
    )
    return {
        "officer": officer,
        "person": person,
        "senior": user_with_role(Role.SENIOR_OFFICER),
        "dpo": user_with_role(Role.DATA_PROTECTION_LEAD),
    }


def log(world, items=("records.person.phone", "records.person.date_of_birth"), **kwargs):
    values = {
        "logged_by": world["officer"],
        "person": world["person"],
        "requester_type": "police",
        "requester_organisation": "Metropolitan Police Service",
        "requester_name": "DC Sam Holloway",
        "requester_contact": "sam.holloway@met.police.example",
        "identity_check": "Called back on the published switchboard number",
        "requested_items": list(items),
        "request_details": "Phone number and date of birth of the tenant.",
        "purpose": "Tracing a witness to a burglary.",
        "basis": "crime_taxation",
        "received_on": datetime.date.today(),
        "urgency": "urgent",
    }
    values.update(kwargs)
    return services.disclosure_log(**values)


def decide(request, user, items=("records.person.phone",), **kwargs):
    values = {
        "request": request,
        "decided_by": user,
        "outcome": "release",
        "released_items": list(items),
        "necessity": "The phone number lets the police reach the witness.",
        "reasons": "Not disclosing would prejudice the investigation.",
        "decider_position": "Housing services manager",
    }
    values.update(kwargs)
    return services.disclosure_decide(**values)


def pdf_text(decision: DisclosureDecision) -> str:
    data = filestore.read_decrypted(decision.pack_storage_name)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def compact(text: str) -> str:
    return "".join(text.split())


def events(person) -> list[str]:
    return [
        entry.additional_data.get("event")
        for entry in LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Person), object_pk=str(person.pk)
        ).order_by("pk")
        if entry.additional_data
    ]


def send(decision, user):
    return services.disclosure_send(
        decision=decision,
        sent_by=user,
        recipient_confirmed="DC Sam Holloway\nMetropolitan Police Service",
    )


# --- four eyes and training -----------------------------------------------------------------------


def test_the_logger_cannot_decide_their_own_request(world):
    senior = world["senior"]
    request = log(world, logged_by=senior)
    assert services.decider_problems(senior, request)
    with pytest.raises(ValidationError, match="someone else must decide"):
        decide(request, senior)
    assert not DisclosureDecision.objects.exists()
    request.refresh_from_db()
    assert request.status == Status.WAITING


def test_a_decider_without_current_training_cannot_decide(world):
    lapsed = UserFactory(roles=[Role.SENIOR_OFFICER], compliant=False)
    request = log(world)
    assert services.decider_problems(lapsed, request)
    with pytest.raises(ValidationError):
        decide(request, lapsed)
    assert not DisclosureDecision.objects.exists()


def test_a_decider_whose_training_expired_cannot_decide(world):
    senior = world["senior"]
    module = TrainingModuleFactory(name="Disclosure decisions", roles=[Role.SENIOR_OFFICER])
    TrainingRecordFactory(user=senior, module=module, completed_on=datetime.date(2020, 1, 6))
    forget_compliance(senior)  # as on the next page load
    assert "expired" in " ".join(services.decider_problems(senior, DisclosureRequestFactory()))
    request = log(world)
    with pytest.raises(ValidationError):
        decide(request, senior)
    assert not DisclosureDecision.objects.exists()


def test_staff_who_are_not_deciders_cannot_decide(world):
    request = log(world)
    with pytest.raises(ValidationError, match="senior officer"):
        decide(request, user_with_role(Role.HOUSING_OFFICER))
    assert not DisclosureDecision.objects.exists()


# --- minimisation ---------------------------------------------------------------------------------


def test_only_what_was_asked_for_can_be_released(world):
    request = log(world, items=["records.person.phone"])
    with pytest.raises(ValidationError, match="Only what was asked for"):
        decide(request, world["senior"], items=["records.person.phone", "records.person.email"])
    assert not DisclosureDecision.objects.exists()


def test_the_pack_holds_only_the_released_items(world):
    request = log(world)
    decision = decide(request, world["senior"])
    assert decision.outcome == DisclosureDecision.Outcome.PARTIAL
    assert set(decision.released_items) <= set(request.requested_items)

    decision = send(decision, world["senior"])
    text = pdf_text(decision)
    assert compact(PHONE) in compact(text)
    assert "17 May 1980" not in text
    assert "1980-05-17" not in text
    assert "Date of birth" not in text and "date of birth" not in text
    content = json.loads(decision.released_content)
    assert [entry["key"] for entry in content] == ["records.person.phone"]
    assert content[0]["values"] == [PHONE]
    request.refresh_from_db()
    assert request.status == Status.SENT


def test_a_full_release_shows_every_item_asked_for(world):
    request = log(world)
    decision = decide(
        request, world["senior"], items=["records.person.phone", "records.person.date_of_birth"]
    )
    assert decision.outcome == DisclosureDecision.Outcome.RELEASE
    text = pdf_text(send(decision, world["senior"]))
    assert "17 May 1980" in text
    assert compact(PHONE) in compact(text)


# --- safety markers -------------------------------------------------------------------------------


@pytest.fixture
def safe_address(world):
    return MarkerFactory(person=world["person"], kind=Marker.Kind.SAFE_ADDRESS)


ADDRESS_ITEMS = [
    "records.person.phone",
    "records.person.correspondence_address",
    "records.person.date_of_birth",
]


def test_a_safety_marker_blocks_the_protected_details(world, safe_address):
    request = log(world, items=ADDRESS_ITEMS)
    blocked = {item.key for item in services.blocked_items(request, request.requested_items)}
    assert blocked == {"records.person.phone", "records.person.correspondence_address"}
    with pytest.raises(ValidationError, match="safety marker"):
        decide(request, world["senior"], items=["records.person.phone"])
    assert not DisclosureDecision.objects.exists()


def test_a_marker_added_after_the_decision_still_keeps_the_details_out_of_the_pack(world):
    request = log(world, items=ADDRESS_ITEMS)
    decision = decide(request, world["senior"], items=ADDRESS_ITEMS)
    MarkerFactory(person=world["person"], kind=Marker.Kind.SAFE_ADDRESS)
    text = pdf_text(send(decision, world["senior"]))
    assert compact(PHONE) not in compact(text)
    assert "Hidden Lane" not in text
    assert "17 May 1980" in text
    keys = [entry["key"] for entry in json.loads(decision.released_content)]
    assert keys == ["records.person.date_of_birth"]


def test_only_the_dpo_can_override_and_must_give_a_reason(world, safe_address):
    request = log(world, items=ADDRESS_ITEMS)
    with pytest.raises(ValidationError, match="data protection lead"):
        services.disclosure_safety_override(
            request=request, overridden_by=world["senior"], reason="Court order"
        )
    with pytest.raises(ValidationError, match="Enter why"):
        services.disclosure_safety_override(
            request=request, overridden_by=world["dpo"], reason="  "
        )
    request.refresh_from_db()
    assert request.safety_override_by is None


def test_after_the_recorded_override_the_details_can_go(world, safe_address):
    request = log(world, items=ADDRESS_ITEMS)
    services.disclosure_safety_override(
        request=request,
        overridden_by=world["dpo"],
        reason="Court order 2026/123 requires the address; the court holds it securely.",
    )
    request.refresh_from_db()
    decision = decide(
        request,
        world["senior"],
        items=["records.person.phone", "records.person.correspondence_address"],
    )
    text = pdf_text(send(decision, world["senior"]))
    assert compact(PHONE) in compact(text)
    assert "Hidden Lane" in text
    assert "17 May 1980" not in text
    assert "disclosure_safety_override" in events(world["person"])


def test_an_override_comes_before_the_decision(world, safe_address):
    request = log(world, items=["records.person.date_of_birth", "records.person.phone"])
    decide(request, world["senior"], items=["records.person.date_of_birth"])
    with pytest.raises(ValidationError, match="has been decided"):
        services.disclosure_safety_override(
            request=request, overridden_by=world["dpo"], reason="Too late"
        )


# --- special category: the DPO's second approval --------------------------------------------------


SPECIAL = "records.sensitiveinformation.details"


def test_special_category_release_waits_for_the_dpo(world):
    SensitiveInformationFactory(person=world["person"], details="Type 2 diabetes")
    request = log(world, items=["records.person.phone", SPECIAL])
    with pytest.raises(ValidationError, match="condition"):
        decide(request, world["senior"], items=[SPECIAL])
    decision = decide(
        request,
        world["senior"],
        items=[SPECIAL],
        special_category_condition="DPA 2018 Sch. 1 para 10: preventing or detecting crime",
    )
    request.refresh_from_db()
    assert request.status == Status.WAITING_DPO
    with pytest.raises(ValidationError, match="approved decision"):
        send(decision, world["senior"])

    decision = services.disclosure_dpo_approve(decision=decision, approved_by=world["dpo"])
    assert decision.dpo_approved_by == world["dpo"]
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    text = pdf_text(send(decision, world["senior"]))
    assert "Type 2 diabetes" in text
    assert compact(PHONE) not in compact(text)
    assert "disclosure_dpo_approved" in events(world["person"])


def test_the_dpo_cannot_approve_their_own_decision(world):
    request = log(world, items=[SPECIAL])
    decision = decide(
        request,
        world["dpo"],
        items=[SPECIAL],
        special_category_condition="DPA 2018 Sch. 1 para 10",
    )
    with pytest.raises(ValidationError, match="someone else"):
        services.disclosure_dpo_approve(decision=decision, approved_by=world["dpo"])
    with pytest.raises(ValidationError, match="data protection lead"):
        services.disclosure_dpo_approve(decision=decision, approved_by=world["senior"])
    decision.refresh_from_db()
    assert decision.dpo_approved_by is None
    request.refresh_from_db()
    assert request.status == Status.WAITING_DPO


# --- refusals -------------------------------------------------------------------------------------


def test_a_refusal_is_recorded_with_its_reasons(world):
    request = log(world)
    with pytest.raises(ValidationError, match="reasons"):
        decide(request, world["senior"], outcome="refuse", reasons=" ")
    decision = decide(
        request,
        world["senior"],
        outcome="refuse",
        items=["records.person.phone"],
        necessity="",
        reasons="The request gives no crime reference and the officer could not be verified.",
    )
    decision.refresh_from_db()
    assert decision.outcome == DisclosureDecision.Outcome.REFUSE
    assert decision.released_items == []
    assert decision.reasons.startswith("The request gives no crime reference")
    assert decision.decided_by == world["senior"]
    assert decision.decider_position == "Housing services manager"
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    with pytest.raises(ValidationError):
        send(decision, world["senior"])
    entry = LogEntry.objects.filter(
        object_pk=str(world["person"].pk), additional_data__event="disclosure_decided"
    ).get()
    assert entry.additional_data["outcome"] == "refuse"


# --- one decision only ----------------------------------------------------------------------------


def test_deciding_twice_leaves_one_decision(world):
    request = log(world)
    decide(request, world["senior"])
    other = user_with_role(Role.SENIOR_OFFICER)
    with pytest.raises(ValidationError, match="already been decided"):
        decide(request, other, outcome="refuse", reasons="No.")
    assert DisclosureDecision.objects.filter(request=request).count() == 1
    assert DisclosureDecision.objects.get().decided_by == world["senior"]


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_at_once_make_one_decision(patch_and_officer):
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite locks the whole database for a writer, so two threads cannot race on the "
            "row lock; this test needs PostgreSQL (DATABASE_URL=postgres://...)."
        )
    patch, officer = patch_and_officer
    request = DisclosureRequestFactory(
        person=tenant_in_patch(patch), logged_by=officer, requested_items=["records.person.phone"]
    )
    deciders = [user_with_role(Role.SENIOR_OFFICER) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def decide_now(user, outcome):
        try:
            barrier.wait(timeout=10)
            services.disclosure_decide(
                request=DisclosureRequest.objects.get(pk=request.pk),
                decided_by=user,
                outcome=outcome,
                released_items=["records.person.phone"],
                necessity="Needed to reach the witness.",
                reasons="Reasons of %s" % user.username,
                decider_position="Housing manager",
            )
            outcomes.append("decided")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide_now, args=(deciders[0], "release")),
        threading.Thread(target=decide_now, args=(deciders[1], "refuse")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["This request has already been decided.", "decided"]
    assert DisclosureDecision.objects.filter(request=request).count() == 1
    decision = DisclosureDecision.objects.get(request=request)
    request.refresh_from_db()
    expected = Status.REFUSED if decision.outcome == "refuse" else Status.APPROVED
    assert request.status == expected


# --- the audit trail on the person ----------------------------------------------------------------


def test_every_step_leaves_an_event_on_the_person(world):
    request = log(world)
    decision = decide(request, world["senior"])
    send(decision, world["senior"])
    services.disclosure_pack_open(user=world["senior"], decision=decision)
    services.disclosure_record_person_told(
        decision=decision,
        recorded_by=world["senior"],
        person_told=DisclosureDecision.PersonTold.NOT_TOLD_CRIME,
        note="Telling her would alert the suspect in the same household.",
    )
    assert events(world["person"]) == [
        "disclosure_requested",
        "disclosure_decided",
        "disclosure_sent",
        "disclosure_person_told",
    ]
    sent = LogEntry.objects.get(
        object_pk=str(world["person"].pk), additional_data__event="disclosure_sent"
    )
    assert sent.actor == world["senior"]
    assert sent.additional_data["items"] == ["records.person.phone"]
    opened = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(DisclosureDecision),
        object_pk=str(decision.pk),
        action=LogEntry.Action.ACCESS,
    )
    assert opened.count() == 1


def test_person_told_needs_a_date_or_a_reason(world):
    request = log(world)
    decision = decide(request, world["senior"])
    with pytest.raises(ValidationError, match="once the disclosure is sent"):
        services.disclosure_record_person_told(
            decision=decision, recorded_by=world["senior"], person_told="told", told_on=None
        )
    send(decision, world["senior"])
    with pytest.raises(ValidationError, match="Enter the date"):
        services.disclosure_record_person_told(
            decision=decision, recorded_by=world["senior"], person_told="told", told_on=None
        )
    with pytest.raises(ValidationError, match="why the person is not told"):
        services.disclosure_record_person_told(
            decision=decision, recorded_by=world["senior"], person_told="not_told_other"
        )
    services.disclosure_record_person_told(
        decision=decision,
        recorded_by=world["senior"],
        person_told="told",
        told_on=datetime.date.today(),
    )
    decision.refresh_from_db()
    assert decision.person_told == "told"


# --- logging ---------------------------------------------------------------------------------------


def test_logging_about_someone_outside_the_loggers_scope_is_refused(world):
    outsider = PersonFactory()
    with pytest.raises(ValidationError, match="whose record you can see"):
        log(world, person=outsider)
    assert not DisclosureRequest.objects.exists()


class TestProcessingRestricted:
    def test_a_release_about_a_restricted_person_waits_for_the_dpo(self, world):
        MarkerFactory(person=world["person"], kind=Marker.Kind.PROCESSING_RESTRICTED)
        request = log(world, items=("records.person.phone",))
        decide(request, world["senior"], items=("records.person.phone",))
        request.refresh_from_db()
        assert request.status == Status.WAITING_DPO

    def test_the_decision_page_warns_of_the_restriction(self, client, world):
        MarkerFactory(person=world["person"], kind=Marker.Kind.PROCESSING_RESTRICTED)
        request = log(world, items=("records.person.phone",))
        client.force_login(world["senior"])
        body = client.get(reverse("disclosure_decide", args=[request.pk])).content.decode()
        assert "data is restricted (UK GDPR Art. 18)" in body

    def test_an_unrestricted_release_of_ordinary_data_does_not(self, world):
        request = log(world, items=("records.person.phone",))
        decide(request, world["senior"], items=("records.person.phone",))
        request.refresh_from_db()
        assert request.status == Status.APPROVED
