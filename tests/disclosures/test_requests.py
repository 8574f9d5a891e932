"""The third-party request pages: log, list, detail, override, decide, approve, send, download,
person told. Bodies are checked, not only status codes."""

import datetime
import io
import json
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from access.roles import Role
from disclosures import services
from disclosures.models import DisclosureDecision, DisclosureEvidence, DisclosureRequest
from records.models import Marker
from tests.factories import (
    DisclosureDecisionFactory,
    DisclosureRequestFactory,
    MarkerFactory,
    PatchFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore

PASSWORD = "correct horse battery staple"
PHONE = "07700 900123"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
Status = DisclosureRequest.Status


@pytest.fixture
def person(patch):
    return tenant_in_patch(
        patch,
        first_name="Grace",
        last_name="Okonjo",
        phone=PHONE,
        date_of_birth=datetime.date(1980, 5, 17),
    )


@pytest.fixture
def stranger():
    """Someone in a patch the officer does not look after."""
    return tenant_in_patch(PatchFactory(), first_name="Hidden", last_name="Stranger-Person")


@pytest.fixture
def request_for(officer):
    def make(person, **kwargs):
        kwargs.setdefault("logged_by", officer)
        return DisclosureRequestFactory(person=person, **kwargs)

    return make


@pytest.fixture
def waiting_for_dpo(person, request_for):
    """A request for `person` whose release of health details, decided by the given user, waits
    for the data protection lead's second approval."""

    def make(decided_by):
        disclosure = request_for(
            person,
            requested_items=["records.sensitiveinformation.details"],
            status=Status.WAITING_DPO,
        )
        DisclosureDecisionFactory(
            request=disclosure,
            decided_by=decided_by,
            released_items=["records.sensitiveinformation.details"],
            special_category_condition="Sch. 1 para 10",
        )
        return disclosure

    return make


@pytest.fixture
def sent(senior, person, request_for):
    """A request for `person` whose phone number the senior officer released and sent."""
    disclosure = request_for(person)
    decision = services.disclosure_decide(
        request=disclosure,
        decided_by=senior,
        outcome="release",
        released_items=["records.person.phone"],
        necessity="Needed.",
        reasons="Reasons.",
        decider_position="Manager",
    )
    services.disclosure_send(decision=decision, sent_by=senior, recipient_confirmed="DC Holloway")
    return decision


def log_data(person, **overrides):
    today = datetime.date.today()
    data = {
        "person": person.pk,
        "requester_type": "police",
        "requester_organisation": "Metropolitan Police Service",
        "requester_name": "DC Sam Holloway",
        "requester_contact": "sam.holloway@met.police.example",
        "identity_check": "Called back on the published switchboard number",
        "requested_items": ["records.person.phone", "records.person.date_of_birth"],
        "request_details": "Phone and date of birth.",
        "purpose": "Tracing a witness.",
        "basis": "crime_taxation",
        "received_on_0": str(today.day),
        "received_on_1": str(today.month),
        "received_on_2": str(today.year),
        "urgency": "urgent",
    }
    data.update(overrides)
    return data


def stored_files(settings) -> list[Path]:
    root = Path(settings.DOCUMENT_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def person_events(person) -> list[str]:
    return [
        entry.additional_data.get("event")
        for entry in LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(person)),
            object_pk=str(person.pk),
        ).order_by("pk")
        if entry.additional_data
    ]


# --- logging a request -----------------------------------------------------------------------------


def test_the_log_page_finds_only_people_the_logger_can_see(officer_client, person, stranger):
    response = officer_client.get(reverse("disclosure_log"), {"q": "Okonjo"})
    body = response.content.decode()
    assert "Grace Okonjo" in body
    assert "%s?person=%d" % (reverse("disclosure_log"), person.pk) in body
    response = officer_client.get(reverse("disclosure_log"), {"q": "Stranger-Person"})
    assert "Hidden" not in response.content.decode()
    assert "No people found" in response.content.decode()


