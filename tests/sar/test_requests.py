"""Rights requests for staff: logging, the clock through the services (every change recorded),
the dashboard and its panel, the daily reminders, and who may reach a request."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from sar import clock
from sar.models import ClockStop, DueDateChange, SubjectAccessRequest
from sar.services import requests as services
from tests.factories import (
    AuthorisedRepresentativeFactory,
    MarkerFactory,
    PatchFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

Status = SubjectAccessRequest.Status
TODAY = timezone.localdate()
LIST = reverse("sar_request_list")
LOG = reverse("sar_request_log")


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def create(logged_by=None, **overrides) -> SubjectAccessRequest:
    values = {
        "logged_by": logged_by,
        "kind": "access",
        "channel": "letter",
        "person": None,
        "requester_name": "Rhoda Requester",
        "requester_email": "rhoda@mail.example",
        "requester_address": "",
        "details": "Everything about my repairs.",
        "date_from": None,
        "date_to": None,
        "received_on": days_ago(10),
        "identity_required": False,
        "identity_received_on": None,
    }
    values.update(overrides)
    return services.rights_request_create(**values)


def date_post(name: str, day: datetime.date) -> dict:
    return {"%s_0" % name: day.day, "%s_1" % name: day.month, "%s_2" % name: day.year}


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD)


# --- creating ----------------------------------------------------------------------------------


def test_create_numbers_the_request_and_starts_the_clock_from_receipt(dpo):
    first = create(dpo)
    second = create(dpo)
    year = TODAY.year
    assert first.reference == "SAR-%d-0001" % year
    assert second.reference == "SAR-%d-0002" % year
    assert first.status == Status.IN_PROGRESS
    assert first.due_date == clock.due_date(days_ago(10))
    change = first.due_date_changes.get()
    assert (change.old_due_date, change.new_due_date, change.reason) == (
        None,
        first.due_date,
        "Received",
    )


def test_a_portal_request_has_no_logger():
    request = create(None, channel="online")
    assert request.logged_by is None and request.channel == "online"


def test_identity_evidence_starts_the_clock_from_its_day(dpo):
    request = create(dpo, identity_required=True)
    assert request.status == Status.AWAITING_IDENTITY
    assert request.due_date is None
    services.identity_received(request=request, recorded_by=dpo, on=days_ago(3))
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.due_date == clock.due_date(days_ago(3))
    changes = list(request.due_date_changes.all())
    assert [c.new_due_date for c in changes] == [None, clock.due_date(days_ago(3))]
    assert changes[1].changed_by == dpo
    assert "Identity evidence received" in changes[1].reason


def test_identity_already_received_when_logged_runs_from_that_day(dpo):
    request = create(dpo, identity_required=True, identity_received_on=days_ago(5))
    assert request.status == Status.IN_PROGRESS
    assert request.due_date == clock.due_date(days_ago(5))
    assert request.due_date_changes.get().reason == "Identity evidence received"


def test_bad_input_saves_nothing(dpo):
    with pytest.raises(ValidationError) as error:
        create(
            dpo,
            requester_name=" ",
            requester_email="",
            details="",
            received_on=TODAY + datetime.timedelta(days=1),
        )
    assert set(error.value.error_dict) == {
        "requester_name",
        "requester_email",
        "details",
        "received_on",
    }
    assert not SubjectAccessRequest.objects.exists()
    assert not DueDateChange.objects.exists()


def test_representative_must_be_the_persons_and_current(dpo, patch):
    person = tenant_in_patch(patch)
    other = AuthorisedRepresentativeFactory()
    with pytest.raises(ValidationError):
        create(dpo, person=person, representative=other)
    lapsed = AuthorisedRepresentativeFactory(
        person=person, valid_from=days_ago(400), expires_on=days_ago(100)
    )
    with pytest.raises(ValidationError):
        create(dpo, person=person, representative=lapsed)
    current = AuthorisedRepresentativeFactory(person=person, valid_from=days_ago(400))
    assert create(dpo, person=person, representative=current).representative == current


# --- stopping and restarting -------------------------------------------------------------------


def test_stop_and_restart_add_the_days_stopped(dpo):
    request = create(dpo, received_on=days_ago(20))
    first_due = request.due_date
    services.clock_stop(request=request, stopped_by=dpo, on=days_ago(10), reason="Which years?")
    request.refresh_from_db()
    assert request.status == Status.CLOCK_STOPPED
    assert request.due_date == first_due  # not moved until the clock restarts
    services.clock_restart(request=request, restarted_by=dpo, on=days_ago(4))
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.due_date == clock.due_date(days_ago(20), days_stopped=6)
    changes = list(request.due_date_changes.all())
    assert len(changes) == 3
    assert "stopped" in changes[1].reason.lower()
    assert changes[2].old_due_date == first_due
    assert changes[2].new_due_date == request.due_date
    assert "6 days stopped" in changes[2].reason


def test_two_stops_add_up(dpo):
    request = create(dpo, received_on=days_ago(25))
    services.clock_stop(request=request, stopped_by=dpo, on=days_ago(20), reason="Which years?")
    services.clock_restart(request=request, restarted_by=dpo, on=days_ago(18))
    services.clock_stop(request=request, stopped_by=dpo, on=days_ago(10), reason="Which home?")
    services.clock_restart(request=request, restarted_by=dpo, on=days_ago(7))
    request.refresh_from_db()
    assert services.days_stopped(request) == 5
    assert request.due_date == clock.due_date(days_ago(25), days_stopped=5)


def test_only_one_open_stop_and_a_reason_is_needed(dpo):
    request = create(dpo)
    with pytest.raises(ValidationError):
        services.clock_stop(request=request, stopped_by=dpo, on=days_ago(2), reason="  ")
    services.clock_stop(request=request, stopped_by=dpo, on=days_ago(2), reason="Which years?")
    with pytest.raises(ValidationError):
        services.clock_stop(request=request, stopped_by=dpo, on=days_ago(1), reason="Again")
    assert ClockStop.objects.count() == 1
    with pytest.raises(ValidationError):
        services.clock_restart(request=request, restarted_by=dpo, on=days_ago(3))


def test_restart_without_a_stop_is_refused(dpo):
    with pytest.raises(ValidationError):
        services.clock_restart(request=create(dpo), restarted_by=dpo, on=TODAY)


def test_the_clock_cannot_stop_before_identity_arrives(dpo):
    request = create(dpo, identity_required=True)
    with pytest.raises(ValidationError):
        services.clock_stop(request=request, stopped_by=dpo, on=TODAY, reason="Which years?")


# --- extension ---------------------------------------------------------------------------------


def test_extension_in_the_first_month_with_a_reason(dpo):
    request = create(dpo, received_on=days_ago(10))
    old = request.due_date
    services.extend(
        request=request, extended_by=dpo, months=2, reason="Twenty years of files", told_on=TODAY
    )
    request.refresh_from_db()
    assert request.extension_months == 2
    assert request.extension_told_on == TODAY
    assert request.due_date == clock.due_date(days_ago(10), extension_months=2)
    change = request.due_date_changes.last()
    assert (change.old_due_date, change.new_due_date) == (old, request.due_date)
    assert "Twenty years of files" in change.reason
    with pytest.raises(ValidationError):  # two months at most in all
        services.extend(request=request, extended_by=dpo, months=1, reason="More", told_on=TODAY)


def test_extension_needs_a_reason_and_a_told_date(dpo):
    request = create(dpo)
    with pytest.raises(ValidationError) as error:
        services.extend(request=request, extended_by=dpo, months=1, reason="", told_on=None)
    assert set(error.value.error_dict) == {"reason", "told_on"}
    request.refresh_from_db()
    assert request.extension_months == 0
    assert request.due_date_changes.count() == 1


def test_no_extension_after_the_first_month(dpo):
    request = create(dpo, received_on=days_ago(45))
    with pytest.raises(ValidationError, match="first month"):
        services.extend(request=request, extended_by=dpo, months=1, reason="Big", told_on=TODAY)
    request.refresh_from_db()
    assert request.extension_months == 0


# --- completing --------------------------------------------------------------------------------


def test_complete_and_refuse_record_the_outcome(dpo):
    done = create(dpo, kind="rectification")
    services.complete(request=done, completed_by=dpo, outcome="Corrected the date of birth.")
    done.refresh_from_db()
    assert (done.status, done.completed_on) == (Status.COMPLETED, TODAY)
    assert done.outcome == "Corrected the date of birth."
    refused = create(dpo, kind="erasure")
    with pytest.raises(ValidationError):
        services.complete(request=refused, completed_by=dpo, outcome=" ", refused=True)
    services.complete(
        request=refused, completed_by=dpo, outcome="Rent account kept: legal duty.", refused=True
    )
    refused.refresh_from_db()
    assert refused.status == Status.REFUSED
    with pytest.raises(ValidationError):  # closed
        services.clock_stop(request=refused, stopped_by=dpo, on=TODAY, reason="x")


def test_assigning_needs_a_handler_role(dpo):
    request = create(dpo)
    officer = user_with_role(Role.HOUSING_OFFICER)
    with pytest.raises(ValidationError):
        services.assign_handler(request=request, assigned_by=officer, handler=officer)
    services.assign_handler(request=request, assigned_by=dpo, handler=officer)
    request.refresh_from_db()
    assert request.handler == officer


# --- the dashboard -----------------------------------------------------------------------------


def _due(days: int, **kwargs):
    """A running request due `days` calendar days from today (negative: overdue)."""
    return SubjectAccessRequestFactory(
        due_date=TODAY + datetime.timedelta(days=days), received_on=days_ago(20), **kwargs
    )


def test_dashboard_lists_overdue_first_in_constant_queries(client, dpo):
    later = _due(25, requester_name="Later Person")
    overdue = _due(-3, requester_name="Overdue Person")
    waiting = SubjectAccessRequestFactory(status=Status.AWAITING_IDENTITY, identity_required=True)
    soon = _due(2)
    client.force_login(dpo)
    client.get(LIST)  # warm the session and the role cache
    few = _count_queries(client)
    for _ in range(3):
        _due(40, handler=user_with_role(Role.HOUSING_OFFICER))
    assert _count_queries(client) == few
    body = client.get(LIST).content.decode()
    positions = [body.index(r.reference) for r in (overdue, soon, later, waiting)]
    assert positions == sorted(positions)
    assert "Overdue by" in body
    assert "1 request overdue" in body


def _count_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST).status_code == 200
    return len(captured)


def test_panel_counts_open_and_overdue_and_is_urgent(dpo):
    _due(30)
    panel = services.rights_requests_panel(dpo)
    assert (panel.count, panel.urgent) == (1, False)
    _due(-1)
    panel = services.rights_requests_panel(dpo)
    assert (panel.count, panel.urgent) == (2, True)
    assert "1 overdue" in panel.description


def test_panel_is_urgent_when_due_within_five_working_days(dpo):
    _due(1)
    assert services.rights_requests_panel(dpo).urgent


def test_panel_for_staff_without_requests_is_absent():
    _due(-1)
    assert services.rights_requests_panel(user_with_role(Role.HOUSING_OFFICER)) is None
    assert services.rights_requests_panel(user_with_role(Role.COMMITTEE_MEMBER)) is None


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_go_to_handler_and_leads_once_a_day(dpo):
    handler = user_with_role(Role.HOUSING_OFFICER)
    inactive_lead = user_with_role(Role.DATA_PROTECTION_LEAD, is_active=False)
    near = _due(1, handler=handler, requester_name="Nina Nearly")
    late = _due(-4, requester_name="Larry Late")
    far = _due(40, handler=handler)
    services.send_due_reminders.enqueue()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {handler.email, dpo.email}
    assert inactive_lead.email not in by_recipient
    assert near.reference in by_recipient[handler.email].body
    assert late.reference not in by_recipient[handler.email].body
    lead_body = by_recipient[dpo.email].body
    assert near.reference in lead_body and late.reference in lead_body
    assert "OVERDUE" in lead_body
    assert far.reference not in lead_body
    for message in mail.outbox:
        assert "Nina" not in message.body and "Larry" not in message.body
        assert near.requester_email not in message.body
    near.refresh_from_db()
    assert near.last_reminder_on == TODAY
    mail.outbox.clear()
    services.send_due_reminders.enqueue()
    call_command("sar_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert mail.outbox == []


def test_reminders_skip_stopped_and_closed_requests(dpo):
    _due(-2, status=Status.CLOCK_STOPPED)
    _due(-2, status=Status.COMPLETED, completed_on=TODAY)
    services.send_due_reminders.enqueue()
    assert mail.outbox == []


# --- pages and access --------------------------------------------------------------------------


def test_staff_log_a_letter_request_about_a_person(client, patch, officer):
    person = tenant_in_patch(patch, first_name="Tessa", last_name="Tenant")
    MarkerFactory(person=person, kind="safe_address")
    client.force_login(officer)
    found = client.get(LOG, {"q": "Tenant"}).content.decode()
    assert "Tessa Tenant" in found
    page = client.get(LOG, {"person": person.pk}).content.decode()
    assert "About Tessa Tenant" in page and "Safe address" in page
    data = {
        "person": person.pk,
        "kind": "access",
        "channel": "letter",
        "requester_name": "Tessa Tenant",
        "requester_email": "",
        "requester_address": "1 Weaver Court",
        "details": "Copies of my repair reports.",
        "identity_required": "no",
        **date_post("received_on", days_ago(2)),
    }
    response = client.post(LOG, data)
    request = SubjectAccessRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sar_request_detail", args=[request.pk])
    assert (request.person, request.logged_by, request.handler) == (person, officer, officer)
    assert request.channel == "letter"
    assert request.due_date == clock.due_date(days_ago(2))


def test_log_form_errors_save_nothing(client, officer):
    client.force_login(officer)
    response = client.post(LOG, {"person": "none", "identity_required": "no"})
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "Enter the name of the person making the request" in body
    assert not SubjectAccessRequest.objects.exists()


def test_log_cannot_choose_a_person_outside_scope(client, officer):
    outsider = tenant_in_patch(PatchFactory())
    client.force_login(officer)
    response = client.get(LOG, {"person": outsider.pk})
    assert response.status_code == 302 and response["Location"] == LOG


def test_detail_shows_the_clock_and_is_audited(client, dpo):
    from auditlog.models import LogEntry

    request = create(dpo, received_on=days_ago(20), requester_name="Petra Private")
    services.clock_stop(request=request, stopped_by=dpo, on=days_ago(10), reason="Which years?")
    client.force_login(dpo)
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    body = client.get(reverse("sar_request_detail", args=[request.pk])).content.decode()
    assert "Petra Private" in body
    assert "Which years?" in body and "Restart the clock" in body
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 1


def test_actions_through_the_pages(client, dpo):
    request = create(dpo, received_on=days_ago(5), kind="erasure")
    client.force_login(dpo)
    url = lambda name: reverse(name, args=[request.pk])  # noqa: E731
    response = client.post(url("sar_request_stop"), {**date_post("on", TODAY), "reason": ""})
    assert response.status_code == 400
    assert "Enter the clarification you are waiting for" in response.content.decode()
    assert not ClockStop.objects.exists()
    client.post(url("sar_request_stop"), {**date_post("on", days_ago(3)), "reason": "Which?"})
    client.post(url("sar_request_restart"), date_post("on", days_ago(1)))
    client.post(
        url("sar_request_extend"),
        {"months": "1", "reason": "Many files", **date_post("told_on", TODAY)},
    )
    response = client.post(
        url("sar_request_complete"), {"result": "completed", "outcome": "Erased the old email."}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.extension_months == 1
    assert request.due_date == clock.due_date(days_ago(5), extension_months=1, days_stopped=2)
    assert request.due_date_changes.count() == 4
    assert client.get(url("sar_request_stop")).status_code == 302  # GET changes nothing


def test_other_staff_cannot_reach_a_request(client, dpo):
    request = create(dpo, requester_name="Secret Sam")
    services.assign_handler(
        request=request, assigned_by=dpo, handler=user_with_role(Role.HOUSING_OFFICER)
    )
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(reverse("sar_request_detail", args=[request.pk])).status_code == 404
    for name in ("sar_request_stop", "sar_request_extend", "sar_request_complete"):
        response = client.post(reverse(name, args=[request.pk]), {"reason": "x"})
        assert response.status_code == 404
    assert client.post(reverse("sar_request_assign", args=[request.pk])).status_code == 403
    body = client.get(LIST).content.decode()
    assert "Secret Sam" not in body and request.reference not in body
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_the_handler_sees_their_request(client, dpo):
    handler = user_with_role(Role.HOUSING_OFFICER)
    request = create(dpo, handler=handler)
    client.force_login(handler)
    assert request.reference in client.get(LIST).content.decode()
    assert client.get(reverse("sar_request_detail", args=[request.pk])).status_code == 200


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.TENANT, Role.SYSTEM_ADMINISTRATOR])
def test_non_staff_are_refused(client, dpo, role):
    request = create(dpo, requester_name="Secret Sam")
    client.force_login(user_with_role(role))
    for url in (LIST, LOG, reverse("sar_request_detail", args=[request.pk])):
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert "Secret Sam" not in response.content.decode()
