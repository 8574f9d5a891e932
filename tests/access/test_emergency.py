"""Emergency ("break the glass") access: asking for it, using it, its end, and the DPO's review.

Unmatched attempts are recorded as EmergencyAccessAttempt rows (outcome "no_match", no access),
which auditlog also logs on creation; the DPO's review queue lists them.
"""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import Breach, EmergencyAccess, EmergencyAccessAttempt
from access.roles import Role
from access.services import emergency as services
from tests.factories import (
    ContactRecordFactory,
    EmergencyAccessFactory,
    PatchFactory,
    tenant_in_patch,
    user_with_role,
)

PASSWORD = "correct horse battery staple"
START = reverse("emergency_access_start")
NO_MATCH = "No record matches exactly; check the number."

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD, email="dpo@tmo.example")


@pytest.fixture
def stranger():
    """A tenant on a patch the housing officer does not look after."""
    return tenant_in_patch(
        PatchFactory(),
        first_name="Winifred",
        last_name="Elsewhereton",
        ni_number="QQ 12 34 56 D",
        email="winifred@mail.example",
    )


def _ask(client, **data):
    form = {
        "identifier_kind": "record_number",
        "identifier": "",
        "reason": "Police welfare check: the tenant has not been seen for a week.",
        "password": PASSWORD,
    }
    form.update(data)
    return client.post(START, form)


def _person_url(person):
    return reverse("person_detail", args=[person.pk])


def test_the_form_warns_that_the_dpo_is_told(officer_client):
    response = officer_client.get(START)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The data protection lead is told at once" in body
    assert 'type="password"' in body


def test_no_reason_no_access(officer_client, stranger, dpo):
    response = _ask(officer_client, identifier=str(stranger.pk), reason="   ")
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "Enter why you need this record now." in body
    assert stranger.last_name not in body
    assert not EmergencyAccess.objects.exists()
    assert not EmergencyAccessAttempt.objects.exists()
    assert officer_client.get(_person_url(stranger)).status_code == 404


def test_wrong_password_no_access(officer_client, stranger, dpo):
    response = _ask(officer_client, identifier=str(stranger.pk), password="not my password")
    assert response.status_code == 200
    body = response.content.decode()
    assert "The password is not right" in body
    assert "govuk-form-group--error" in body
    assert not EmergencyAccess.objects.exists()
    assert not EmergencyAccessAttempt.objects.exists()
    assert officer_client.get(_person_url(stranger)).status_code == 404
    assert mail.outbox == []


def test_reason_and_password_open_the_record_and_tell_the_dpo(
    officer_client, signed_in_officer, stranger, dpo, django_capture_on_commit_callbacks
):
    assert officer_client.get(_person_url(stranger)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(officer_client, identifier=str(stranger.pk))
    assert response.status_code == 302
    assert response["Location"] == _person_url(stranger)

    access = EmergencyAccess.objects.get()
    assert access.user == signed_in_officer
    assert access.content_object == stranger
    assert access.review == EmergencyAccess.Review.PENDING
    assert access.expires_at - access.started_at == datetime.timedelta(hours=4)
    attempt = EmergencyAccessAttempt.objects.get()
    assert attempt.outcome == EmergencyAccessAttempt.Outcome.OPENED
    assert attempt.access == access
    assert attempt.record_number == stranger.pk
    # auditlog keeps the creation, with the user's reason masked.
    created = LogEntry.objects.get_for_object(access).get(action=LogEntry.Action.CREATE)
    assert created.actor == signed_in_officer
    assert "Police welfare check" not in str(created.changes)

    page = officer_client.get(_person_url(stranger))
    assert page.status_code == 200
    assert stranger.last_name in page.content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dpo@tmo.example"]
    assert str(stranger.pk) in message.subject
    assert signed_in_officer.get_username() in message.body
    assert "Police welfare check" in message.body
    assert reverse("emergency_review_detail", args=[access.pk]) in message.body
    for secret in (stranger.last_name, "QQ123456D", "QQ 12 34 56 D", stranger.email):
        assert secret not in message.subject + message.body


def test_linked_records_follow_the_person(officer_client, stranger, dpo):
    contact = ContactRecordFactory(person=stranger)
    url = reverse("contact_record_detail", args=[contact.pk])
    assert officer_client.get(url).status_code == 404
    _ask(officer_client, identifier=str(stranger.pk))
    assert officer_client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("ni_number", "qq123456d"),
        ("email", " Winifred@Mail.Example "),
        ("phone", None),
    ],
)
def test_exact_identifiers_through_the_blind_index(officer_client, stranger, dpo, kind, identifier):
    response = _ask(officer_client, identifier_kind=kind, identifier=identifier or stranger.phone)
    assert response.status_code == 302
    assert EmergencyAccess.objects.get().object_id == stranger.pk


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("record_number", "999999"),
        ("record_number", "not a number"),
        ("ni_number", "QQ123456"),
        ("email", "winifred"),
        ("phone", "0770"),
    ],
)
def test_no_exact_match_is_neutral_and_recorded(
    officer_client, signed_in_officer, stranger, dpo, kind, identifier
):
    response = _ask(officer_client, identifier_kind=kind, identifier=identifier)
    assert response.status_code == 200
    body = response.content.decode()
    assert NO_MATCH in body
    assert stranger.last_name not in body
    assert stranger.first_name not in body
    assert not EmergencyAccess.objects.exists()
    attempt = EmergencyAccessAttempt.objects.get()
    assert attempt.user == signed_in_officer
    assert attempt.outcome == EmergencyAccessAttempt.Outcome.NO_MATCH
    assert attempt.identifier_kind == kind
    assert mail.outbox == []