def test_a_record_number_outside_scope_names_no_one(officer_client, stranger):
    response = officer_client.get(reverse("disclosure_log"), {"number": stranger.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no person with that record number" in body
    assert "Stranger-Person" not in body


def test_the_form_lists_the_data_map_items_grouped_and_marks_special_category(
    officer_client, person
):
    response = officer_client.get(reverse("disclosure_log"), {"person": person.pk})
    body = response.content.decode()
    assert "About Grace Okonjo" in body
    assert 'value="records.person.phone"' in body
    assert 'value="records.sensitiveinformation.details"' in body
    assert "Special category data" in body
    assert ">Tenancy</h3>" in body


def test_an_officer_logs_a_request_with_evidence(officer_client, officer, person, settings):
    upload = SimpleUploadedFile("police-form.pdf", PDF, content_type="application/pdf")
    response = officer_client.post(
        reverse("disclosure_log"), {**log_data(person), "evidence": [upload]}
    )
    disclosure = DisclosureRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("disclosure_detail", args=[disclosure.pk])
    assert disclosure.logged_by == officer
    assert disclosure.requested_items == [
        "records.person.date_of_birth",
        "records.person.phone",
    ]
    assert disclosure.urgency == "urgent"
    evidence = DisclosureEvidence.objects.get()
    assert evidence.content_type == "application/pdf"
    [stored] = stored_files(settings)
    assert PDF not in stored.read_bytes()  # encrypted at rest
    assert filestore.read_decrypted(evidence.storage_name) == PDF
    assert person_events(person) == ["disclosure_requested"]


def test_bad_evidence_saves_nothing_and_leaves_no_files(officer_client, person, settings):
    good = SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf")
    bad = SimpleUploadedFile("form2.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = officer_client.post(
        reverse("disclosure_log"), {**log_data(person), "evidence": [good, bad]}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "form2.pdf" in body
    assert not DisclosureRequest.objects.exists()
    assert not DisclosureEvidence.objects.exists()
    assert stored_files(settings) == []


def test_a_failing_evidence_file_in_the_service_removes_the_files_written(
    officer, person, settings
):
    from django.core.exceptions import ValidationError

    good = SimpleUploadedFile("form.pdf", PDF)
    bad = SimpleUploadedFile("form2.pdf", b"plain text pretending")
    with pytest.raises(ValidationError):
        services.disclosure_log(
            logged_by=officer,
            person=person,
            requester_type="police",
            requester_organisation="Met",
            requester_name="DC Holloway",
            requester_contact="x@police.example",
            identity_check="Called back",
            requested_items=["records.person.phone"],
            request_details="Phone",
            purpose="Witness",
            basis="crime_taxation",
            received_on=datetime.date.today(),
            urgency="routine",
            evidence=[good, bad],
        )
    assert not DisclosureRequest.objects.exists()
    assert stored_files(settings) == []


def test_missing_answers_get_messages_and_save_nothing(officer_client, person):
    response = officer_client.post(
        reverse("disclosure_log"),
        log_data(person, requested_items=[], purpose="", requester_organisation=""),
    )
    body = response.content.decode()
    assert "Choose at least one item the requester asked for" in body
    assert "Enter why the requester says they need the information" in body
    assert "Enter the organisation making the request" in body
    assert 'href="#id_requested_items_0"' in body
    assert not DisclosureRequest.objects.exists()


def test_logging_about_someone_out_of_scope_is_refused(officer_client, stranger):
    response = officer_client.post(reverse("disclosure_log"), log_data(stranger))
    body = response.content.decode()
    assert "Choose a person from the register whose record you can see" in body
    assert "Stranger-Person" not in body
    assert not DisclosureRequest.objects.exists()


def test_the_person_page_links_to_logging_a_request(officer_client, person):
    response = officer_client.get(reverse("person_detail", args=[person.pk]))
    assert "%s?person=%d" % (reverse("disclosure_log"), person.pk) in response.content.decode()


# --- the list ---------------------------------------------------------------------------------------


def test_deciders_see_what_waits_most_urgent_first(client, senior, person, request_for):
    routine = request_for(person, urgency="routine", requester_organisation="Routine Council")
    urgent = request_for(person, urgency="emergency", requester_organisation="Urgent Police")
    own = request_for(person, logged_by=senior, requester_organisation="Own Court")
    client.force_login(senior)
    body = client.get(reverse("disclosure_list")).content.decode()
    waiting = body.split('id="waiting"')[1].split('id="to-send"')[0]
    assert waiting.index(urgent.reference) < waiting.index(routine.reference)
    assert own.reference not in waiting  # they logged it: someone else decides
    assert "Emergency" in waiting
    mine = body.split('id="mine"')[1]
    assert own.reference in mine


def test_the_list_runs_a_fixed_number_of_queries(
    client, senior, officer, patch, queries_do_not_grow
):
    client.force_login(senior)

    def add(count):
        for _ in range(count):
            DisclosureRequestFactory(person=tenant_in_patch(patch), logged_by=officer)

    response = queries_do_not_grow(client, reverse("disclosure_list"), add)
    assert response.content.decode().count("DR-") >= 20


def test_officers_see_only_their_own_requests(client, person, request_for, patch):
    other_officer = user_with_role(Role.HOUSING_OFFICER)
    mine = request_for(person)
    theirs = request_for(tenant_in_patch(patch, last_name="Theirs-Only"), logged_by=other_officer)
    client.force_login(mine.logged_by)
    body = client.get(reverse("disclosure_list")).content.decode()
    assert mine.reference in body
    assert theirs.reference not in body
    assert "Theirs-Only" not in body
    assert 'id="waiting"' not in body


# --- the detail page --------------------------------------------------------------------------------


def test_out_of_scope_staff_get_404_without_the_name(client, person, request_for):
    disclosure = request_for(person)
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    for name in ("disclosure_detail", "disclosure_decide", "disclosure_send"):
        response = client.get(reverse(name, args=[disclosure.pk]))
        assert response.status_code in {403, 404}
        assert "Okonjo" not in response.content.decode()
    response = client.get(reverse("disclosure_detail", args=[disclosure.pk]))
    assert response.status_code == 404


def test_a_committee_member_cannot_see_requests(client, person, request_for):
    disclosure = request_for(person)
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    response = client.get(reverse("disclosure_detail", args=[disclosure.pk]))
    assert response.status_code in {403, 404}
    assert "Okonjo" not in response.content.decode()


def test_the_logger_sees_what_they_logged_but_not_the_contact_details(
    officer_client, person, request_for, access_entries
):
    disclosure = request_for(person)
    body = officer_client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert disclosure.reference in body
    assert "Tracing a witness to a burglary" in body
    assert "Called back on the station" in body
    assert PHONE not in body
    assert "Decide this request" not in body
    assert access_entries(disclosure).count() == 1


def test_a_decider_sees_the_persons_contact_details_and_when_confirmed(
    client, senior, person, request_for
):
    disclosure = request_for(person)
    client.force_login(senior)
    body = client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert PHONE in body
    assert "Last confirmed %s" % datetime.date.today().strftime("%-d %B %Y") in body
    assert "Decide this request" in body


def test_the_safety_block_is_shown_before_anything_is_chosen(
    client, senior, dpo, person, request_for
):
    MarkerFactory(person=person, kind=Marker.Kind.SAFE_ADDRESS)
    disclosure = request_for(person)
    client.force_login(senior)
    body = client.get(reverse("disclosure_decide", args=[disclosure.pk])).content.decode()
    block = body.index("Safety marker: protected details are held back")
    first_choice = body.index('name="outcome"')
    assert block < first_choice
    assert "Person: phone" in body[block:first_choice]
    assert 'value="records.person.phone" disabled' in body
    assert "Record the override" not in body

    client.force_login(dpo)
    body = client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert body.index("Safety marker") < body.index("Record the override")


def test_the_dpo_overrides_with_a_reason_and_password(client, dpo, person, request_for):
    MarkerFactory(person=person, kind=Marker.Kind.SAFE_ADDRESS)
    disclosure = request_for(person)
    client.force_login(dpo)
    url = reverse("disclosure_override", args=[disclosure.pk])
    response = client.post(url, {"reason": "Court order", "password": "wrong"})
    assert "The password is not right" in response.content.decode()
    response = client.post(url, {"reason": "", "password": PASSWORD})
    assert "Enter why the protected details must be released" in response.content.decode()
    disclosure.refresh_from_db()
    assert disclosure.safety_override_by is None

    response = client.post(url, {"reason": "Court order 2026/77.", "password": PASSWORD})
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.safety_override_by == dpo
    assert disclosure.safety_override_reason == "Court order 2026/77."
    body = client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "overrode the block" in body


def test_a_senior_officer_cannot_override(client, senior, person, request_for):
    MarkerFactory(person=person, kind=Marker.Kind.SAFE_ADDRESS)
    disclosure = request_for(person)
    client.force_login(senior)
    response = client.post(
        reverse("disclosure_override", args=[disclosure.pk]),
        {"reason": "Because", "password": PASSWORD},
    )
    assert response.status_code == 403
    disclosure.refresh_from_db()
    assert disclosure.safety_override_by is None


def test_evidence_downloads_are_audited(client, senior, person, request_for, access_entries):
    disclosure = request_for(person)
    upload = SimpleUploadedFile("form.pdf", PDF)
    evidence = services.evidence_add(
        uploaded_by=disclosure.logged_by, request=disclosure, upload=upload
    )
    client.force_login(senior)
    response = client.get(reverse("disclosure_evidence", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response.content == PDF
    assert access_entries(evidence).count() == 1

    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(reverse("disclosure_evidence", args=[evidence.pk])).status_code == 404


# --- deciding ---------------------------------------------------------------------------------------


def decide_data(**overrides):
    data = {
        "outcome": "release",
        "released_items": ["records.person.phone"],
        "necessity": "The phone number lets the police reach the witness.",
        "reasons": "Not disclosing would prejudice the investigation.",
        "decider_position": "Housing services manager",
        "password": PASSWORD,
    }
    data.update(overrides)
    return data


def test_the_logger_sees_why_they_cannot_decide_and_nothing_is_saved(client, senior, person):
    disclosure = DisclosureRequestFactory(person=person, logged_by=senior)
    client.force_login(senior)
    url = reverse("disclosure_decide", args=[disclosure.pk])
    body = client.get(url).content.decode()
    assert "someone else must decide it" in body
    assert "Record the decision" not in body
    response = client.post(url, decide_data())
    assert "someone else must decide it" in response.content.decode()
    assert not DisclosureDecision.objects.exists()


def test_a_decider_without_training_cannot_decide(client, person, request_for):
    disclosure = request_for(person)
    lapsed = UserFactory(roles=[Role.SENIOR_OFFICER], compliant=False)
    client.force_login(lapsed)
    response = client.post(reverse("disclosure_decide", args=[disclosure.pk]), decide_data())
    assert response.status_code == 404
    assert "Okonjo" not in response.content.decode()
    assert not DisclosureDecision.objects.exists()


def test_a_senior_officer_decides_a_partial_release(client, senior, person, request_for):
    disclosure = request_for(person)
    client.force_login(senior)
    url = reverse("disclosure_decide", args=[disclosure.pk])
    body = client.get(url).content.decode()
    assert 'value="records.person.phone"' in body
    assert 'value="records.person.email"' not in body  # not asked for

    response = client.post(url, decide_data(password="wrong"))
    assert "The password is not right" in response.content.decode()
    assert not DisclosureDecision.objects.exists()

    response = client.post(url, decide_data())
    assert response.status_code == 302
    decision = DisclosureDecision.objects.get()
    assert decision.released_items == ["records.person.phone"]
    assert decision.outcome == "partial"
    assert decision.decided_by == senior
    disclosure.refresh_from_db()
    assert disclosure.status == Status.APPROVED


def test_releasing_something_not_asked_for_is_refused(client, senior, person, request_for):
    disclosure = request_for(person)
    client.force_login(senior)
    response = client.post(
        reverse("disclosure_decide", args=[disclosure.pk]),
        decide_data(released_items=["records.person.ni_number"]),
    )
    assert "Only what was asked for can be released" in response.content.decode()
    assert not DisclosureDecision.objects.exists()


def test_a_refusal_needs_reasons_and_is_recorded(client, senior, person, request_for):
    disclosure = request_for(person)
    client.force_login(senior)
    url = reverse("disclosure_decide", args=[disclosure.pk])
    response = client.post(url, decide_data(outcome="refuse", reasons="", released_items=[]))
    assert "Enter the reasons for your decision" in response.content.decode()
    assert not DisclosureDecision.objects.exists()
    client.post(
        url,
        decide_data(outcome="refuse", reasons="No crime reference given.", released_items=[]),
    )
    decision = DisclosureDecision.objects.get()
    assert decision.outcome == "refuse"
    assert decision.released_items == []
    body = client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "No crime reference given." in body
    assert "Housing services manager" in body
    assert "Refused" in body


def test_special_category_needs_the_condition_and_waits_for_the_dpo(
    client, senior, dpo, person, request_for
):
    disclosure = request_for(person, requested_items=["records.sensitiveinformation.details"])
    client.force_login(senior)
    url = reverse("disclosure_decide", args=[disclosure.pk])
    data = decide_data(released_items=["records.sensitiveinformation.details"])
    response = client.post(url, data)
    assert "Enter the condition relied on" in response.content.decode()
    client.post(url, {**data, "special_category_condition": "DPA 2018 Sch. 1 para 10"})
    disclosure.refresh_from_db()
    assert disclosure.status == Status.WAITING_DPO

    # The DPO sees it waiting, and approves it with their password.
    client.force_login(dpo)
    body = client.get(reverse("disclosure_list")).content.decode()
    assert disclosure.reference in body.split('id="waiting-dpo"')[1]
    approve = reverse("disclosure_dpo_approve", args=[disclosure.pk])
    response = client.post(approve, {"verdict": "approve", "password": PASSWORD})
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.status == Status.APPROVED


def test_the_dpo_can_refuse_at_the_second_approval(client, dpo, senior, waiting_for_dpo):
    disclosure = waiting_for_dpo(senior)
    client.force_login(dpo)
    url = reverse("disclosure_dpo_approve", args=[disclosure.pk])
    response = client.post(url, {"verdict": "refuse", "refusal_reason": "", "password": PASSWORD})
    assert "Enter why you refuse the release" in response.content.decode()
    disclosure.refresh_from_db()
    assert disclosure.status == Status.WAITING_DPO
    response = client.post(
        url,
        {
            "verdict": "refuse",
            "refusal_reason": "Health details are not necessary to trace a witness.",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.status == Status.REFUSED
    assert disclosure.decision.dpo_refused_by == dpo
    assert "not necessary to trace a witness" in disclosure.decision.dpo_refusal_reason


def test_the_dpo_cannot_approve_their_own_decision_on_the_page(client, dpo, waiting_for_dpo):
    disclosure = waiting_for_dpo(dpo)
    client.force_login(dpo)
    url = reverse("disclosure_dpo_approve", args=[disclosure.pk])
    body = client.get(url).content.decode()
    assert "the second approval must come from someone else" in body
    client.post(url, {"verdict": "approve", "password": PASSWORD})
    disclosure.refresh_from_db()
    assert disclosure.status == Status.WAITING_DPO


# --- sending and downloading ------------------------------------------------------------------------


def test_send_confirms_the_recipient_and_the_pack_holds_only_the_release(
    client, senior, person, request_for, access_entries
):
    disclosure = request_for(person)
    client.force_login(senior)
    client.post(reverse("disclosure_decide", args=[disclosure.pk]), decide_data())
    url = reverse("disclosure_send", args=[disclosure.pk])
    body = client.get(url).content.decode()
    assert "DC Sam Holloway" in body  # pre-filled from the request
    assert "Last confirmed" in body

    response = client.post(url, {"recipient_confirmed": "", "password": PASSWORD})
    assert "Confirm the recipient" in response.content.decode()
    response = client.post(
        url,
        {
            "recipient_confirmed": "DC Sam Holloway\nMet Police, Lambeth",
            "confirm": "on",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    decision = DisclosureDecision.objects.get()
    assert decision.recipient_confirmed == "DC Sam Holloway\nMet Police, Lambeth"

    detail = client.get(reverse("disclosure_detail", args=[disclosure.pk])).content.decode()
    assert "Exactly what the pack held" in detail
    assert "Met Police, Lambeth" in detail
    assert "Download the pack" in detail
    assert [entry["values"] for entry in json.loads(decision.released_content)] == [[PHONE]]

    response = client.get(reverse("disclosure_pack", args=[disclosure.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "".join(PHONE.split()) in "".join(text.split())
    assert "17 May 1980" not in text
    assert access_entries(decision).count() == 1


def test_the_logger_cannot_download_the_pack(client, sent):
    disclosure = sent.request
    client.force_login(disclosure.logged_by)
    response = client.get(reverse("disclosure_pack", args=[disclosure.pk]))
    assert response.status_code == 403
    assert PHONE not in response.content.decode(errors="ignore")


def test_recording_whether_the_person_was_told(client, senior, person, sent):
    disclosure, decision = sent.request, sent
    client.force_login(senior)
    url = reverse("disclosure_person_told", args=[disclosure.pk])
    response = client.post(url, {"person_told": "not_told_crime", "note": ""})
    assert "Enter why the person is not told" in response.content.decode()
    response = client.post(
        url, {"person_told": "not_told_crime", "note": "It would alert the suspect."}
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.person_told == "not_told_crime"
    assert decision.person_told_on is None
    assert "disclosure_person_told" in person_events(person)


# --- the dashboard ----------------------------------------------------------------------------------


def test_deciders_and_the_dpo_see_their_panels(client, senior, dpo, person, request_for):
    request_for(person, urgency="emergency")
    client.force_login(senior)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Disclosure requests waiting" in body
    assert "1 urgent" in body
    assert "Disclosures waiting for your approval" not in body
    client.force_login(dpo)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Disclosures waiting for your approval" in body


def test_officers_see_no_decision_panel(officer_client, person, request_for):
    request_for(person)
    body = officer_client.get(reverse("dashboard")).content.decode()
    assert "Disclosure requests waiting" not in body


def test_the_send_page_audits_the_contact_details_it_shows(
    client, senior, person, request_for, access_entries
):
    disclosure = request_for(person)
    client.force_login(senior)
    client.post(reverse("disclosure_decide", args=[disclosure.pk]), decide_data())
    before = access_entries(person).count()
    body = client.get(reverse("disclosure_send", args=[disclosure.pk])).content.decode()
    assert "Last confirmed" in body
    assert access_entries(person).count() == before + 1
