"""Matching a rights request that arrived unmatched to a person on the register and to the
recorded authority of whoever acts for them; asking a representative for that authority; and
the bundle refused until both are matched."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records.models import AuthorisedRepresentative
from sar.models import Bundle, PortalMessage, SubjectAccessRequest
from sar.services import bundles as bundle_services
from sar.services import portal as portal_services
from sar.services import requests as services
from tests.factories import (
    AuthorisedRepresentativeFactory,
    BundleFactory,
    PatchFactory,
    PortalRequestFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

Status = SubjectAccessRequest.Status
Scope = AuthorisedRepresentative.Scope
TODAY = timezone.localdate()
PASSWORD = "a long and unusual pass phrase 42"


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def unmatched(*, acting=False, account=None, **overrides) -> SubjectAccessRequest:
    """A request from the portal's public form (or a signed-in account) not yet matched."""
    values = {
        "person": None,
        "requester_name": "Rhoda Requester",
        "requester_email": "rhoda@mail.example",
        "received_on": days_ago(5),
        "identity_required": True,
        "status": Status.AWAITING_IDENTITY,
    }
    values.update(overrides)
    request = SubjectAccessRequestFactory(**values)
    PortalRequestFactory(
        request=request,
        account=account,
        acting_for_someone=acting,
        represented_name="Mabel Matchworth" if acting else "",
        representative_relationship="Her daughter" if acting else "",
    )
    return request


def events(request, name):
    return LogEntry.objects.filter(object_pk=str(request.pk), additional_data__event=name)


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD)


@pytest.fixture
def tenant(patch):
    return tenant_in_patch(patch, first_name="Mabel", last_name="Matchworth")


def authority(person, **overrides):
    values = {"person": person, "valid_from": days_ago(400), "scope": Scope.ALL}
    values.update(overrides)
    return AuthorisedRepresentativeFactory(**values)


# --- the service -------------------------------------------------------------------------------


def test_a_public_form_request_is_matched_and_then_collected(dpo, tenant):
    request = unmatched()
    with pytest.raises(ValidationError, match="Match the request to a person"):
        bundle_services.bundle_collect(request=request, collected_by=dpo)

    services.request_match(request=request, matched_by=dpo, person=tenant)

    request.refresh_from_db()
    assert request.person == tenant and request.representative is None
    # Matching is not identity: the clock still waits for the evidence.
    assert request.status == Status.AWAITING_IDENTITY and request.due_date is None
    entry = events(request, "sar_matched").get()
    assert entry.actor == dpo
    assert entry.additional_data["person"] == tenant.pk
    assert entry.additional_data["representative"] is None
    bundle = bundle_services.bundle_collect(request=request, collected_by=dpo)
    assert bundle.items.exists()


def test_someone_acting_for_the_person_needs_a_recorded_authority(dpo, tenant):
    request = unmatched(acting=True)
    with pytest.raises(ValidationError) as refused:
        services.request_match(request=request, matched_by=dpo, person=tenant)
    assert "Choose the recorded authority" in str(refused.value.message_dict["representative"])
    request.refresh_from_db()
    assert request.person is None and not events(request, "sar_matched").exists()


def test_an_authority_that_has_ended_is_refused(dpo, tenant):
    request = unmatched(acting=True)
    lapsed = authority(tenant, valid_from=days_ago(400), expires_on=days_ago(1))
    with pytest.raises(ValidationError) as refused:
        services.request_match(
            request=request, matched_by=dpo, person=tenant, representative=lapsed
        )
    assert "not in force today" in str(refused.value.message_dict["representative"])
    assert SubjectAccessRequest.objects.get(pk=request.pk).person is None


@pytest.mark.parametrize(
    ("scope", "words"),
    [(Scope.REPAIRS, "repairs only"), (Scope.RENT, "rent and money only")],
)
def test_authority_for_repairs_or_rent_alone_does_not_cover_the_request(dpo, tenant, scope, words):
    request = unmatched(acting=True)
    narrow = authority(tenant, scope=scope)
    with pytest.raises(ValidationError) as refused:
        services.request_match(
            request=request, matched_by=dpo, person=tenant, representative=narrow
        )
    assert refused.value.message_dict["representative"] == [
        "That authority covers %s, not a request for the person's data" % words
    ]
    assert SubjectAccessRequest.objects.get(pk=request.pk).representative is None