def test_identifier_shared_by_two_people_matches_nobody(officer_client, stranger, dpo):
    tenant_in_patch(PatchFactory(), email="winifred@mail.example")
    response = _ask(officer_client, identifier_kind="email", identifier="winifred@mail.example")
    assert NO_MATCH in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_a_record_already_in_scope_needs_no_emergency_access(
    officer_client, patch, dpo, django_capture_on_commit_callbacks
):
    own = tenant_in_patch(patch)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(officer_client, identifier=str(own.pk))
    assert response["Location"] == _person_url(own)
    assert not EmergencyAccess.objects.exists()
    assert EmergencyAccessAttempt.objects.get().outcome == "in_scope"
    assert mail.outbox == []


@pytest.mark.parametrize(
    "role", [Role.COMMITTEE_MEMBER, Role.TENANT, Role.SYSTEM_ADMINISTRATOR], ids=str
)
def test_only_staff_may_break_the_glass(client, login_as, stranger, role):
    login_as(role)
    assert client.get(START).status_code == 403
    response = _ask(client, identifier=str(stranger.pk))
    assert response.status_code == 403
    assert stranger.last_name not in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    assert not EmergencyAccessAttempt.objects.exists()


def test_the_service_refuses_non_staff(stranger):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.open_emergency_access(
            user=user_with_role(Role.COMMITTEE_MEMBER), target=stranger, reason="Curious."
        )
    assert not EmergencyAccess.objects.exists()


def test_access_ends_after_four_hours(officer_client, signed_in_officer, stranger):
    contact = ContactRecordFactory(person=stranger)
    started = timezone.now() - datetime.timedelta(hours=4, minutes=1)
    access = EmergencyAccessFactory(
        user=signed_in_officer,
        target=stranger,
        started_at=started,
        expires_at=started + datetime.timedelta(hours=4),
    )
    assert not access.is_live()
    assert officer_client.get(_person_url(stranger)).status_code == 404
    assert (
        officer_client.get(reverse("contact_record_detail", args=[contact.pk])).status_code == 404
    )
    # A minute earlier it still worked.
    access.expires_at = timezone.now() + datetime.timedelta(minutes=1)
    access.save()
    assert officer_client.get(_person_url(stranger)).status_code == 200


def test_dashboards_show_the_live_access_and_the_pending_review(client, officer, stranger, dpo):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(officer)
    body = client.get(reverse("dashboard")).content.decode()
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    assert "You are using emergency access to %s until %s." % (stranger, until) in body

    client.force_login(dpo)
    response = client.get(reverse("dashboard"))
    panel = next(p for p in response.context["panels"] if p.title == "Emergency access to review")
    assert panel.count == 1
    assert panel.urgent
    assert reverse("emergency_review_list") in response.content.decode()


def test_no_panels_for_other_users(client, login_as):
    login_as(Role.COMMITTEE_MEMBER)
    titles = [p.title for p in client.get(reverse("dashboard")).context["panels"]]
    assert "Emergency access to review" not in titles
    assert "You are using emergency access" not in titles


def test_review_shows_the_reads_during_the_window(client, officer, stranger, dpo):
    contact = ContactRecordFactory(person=stranger, subject="Welfare visit arranged")
    elsewhere = tenant_in_patch(PatchFactory(officers=[officer]), last_name="Ownpatchton")
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(officer)
    client.get(_person_url(stranger))
    client.get(reverse("contact_record_detail", args=[contact.pk]))
    client.get(_person_url(elsewhere))

    client.force_login(dpo)
    response = client.get(reverse("emergency_review_detail", args=[access.pk]))
    assert response.status_code == 200
    reads = list(response.context["reads"])
    assert {(r.content_type, r.object_pk) for r in reads} == {
        (ContentType.objects.get_for_model(stranger), str(stranger.pk)),
        (ContentType.objects.get_for_model(contact), str(contact.pk)),
    }
    body = response.content.decode()
    assert "Police at the door asking for a welfare check" in body
    assert "Ownpatchton" not in body


def test_reads_outside_the_window_are_not_listed(client, officer, stranger, dpo):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(officer)
    client.get(_person_url(stranger))
    access.started_at = timezone.now() + datetime.timedelta(minutes=1)
    access.save()
    assert list(services.reads_during(access)) == []