def test_current_authority_over_all_matters_is_matched_and_the_bundle_may_go(dpo, tenant):
    request = unmatched(acting=True)
    with pytest.raises(ValidationError, match="Match the request to a person"):
        bundle_services.bundle_collect(request=request, collected_by=dpo)
    someone_elses = authority(tenant_in_patch(PatchFactory()))
    with pytest.raises(ValidationError, match="recorded for this person"):
        services.request_match(
            request=request, matched_by=dpo, person=tenant, representative=someone_elses
        )
    # Authority given in answer to our asking starts after the request arrived: it counts.
    given_later = authority(tenant, valid_from=TODAY, scope=Scope.ALL)

    services.request_match(
        request=request, matched_by=dpo, person=tenant, representative=given_later
    )

    request.refresh_from_db()
    assert (request.person, request.representative) == (tenant, given_later)
    assert events(request, "sar_matched").get().additional_data["representative"] == (
        given_later.pk
    )
    assert bundle_services.bundle_collect(request=request, collected_by=dpo).pk


def test_the_bundle_is_refused_while_the_authority_is_unmatched(dpo, tenant):
    request = unmatched(acting=True, person=tenant)
    with pytest.raises(ValidationError) as refused:
        bundle_services.bundle_collect(request=request, collected_by=dpo)
    assert refused.value.messages == [
        "Match the recorded authority of the person acting for them first."
    ]
    assert not Bundle.objects.exists()


def test_a_person_outside_the_officers_scope_cannot_be_matched(client, patch, officer, tenant):
    outsider = tenant_in_patch(PatchFactory(), first_name="Oscar", last_name="Outofreach")
    request = unmatched(handler=officer)
    with pytest.raises(ValidationError) as refused:
        services.request_match(request=request, matched_by=officer, person=outsider)
    assert "person" in refused.value.message_dict
    assert SubjectAccessRequest.objects.get(pk=request.pk).person is None

    client.force_login(officer)
    url = reverse("sar_request_match", args=[request.pk])
    body = client.get(url, {"q": "Oscar"}).content.decode()
    assert "Outofreach" not in body and "No people found" in body
    assert "Mabel Matchworth" in client.get(url, {"q": "Mabel"}).content.decode()
    chosen = client.get(url, {"person": outsider.pk})
    assert chosen.status_code == 302 and chosen["Location"] == url
    posted = client.post(url, {"person": outsider.pk, "representative": "none"})
    assert posted.status_code == 302 and posted["Location"] == url
    assert SubjectAccessRequest.objects.get(pk=request.pk).person is None


def test_a_closed_request_cannot_be_matched(client, dpo, tenant):
    request = unmatched(status=Status.WITHDRAWN)
    with pytest.raises(ValidationError, match="closed"):
        services.request_match(request=request, matched_by=dpo, person=tenant)
    client.force_login(dpo)
    response = client.get(reverse("sar_request_match", args=[request.pk]))
    assert response["Location"] == reverse("sar_request_detail", args=[request.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "no longer be matched" in detail and "Match to a person" not in detail


def test_the_match_holds_once_a_bundle_is_under_way(dpo, tenant, patch):
    other = tenant_in_patch(patch, first_name="Olive", last_name="Otherton")
    request = unmatched()
    services.request_match(request=request, matched_by=dpo, person=other)
    # Before anything is collected a mistake can be put right.
    services.request_match(request=request, matched_by=dpo, person=tenant)
    assert (
        events(request, "sar_matched").order_by("pk").last().additional_data["previous_person"]
        == other.pk
    )
    BundleFactory(request=request, status=Bundle.Status.FAILED)
    services.request_match(request=request, matched_by=dpo, person=tenant)
    bundle_services.bundle_collect(request=request, collected_by=dpo)
    with pytest.raises(ValidationError, match="bundle for this request is under way"):
        services.request_match(request=request, matched_by=dpo, person=other)
    assert SubjectAccessRequest.objects.get(pk=request.pk).person == tenant


def test_a_residents_own_request_stays_theirs(dpo, patch, officer, tenant):
    account = make_account(officer, tenant)
    request = portal_services.portal_request_create(
        account=account, kind="access", details="My repair records."
    )
    other = tenant_in_patch(patch)
    # The account may download the answer, so the answer must be about its own resident.
    with pytest.raises(ValidationError, match="own portal account"):
        services.request_match(request=request, matched_by=dpo, person=other)
    services.request_match(request=request, matched_by=dpo, person=tenant)


def test_non_staff_cannot_match(dpo, tenant):
    from django.core.exceptions import PermissionDenied

    request = unmatched()
    for role in (Role.COMMITTEE_MEMBER, Role.TENANT):
        with pytest.raises(PermissionDenied):
            services.request_match(request=request, matched_by=user_with_role(role), person=tenant)


# --- asking for authority ----------------------------------------------------------------------


def make_account(officer, person):
    code = portal_services.issue_activation_code(issued_by=officer, person=person)
    return portal_services.activate_with_code(code=code, email=person.email, password=PASSWORD)


def test_the_requester_is_asked_for_their_authority_through_the_portal(client, dpo, patch, officer):
    daughter = tenant_in_patch(patch, first_name="Dora", last_name="Daughterly")
    account = make_account(officer, daughter)
    request = portal_services.portal_request_create(
        account=account,
        kind="access",
        details="Everything about my mother's tenancy.",
        acting_for_someone=True,
        represented_name="Mabel Matchworth",
        representative_relationship="Her daughter",
    )
    client.force_login(dpo)
    detail = client.get(reverse("sar_request_detail", args=[request.pk])).content.decode()
    assert "Mabel Matchworth" in detail and "Her daughter" in detail
    assert "Ask for their authority" in detail and "Match to a person" in detail

    response = client.post(reverse("sar_request_ask_authority", args=[request.pk]))

    assert response.status_code == 302
    message = PortalMessage.objects.get(request=request)
    assert message.from_staff and message.author == dpo
    assert message.body == services.AUTHORITY_ASK_TEXT
    assert events(request, "sar_authority_requested").get().actor == dpo
    request.refresh_from_db()
    # Asking does not stop the clock: that is a decision of its own.
    assert request.status == Status.AWAITING_IDENTITY and not request.clock_stops.exists()

    client.force_login(account)
    page = client.get(reverse("portal_request_detail", args=[request.pk])).content.decode()
    assert "evidence that you have their authority" in page
    assert "lasting power of attorney" in page


def test_asking_needs_a_portal_account_to_read_the_message(client, dpo):
    staff_logged = SubjectAccessRequestFactory(
        person=None, requester_name="Lettie Letter", requester_email="", status=Status.IN_PROGRESS
    )
    with pytest.raises(ValidationError, match="write to them"):
        services.authority_ask(request=staff_logged, asked_by=dpo)
    public_form = unmatched(acting=True)
    with pytest.raises(ValidationError, match="write to them"):
        services.authority_ask(request=public_form, asked_by=dpo)
    assert not PortalMessage.objects.exists()

    client.force_login(dpo)
    detail = client.get(reverse("sar_request_detail", args=[public_form.pk])).content.decode()
    assert "Mabel Matchworth" in detail and "Ask for their authority" not in detail
    response = client.post(reverse("sar_request_ask_authority", args=[public_form.pk]))
    assert response.status_code == 400
    assert "write to them" in response.content.decode()
    assert not events(public_form, "sar_authority_requested").exists()


# --- the pages ---------------------------------------------------------------------------------


def test_staff_match_a_representatives_request_through_the_pages(client, dpo, tenant):
    request = unmatched(acting=True)
    repairs = authority(tenant, name="Rory Repairs", scope=Scope.REPAIRS)
    full = authority(tenant, name="Petra Power", relationship="attorney", scope=Scope.ALL)
    authority(tenant, name="Lapsed Larry", expires_on=days_ago(2))
    client.force_login(dpo)
    url = reverse("sar_request_match", args=[request.pk])

    found = client.get(url, {"q": "Matchworth"}).content.decode()
    assert "Mabel Matchworth" in found and "?person=%d" % tenant.pk in found
    form = client.get(url, {"person": tenant.pk}).content.decode()
    assert "Petra Power" in form and "Rory Repairs" in form
    assert "Lapsed Larry" not in form and "No one is acting for them" not in form

    nothing = client.post(url, {"person": tenant.pk})
    body = nothing.content.decode()
    assert nothing.status_code == 400
    assert "govuk-error-summary" in body and "govuk-error-message" in body
    assert "Choose the recorded authority" in body
    narrow = client.post(url, {"person": tenant.pk, "representative": repairs.pk})
    assert "That authority covers repairs only" in narrow.content.decode()
    assert SubjectAccessRequest.objects.get(pk=request.pk).person is None

    done = client.post(url, {"person": tenant.pk, "representative": full.pk})
    assert done["Location"] == reverse("sar_request_detail", args=[request.pk])
    detail = client.get(done["Location"]).content.decode()
    assert "is matched to Mabel Matchworth" in detail
    assert "Petra Power" in detail and "All matters" in detail
    assert "Change the match" in detail and "Ask for their authority" not in detail


def test_a_request_for_oneself_can_be_matched_with_no_one_acting(client, dpo, tenant):
    request = unmatched()
    client.force_login(dpo)
    url = reverse("sar_request_match", args=[request.pk])
    assert "No one is acting for them" in client.get(url, {"person": tenant.pk}).content.decode()
    response = client.post(url, {"person": tenant.pk, "representative": "none"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.person == tenant and request.representative is None


def test_match_pages_are_out_of_reach_outside_the_request_scope(client, dpo, officer, tenant):
    request = unmatched(requester_name="Secret Sadie")
    client.force_login(officer)
    url = reverse("sar_request_match", args=[request.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"person": tenant.pk, "representative": "none"}).status_code == 404
    ask = client.post(reverse("sar_request_ask_authority", args=[request.pk]))
    assert ask.status_code == 403  # only handlers send portal messages
    for role in (Role.COMMITTEE_MEMBER, Role.TENANT):
        client.force_login(user_with_role(role))
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert "Secret Sadie" not in response.content.decode()
    # A senior officer sees every request but only the people they may see.
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    assert client.get(url).status_code == 200
    assert SubjectAccessRequest.objects.get(pk=request.pk).person is None


def test_logging_a_request_holds_the_authority_to_the_same_scope_rule(dpo, tenant):
    narrow = authority(tenant, scope=Scope.REPAIRS)
    with pytest.raises(ValidationError) as refused:
        services.rights_request_create(
            logged_by=dpo,
            kind="access",
            channel="letter",
            person=tenant,
            requester_name="Rory Repairs",
            requester_email="rory@mail.example",
            requester_address="",
            details="Everything about my mother.",
            date_from=None,
            date_to=None,
            received_on=TODAY,
            identity_required=False,
            identity_received_on=None,
            representative=narrow,
        )
    assert "covers repairs only" in str(refused.value.message_dict["representative"])
    assert not SubjectAccessRequest.objects.filter(requester_name="Rory Repairs").exists()


def test_nothing_is_collected_or_signed_off_once_the_authority_has_lapsed(dpo, tenant):
    request = unmatched(acting=True, status=Status.IN_PROGRESS, identity_received_on=TODAY)
    lasting = authority(tenant)
    services.request_match(request=request, matched_by=dpo, person=tenant, representative=lasting)
    AuthorisedRepresentative.objects.filter(pk=lasting.pk).update(expires_on=days_ago(1))
    request.refresh_from_db()
    with pytest.raises(ValidationError, match="no longer in force"):
        bundle_services.bundle_collect(request=request, collected_by=dpo)
    assert not Bundle.objects.filter(request=request).exists()