def test_dpo_marks_it_justified(client, officer, stranger, dpo):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(dpo)
    url = reverse("emergency_review_detail", args=[access.pk])

    response = client.post(url, {"action": "justified", "justified-notes": ""})
    assert "Enter why the use was justified." in response.content.decode()
    access.refresh_from_db()
    assert access.is_pending

    response = client.post(
        url, {"action": "justified", "justified-notes": "Police reference 4471 confirmed."}
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert access.review == EmergencyAccess.Review.JUSTIFIED
    assert access.reviewed_by == dpo
    assert access.review_notes == "Police reference 4471 confirmed."
    assert access.is_live()  # a justified access runs its course
    listing = client.get(reverse("emergency_review_list"))
    assert list(listing.context["pending"]) == []
    assert services.pending_reviews().count() == 0


def test_dpo_opens_a_breach(client, officer, stranger, dpo):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(dpo)
    response = client.post(
        reverse("emergency_review_detail", args=[access.pk]),
        {
            "action": "breach",
            "breach-summary": "Officer looked up a neighbour with no work reason.",
            "breach-notes": "Referred to HR.",
        },
    )
    assert response.status_code == 302
    breach = Breach.objects.get()
    assert breach.reported_by == dpo
    access.refresh_from_db()
    assert access.breach == breach
    assert access.review == EmergencyAccess.Review.BREACH
    assert not access.is_live()
    client.force_login(officer)
    assert client.get(_person_url(stranger)).status_code == 404


def test_a_reviewed_access_cannot_be_reviewed_again(client, officer, stranger, dpo):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    services.mark_emergency_access_justified(reviewer=dpo, access=access, notes="Fine.")
    client.force_login(dpo)
    response = client.post(
        reverse("emergency_review_detail", args=[access.pk]),
        {"action": "breach", "breach-summary": "Second thoughts."},
    )
    assert "already been reviewed" in response.content.decode()
    assert not Breach.objects.exists()


@pytest.mark.parametrize("role", [Role.SENIOR_OFFICER, Role.HOUSING_OFFICER], ids=str)
def test_only_the_dpo_reviews(client, login_as, officer, stranger, role):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    login_as(role)
    assert client.get(reverse("emergency_review_list")).status_code == 403
    url = reverse("emergency_review_detail", args=[access.pk])
    assert client.get(url).status_code == 403
    client.post(url, {"action": "justified", "justified-notes": "Looks fine to me."})
    access.refresh_from_db()
    assert access.is_pending


def test_review_list_shows_unmatched_attempts(client, officer_client, dpo, stranger):
    _ask(officer_client, identifier="424242")
    client.force_login(dpo)
    body = client.get(reverse("emergency_review_list")).content.decode()
    assert "Attempts that matched no record" in body
    assert "Record number 424242" in body


def test_review_list_queries_do_not_grow(client, dpo, queries_do_not_grow):
    client.force_login(dpo)

    def add_rows(n):
        for _ in range(n):
            access = EmergencyAccessFactory()
            EmergencyAccessAttempt.objects.create(
                user=access.user,
                identifier_kind="record_number",
                record_number=access.object_id,
                reason="x",
                outcome="no_match",
            )
            EmergencyAccessFactory(review=EmergencyAccess.Review.JUSTIFIED, reviewed_by=dpo)

    response = queries_do_not_grow(client, reverse("emergency_review_list"), add_rows)
    assert response.status_code == 200


def test_every_page_reminds_the_user_while_the_access_lasts(
    officer_client, signed_in_officer, stranger, patch
):
    access = EmergencyAccessFactory(user=signed_in_officer, target=stranger)
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    reminder = "You are using emergency access to %s until %s." % (stranger, until)
    urls = (
        _person_url(stranger),
        # A page about someone in the officer's own patch reads the grants for its policy, and
        # the banner answers from that read.
        _person_url(tenant_in_patch(patch)),
        reverse("person_search") + "?q=Elsewhereton",
        reverse("person_search"),
        reverse("tenancy_list"),
    )
    for url in urls:
        assert reminder in officer_client.get(url).content.decode(), url
    access.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    access.save()
    assert (
        "emergency access to" not in officer_client.get(reverse("person_search")).content.decode()
    )


def test_a_page_that_read_the_grants_does_not_ask_again_for_the_banner(officer_client, patch):
    url = _person_url(tenant_in_patch(patch))
    officer_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = officer_client.get(url)
    assert "emergency access to" not in response.content.decode()
    reads = [query["sql"] for query in queries if "access_emergencyaccess" in query["sql"]]
    # Once, in the policy's read of every grant; not again for the banner.
    assert len(reads) == 1 and "UNION" in reads[0]


def test_an_action_the_page_never_offers_is_refused_and_nothing_changes(
    client, officer, stranger, dpo
):
    access = EmergencyAccessFactory(user=officer, target=stranger)
    client.force_login(dpo)
    url = reverse("emergency_review_detail", args=[access.pk])
    for action in ("approve", "\x00", ""):
        response = client.post(url, {"action": action, "justified-notes": "Fine."})
        assert response.status_code == 400
        assert response.content.strip()
    access.refresh_from_db()
    assert access.is_pending
