"""The breach log: reporting, escalation, the 72-hour clock and its alerts, each step of the
record, outcomes under the confidentiality code, and who may see any of it.

Times are frozen by passing `now=` to the services; nothing sleeps. The immediate task backend
cannot defer, so the deferred tasks are checked by calling what they call, and their scheduling
with the database backend."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from access.dashboard import panels_for
from access.models import Breach, BreachOutcome, BreachSubject, EmergencyAccess
from access.roles import Role
from access.services import breaches as services
from access.services import emergency as emergency_services
from access.services import grants
from records.models import Person
from tests.access.matrix_world import BREACH_STEP_URLS
from tests.factories import (
    EmergencyAccessFactory,
    PatchFactory,
    PersonFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

CANARY = "CANARY-BREACH-WHAT-HAPPENED"
AWARE = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
HOUR = datetime.timedelta(hours=1)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD, email="dpo@tmo.example")


@pytest.fixture
def senior():
    return user_with_role(Role.SENIOR_OFFICER, email="senior@tmo.example")


@pytest.fixture
def reporter():
    return user_with_role(Role.HOUSING_OFFICER, email="reporter@tmo.example")


def report(reporter, now=AWARE, **kwargs):
    kwargs.setdefault("summary", "An email with a tenant's details went to the wrong contractor.")
    return services.report_breach(reported_by=reporter, now=now, **kwargs)


def opened(reporter, dpo, now=AWARE, **kwargs):
    breach = report(reporter, now=now, **kwargs)
    return services.acknowledge_breach(
        user=dpo, breach=breach, decision=services.Triage.OPEN, now=now + HOUR
    )


def sent_to(address):
    return [message for message in mail.outbox if address in message.to]


# --- reporting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.REPAIRS_OFFICER,
        Role.FINANCE_OFFICER,
        Role.HR_OFFICER,
        Role.CONTRACTS_OFFICER,
        Role.SENIOR_OFFICER,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
    ],
    ids=str,
)
def test_anyone_signed_in_reports_and_the_dpo_hears_at_once(
    client, login_as, dpo, role, django_capture_on_commit_callbacks
):
    user = login_as(role)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("breach_report") in page  # the footer link, on every page
    assert client.get(reverse("breach_report")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("breach_report"),
            {"summary": CANARY, "became_aware_at": "", "occurred_at": ""},
        )
    assert response.status_code == 302
    breach = Breach.objects.get()
    assert breach.reported_by == user
    assert breach.status == Breach.Status.REPORTED
    assert breach.kind == Breach.Kind.REPORTED
    assert breach.became_aware_at is not None
    assert breach.deadline == breach.became_aware_at + datetime.timedelta(hours=72)
    [message] = sent_to("dpo@tmo.example")
    assert "#%s" % breach.pk in message.subject
    assert reverse("breach_detail", args=[breach.pk]) in message.body
    # What happened stays in the system: mail leaves it.
    assert CANARY not in message.subject + message.body


def test_an_empty_report_is_refused_and_nothing_saved(client, login_as, dpo):
    login_as(Role.REPAIRS_OFFICER)
    response = client.post(reverse("breach_report"), {"summary": "   "})
    assert response.status_code == 200
    assert "Enter what happened" in response.content.decode()
    assert not Breach.objects.exists()
    assert mail.outbox == []


def test_a_resident_uses_the_portal_not_the_staff_form(client, login_as):
    login_as(Role.TENANT)
    assert client.get(reverse("breach_report")).status_code == 403
    page = client.get(reverse("portal_home")).content.decode()
    assert reverse("portal_data_problem") in page
    assert reverse("breach_report") not in page


def test_with_no_dpo_the_report_goes_to_the_senior_officers(
    reporter, senior, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report(reporter)
    assert len(sent_to("senior@tmo.example")) == 1


def test_a_dpo_reporting_needs_no_acknowledgement(dpo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        breach = report(dpo, how_reported=Breach.HowReported.PHONE)
    assert breach.status == Breach.Status.OPEN
    assert breach.acknowledged_by == dpo
    assert breach.how_reported == Breach.HowReported.PHONE
    assert mail.outbox == []


def test_found_out_earlier_starts_the_clock_earlier(reporter):
    breach = report(reporter, now=AWARE + 5 * HOUR, became_aware_at=AWARE)
    assert breach.deadline == AWARE + 72 * HOUR
    with pytest.raises(ValidationError):
        report(reporter, now=AWARE, became_aware_at=AWARE + HOUR)


# --- escalation ------------------------------------------------------------------------------


def test_an_unacknowledged_report_is_escalated_once_after_four_hours(reporter, dpo, senior):
    breach = report(reporter)
    mail.outbox.clear()
    assert (
        services.escalate_unacknowledged(now=AWARE + 4 * HOUR - datetime.timedelta(minutes=1)) == 0
    )
    assert mail.outbox == []
    assert services.escalate_unacknowledged(now=AWARE + 4 * HOUR) == 1
    [message] = sent_to("senior@tmo.example")
    assert "#%s" % breach.pk in message.subject
    assert "4 hours" in message.body
    assert services.escalate_unacknowledged(now=AWARE + 5 * HOUR) == 0
    assert len(mail.outbox) == 1
    breach.refresh_from_db()
    assert breach.escalated_at == AWARE + 4 * HOUR
    assert (
        LogEntry.objects.get_for_object(breach)
        .filter(additional_data__event="breach_escalated")
        .exists()
    )


def test_the_deferred_escalation_task_does_the_same_and_respects_the_time(reporter, senior):
    breach = report(reporter)
    assert services.escalate_breach(breach.pk, now=AWARE + 3 * HOUR) is False
    assert services.escalate_breach(breach.pk, now=AWARE + 4 * HOUR) is True
    assert services.escalate_breach(breach.pk, now=AWARE + 4 * HOUR) is False


def test_an_acknowledged_report_is_not_escalated(reporter, dpo, senior):
    opened(reporter, dpo)
    assert services.escalate_unacknowledged(now=AWARE + 10 * HOUR) == 0
    assert sent_to("senior@tmo.example") == []


def test_the_acknowledgement_time_is_a_setting(reporter, senior, settings):
    settings.BREACH_ACKNOWLEDGE_HOURS = 1
    report(reporter)
    assert services.escalate_unacknowledged(now=AWARE + HOUR) == 1


def test_the_daily_jobs_include_the_breach_check_and_it_catches_what_was_missed(
    reporter, dpo, senior, settings
):
    assert "access.services.breaches.daily_breach_check" in settings.DAILY_JOBS
    report(reporter)
    mail.outbox.clear()
    summary = import_string("access.services.breaches.daily_breach_check")(now=AWARE + 50 * HOUR)
    assert summary == "breaches: 1 escalated, 1 clock alerts"
    assert "senior@tmo.example" in {address for m in mail.outbox for address in m.to}


def test_tasks_are_deferred_where_the_backend_can_wait(
    reporter, dpo, django_capture_on_commit_callbacks
):
    with override_settings(TASKS=DB_TASKS):
        with django_capture_on_commit_callbacks(execute=True):
            breach = report(reporter, now=AWARE)
        rows = DBTaskResult.objects.filter(args_kwargs__args=[breach.pk])
        by_path = sorted((row.task_path.rsplit(".", 1)[1], row.run_after) for row in rows)
    assert by_path == [
        ("breach_clock_alert_task", AWARE + 48 * HOUR),
        ("breach_clock_alert_task", AWARE + 60 * HOUR),
        ("breach_clock_alert_task", AWARE + 70 * HOUR),
        ("breach_clock_alert_task", AWARE + 72 * HOUR),
        ("escalate_breach_task", AWARE + 4 * HOUR),
    ]


# --- the 72-hour clock -----------------------------------------------------------------------


def test_the_clock_counts_down_from_awareness_and_goes_red_when_overdue(reporter, dpo):
    breach = opened(reporter, dpo)
    assert breach.clock(AWARE + 10 * HOUR).label == "62 hours left"
    assert breach.clock(AWARE + 10 * HOUR).running
    assert not breach.clock(AWARE + 10 * HOUR).overdue
    assert breach.clock(AWARE + 71.5 * HOUR).label == "Less than an hour left"
    late = breach.clock(AWARE + 75 * HOUR)
    assert late.overdue and late.label == "Overdue by 3 hours"


def test_alerts_at_24_12_and_2_hours_left_then_at_the_deadline(reporter, dpo, senior):
    breach = opened(reporter, dpo)
    mail.outbox.clear()
    assert services.send_clock_alerts(now=AWARE + 47 * HOUR) == 0
    assert services.send_clock_alerts(now=AWARE + 48 * HOUR) == 1
    [first] = mail.outbox
    assert first.to == ["dpo@tmo.example"]
    assert "24 hours left" in first.subject
    assert services.send_clock_alerts(now=AWARE + 49 * HOUR) == 0  # once per threshold
    assert services.send_clock_alert(breach.pk, now=AWARE + 60 * HOUR) == 12
    mail.outbox.clear()
    assert services.send_clock_alert(breach.pk, now=AWARE + 70 * HOUR) == 2
    # Two hours from the deadline the senior officers hear too.
    assert {m.to[0] for m in mail.outbox} == {"dpo@tmo.example", "senior@tmo.example"}
    mail.outbox.clear()
    assert services.send_clock_alert(breach.pk, now=AWARE + 72 * HOUR) == 0
    assert "have run out" in mail.outbox[0].subject
    breach.refresh_from_db()
    assert breach.alerts_sent == [24, 12, 2, 0]


def test_a_late_run_sends_one_alert_not_a_burst(reporter, dpo):
    breach = opened(reporter, dpo)
    mail.outbox.clear()
    assert services.send_clock_alerts(now=AWARE + 71 * HOUR) == 1
    assert len(mail.outbox) == 1
    assert "2 hours left" in mail.outbox[0].subject
    breach.refresh_from_db()
    assert breach.alerts_sent == [24, 12, 2]


def test_no_alerts_once_the_ico_decision_is_recorded(reporter, dpo):
    breach = opened(reporter, dpo)
    services.record_ico_decision(
        user=dpo,
        breach=breach,
        decision=Breach.IcoDecision.NOT_REPORTABLE,
        reasons="The file was encrypted and the key not lost.",
        now=AWARE + 5 * HOUR,
    )
    mail.outbox.clear()
    assert services.send_clock_alerts(now=AWARE + 71 * HOUR) == 0
    assert mail.outbox == []
    breach.refresh_from_db()
    assert breach.clock(AWARE + 80 * HOUR).label == "Not reportable to the ICO"


def test_a_decision_to_report_keeps_the_clock_running_until_it_is_sent(reporter, dpo):
    breach = opened(reporter, dpo)
    services.record_ico_decision(
        user=dpo, breach=breach, decision=Breach.IcoDecision.REPORTABLE, now=AWARE + 2 * HOUR
    )
    assert services.send_clock_alerts(now=AWARE + 48 * HOUR) == 1


def test_reporting_after_72_hours_needs_the_reasons_for_the_delay(reporter, dpo):
    breach = opened(reporter, dpo)
    with pytest.raises(ValidationError) as refused:
        services.record_ico_decision(
            user=dpo,
            breach=breach,
            decision=Breach.IcoDecision.REPORTED,
            reference="ICO/00123",
            reported_at=AWARE + 80 * HOUR,
            now=AWARE + 81 * HOUR,
        )
    assert "reasons for the delay" in str(refused.value)
    breach.refresh_from_db()
    assert breach.ico_decision == Breach.IcoDecision.UNDECIDED
    services.record_ico_decision(
        user=dpo,
        breach=breach,
        decision=Breach.IcoDecision.REPORTED,
        reference="ICO/00123",
        reported_at=AWARE + 80 * HOUR,
        late_reasons="The contractor only confirmed what it received on day four.",
        now=AWARE + 81 * HOUR,
    )
    breach.refresh_from_db()
    assert breach.ico_reference == "ICO/00123"
    assert breach.clock(AWARE + 90 * HOUR).label == "Reported to the ICO late"


def test_in_time_needs_no_delay_reasons(reporter, dpo):
    breach = opened(reporter, dpo)
    services.record_ico_decision(
        user=dpo,
        breach=breach,
        decision=Breach.IcoDecision.REPORTED,
        reference="ICO/00124",
        reported_at=AWARE + 30 * HOUR,
        now=AWARE + 31 * HOUR,
    )
    breach.refresh_from_db()
    assert breach.clock(AWARE + 31 * HOUR).label == "Reported to the ICO in time"


def test_not_reporting_needs_the_reasons(reporter, dpo):
    breach = opened(reporter, dpo)
    with pytest.raises(ValidationError):
        services.record_ico_decision(
            user=dpo, breach=breach, decision=Breach.IcoDecision.NOT_REPORTABLE, reasons=" "
        )


def test_the_hours_left_show_on_the_list_the_detail_the_dashboard_and_the_dpo_banner(
    client, reporter, dpo, senior
):
    breach = opened(reporter, dpo, now=timezone.now() - 30 * HOUR)
    client.force_login(dpo)
    expected = breach.clock().label
    assert expected in ("41 hours left", "42 hours left")
    for url in (reverse("breach_list"), reverse("breach_detail", args=[breach.pk])):
        assert expected in client.get(url).content.decode(), url
    home = client.get(reverse("dashboard")).content.decode()
    assert "Breach #%s" % breach.pk in home
    assert expected.lower() in home
    # The banner, on any page, for the DPO.
    page = client.get(reverse("person_search")).content.decode()
    assert "app-breach-banner" in page
    assert "Breach #%s</a>: %s" % (breach.pk, expected.lower()) in page
    client.force_login(senior)
    assert "app-breach-banner" not in client.get(reverse("person_search")).content.decode()
    client.force_login(reporter)
    page = client.get(reverse("dashboard")).content.decode()
    assert "app-breach-banner" not in page
    assert "Breach #%s" % breach.pk not in page


def test_an_overdue_breach_is_red(client, reporter, dpo):
    breach = opened(reporter, dpo, now=timezone.now() - 80 * HOUR)
    client.force_login(dpo)
    body = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "govuk-tag--red app-breach-clock" in body
    assert "Overdue by" in body
    banner = client.get(reverse("dashboard")).content.decode()
    assert "app-breach-overdue" in banner


# --- the record, step by step through the pages --------------------------------------------


def test_the_dpo_records_every_step_and_closes(
    client, reporter, dpo, django_capture_on_commit_callbacks
):
    person = PersonFactory(last_name="Affectedperson")
    breach = report(reporter, now=timezone.now() - 2 * HOUR)
    client.force_login(dpo)

    def post(name, data):
        response = client.post(reverse(name, args=[breach.pk]), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"] == reverse("breach_detail", args=[breach.pk])

    post("breach_acknowledge", {"decision": "open", "notes": ""})
    aware = timezone.localtime(breach.became_aware_at).strftime("%d/%m/%Y %H:%M")
    post(
        "breach_edit",
        {
            "summary": CANARY,
            "became_aware_at": aware,
            "occurred_at": "",
            "data_description": "Phone number and access notes.",
            "data_categories": ["records.person", "records.tenancy"],
            "approx_people": "1",
            "approx_records": "2",
            "source_details": "",
        },
    )
    response = client.get(reverse("breach_people", args=[breach.pk]), {"q": "Affectedperson"})
    assert "Affectedperson" in response.content.decode()
    client.post(reverse("breach_people", args=[breach.pk]), {"action": "add", "person": person.pk})
    post("breach_risk", {"likelihood": "likely", "severity": "severe", "notes": "Key safe code."})
    post("breach_containment", {"containment": "Email recalled and deleted.", "recovery": ""})
    post(
        "breach_ico",
        {
            "decision": "reported",
            "reference": "ICO/7788",
            "reported_at": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
        },
    )
    # A high risk: closing waits for the people affected to be told.
    detail = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "record whether the people affected were told" in detail
    response = client.post(reverse("breach_close", args=[breach.pk]), {"lessons_learned": "x"})
    assert response.status_code == 200
    post(
        "breach_notify",
        {
            "decision": "told",
            "told_at": timezone.localtime().strftime("%d/%m/%Y %H:%M"),
            "how": "Phoned, then a letter.",
        },
    )
    post("breach_close", {"lessons_learned": "Check the contractor's address before sending."})

    breach.refresh_from_db()
    assert breach.status == Breach.Status.CLOSED
    assert breach.summary == CANARY
    assert breach.data_categories == ["records.person", "records.tenancy"]
    assert breach.risk_level == Breach.RiskLevel.HIGH
    assert breach.ico_reference == "ICO/7788"
    assert breach.people_told == Breach.PeopleTold.TOLD
    assert breach.closed_by == dpo
    assert list(breach.subjects.values_list("object_id", flat=True)) == [person.pk]
    events = set(
        LogEntry.objects.get_for_object(breach)
        .exclude(additional_data__isnull=True)
        .values_list("additional_data__event", flat=True)
    )
    assert {
        "breach_reported",
        "breach_acknowledged",
        "breach_details_recorded",
        "breach_subject_added",
        "breach_risk_assessed",
        "breach_contained",
        "breach_ico_decision",
        "breach_people_told",
        "breach_closed",
    } <= events
    # The history page reads those events back in words.
    detail = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "Decision on telling the ICO recorded" in detail
    # And what happened is kept out of the audit log's field changes.
    assert CANARY not in str(list(LogEntry.objects.get_for_object(breach).values("changes")))


def test_bad_input_changes_nothing(client, reporter, dpo):
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    client.force_login(dpo)
    response = client.post(
        reverse("breach_edit", args=[breach.pk]),
        {
            "summary": "Changed",
            "became_aware_at": "",
            "data_categories": ["records.nosuchthing"],
        },
    )
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    breach.refresh_from_db()
    assert breach.summary != "Changed"


def test_unknown_map_labels_are_refused_by_the_service(reporter, dpo):
    breach = opened(reporter, dpo)
    with pytest.raises(ValidationError):
        services.update_breach_details(
            user=dpo,
            breach=breach,
            summary="x",
            occurred_at=None,
            became_aware_at=AWARE,
            data_description="",
            data_categories=["records.nosuchthing"],
            approx_people=None,
            approx_records=None,
            now=AWARE + 2 * HOUR,
        )


def test_moving_awareness_moves_the_clock_and_its_alerts(reporter, dpo):
    breach = opened(reporter, dpo)
    services.send_clock_alert(breach.pk, now=AWARE + 48 * HOUR)
    breach.refresh_from_db()
    services.update_breach_details(
        user=dpo,
        breach=breach,
        summary=breach.summary,
        occurred_at=None,
        became_aware_at=AWARE + 10 * HOUR,
        data_description="",
        data_categories=[],
        approx_people=None,
        approx_records=None,
        now=AWARE + 48 * HOUR,
    )
    breach.refresh_from_db()
    assert breach.deadline == AWARE + 82 * HOUR
    assert breach.alerts_sent == []
    assert services.send_clock_alert(breach.pk, now=AWARE + 58 * HOUR) == 24


def test_high_risk_not_told_needs_an_art_34_exception(reporter, dpo):
    breach = opened(reporter, dpo)
    services.assess_breach_risk(
        user=dpo, breach=breach, likelihood="likely", severity="significant", notes="Health data."
    )
    with pytest.raises(ValidationError) as refused:
        services.record_people_told(user=dpo, breach=breach, decision="not_told", reasons="")
    assert "Art. 34(3)" in str(refused.value)


def test_a_report_that_is_not_a_breach_is_closed_with_its_reasons(reporter, dpo):
    breach = report(reporter)
    with pytest.raises(ValidationError):
        services.acknowledge_breach(user=dpo, breach=breach, decision="not_a_breach", notes="")
    services.acknowledge_breach(
        user=dpo, breach=breach, decision="not_a_breach", notes="The email went to our own team."
    )
    breach.refresh_from_db()
    assert breach.status == Breach.Status.NOT_A_BREACH
    assert not breach.clock_is_running()
    assert services.send_clock_alerts(now=AWARE + 70 * HOUR) == 0


def test_only_the_dpo_takes_the_steps(reporter, dpo, senior):
    breach = report(reporter)
    with pytest.raises(PermissionDenied):
        services.acknowledge_breach(user=senior, breach=breach, decision="open")
    with pytest.raises(PermissionDenied):
        services.acknowledge_breach(user=reporter, breach=breach, decision="open")


# --- outcomes under the confidentiality code ------------------------------------------------


def test_removing_a_committee_member_takes_their_access_away(
    client, dpo, senior, patch_and_officer
):
    patch, officer = patch_and_officer
    person = tenant_in_patch(patch, first_name="Grainne", last_name="Grantedperson")
    member = user_with_role(Role.COMMITTEE_MEMBER, first_name="Mo", last_name="Member")
    request = grants.committee_access_request(
        requested_by=officer,
        decision="Item 4: transfer",
        reason="The committee decides transfers.",
        members=[member],
        items=[("records.person", person.pk)],
    )
    grant = grants.committee_access_approve(decided_by=senior, request=request, reason="Needed.")
    client.force_login(member)
    assert "Grantedperson" in client.get(reverse("committee_papers")).content.decode()

    breach = report(member, summary="I showed the transfer papers to my neighbour.")
    services.acknowledge_breach(user=dpo, breach=breach, decision="open")
    client.force_login(dpo)
    response = client.post(
        reverse("breach_outcome", args=[breach.pk]),
        {"kind": "committee_removal", "user": member.pk, "notes": "Agreed by the board chair."},
    )
    assert response.status_code == 302

    member.refresh_from_db()
    assert not member.groups.filter(name=Role.COMMITTEE_MEMBER).exists()
    assert not grant.members.filter(pk=member.pk).exists()
    assert not Person.objects.visible_to(member).filter(pk=person.pk).exists()
    client.force_login(member)
    response = client.get(reverse("committee_papers"))
    assert response.status_code == 403
    assert "Grantedperson" not in response.content.decode()

    outcome = BreachOutcome.objects.get()
    assert outcome.kind == BreachOutcome.Kind.COMMITTEE_REMOVAL
    assert outcome.user == member
    assert outcome.decided_by == dpo
    assert (
        LogEntry.objects.get_for_object(breach)
        .filter(additional_data__event="committee_member_removed")
        .exists()
    )
    assert (
        LogEntry.objects.get_for_object(grant)
        .filter(additional_data__event="committee_member_removed")
        .exists()
    )
    client.force_login(dpo)
    detail = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "Removed from the committee" in detail


def test_a_staff_member_is_referred_for_discipline_with_date_and_referee(client, reporter, dpo):
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    client.force_login(dpo)
    url = reverse("breach_outcome", args=[breach.pk])
    response = client.post(url, {"kind": "disciplinary_referral", "user": reporter.pk})
    assert response.status_code == 200
    assert "Enter who it was referred to." in response.content.decode()
    assert not BreachOutcome.objects.exists()
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "kind": "disciplinary_referral",
            "user": reporter.pk,
            "referred_to": "Jo Bloggs, HR manager",
            "referred_on": today.strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 302
    outcome = BreachOutcome.objects.get()
    assert (outcome.referred_to, outcome.referred_on, outcome.decided_by) == (
        "Jo Bloggs, HR manager",
        today,
        dpo,
    )


def test_a_committee_member_cannot_be_referred_as_staff_nor_staff_removed_from_the_committee(
    reporter, dpo
):
    member = user_with_role(Role.COMMITTEE_MEMBER)
    breach = opened(reporter, dpo)
    with pytest.raises(ValidationError):
        services.refer_for_discipline(
            user=dpo,
            breach=breach,
            staff_member=member,
            referred_to="HR",
            referred_on=timezone.localdate(),
        )
    with pytest.raises(ValidationError):
        services.remove_from_committee(user=dpo, breach=breach, member=reporter)
    with pytest.raises(ValidationError):
        services.refer_for_discipline(
            user=dpo, breach=breach, staff_member=dpo, referred_to="HR", referred_on=None
        )


# --- the emergency review still opens breaches ----------------------------------------------


def test_a_misused_emergency_access_opens_a_breach_about_the_user_and_the_person(dpo):
    person = tenant_in_patch(PatchFactory())
    access = EmergencyAccessFactory(target=person)
    breach = emergency_services.open_breach_for_emergency_access(
        reviewer=dpo, access=access, summary="Looked up a neighbour."
    )
    assert breach.kind == Breach.Kind.EMERGENCY_MISUSE
    assert breach.status == Breach.Status.OPEN
    assert breach.concerns_user == access.user
    assert breach.acknowledged_by == dpo
    assert [s.content_object for s in breach.subjects.all()] == [person]
    assert EmergencyAccess.objects.get(pk=access.pk).breach == breach


# --- who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.REPAIRS_OFFICER,
        Role.FINANCE_OFFICER,
        Role.HR_OFFICER,
        Role.CONTRACTS_OFFICER,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
        Role.TENANT,
    ],
    ids=str,
)
def test_others_get_403_and_never_the_details(client, login_as, reporter, dpo, role):
    breach = opened(reporter, dpo, summary=CANARY, now=timezone.now() - HOUR)
    login_as(role)
    urls = [reverse("breach_list"), reverse("breach_detail", args=[breach.pk])]
    urls += [reverse(name, args=[breach.pk]) for name in BREACH_STEP_URLS]
    for url in urls:
        for response in (client.get(url), client.post(url, {"decision": "open"})):
            assert response.status_code == 403, url
            assert CANARY not in response.content.decode()
    assert CANARY not in client.get(reverse("dashboard")).content.decode()
    breach.refresh_from_db()
    assert breach.acknowledged_by == dpo


def test_senior_officers_read_but_do_not_change(client, reporter, dpo, senior):
    breach = report(reporter, summary=CANARY, now=timezone.now() - HOUR)
    client.force_login(senior)
    assert CANARY in client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert CANARY in client.get(reverse("breach_list")).content.decode()
    for name in BREACH_STEP_URLS:
        assert client.get(reverse(name, args=[breach.pk])).status_code == 403
    response = client.post(reverse("breach_acknowledge", args=[breach.pk]), {"decision": "open"})
    assert response.status_code == 403
    breach.refresh_from_db()
    assert breach.is_untriaged


def test_a_missing_breach_is_404(client, dpo):
    client.force_login(dpo)
    assert client.get(reverse("breach_detail", args=[987654])).status_code == 404


def test_a_senior_officer_sees_only_the_people_in_their_own_scope(client, reporter, dpo, senior):
    unassigned = PersonFactory(first_name="Una", last_name="Unassignedperson")
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    services.add_breach_subject(user=dpo, breach=breach, obj=unassigned)
    client.force_login(dpo)
    assert (
        "Unassignedperson"
        in client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    )
    client.force_login(senior)
    body = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "Unassignedperson" not in body
    assert "Person record %s (outside your access)" % unassigned.pk in body


def test_opening_a_breach_is_audited(client, reporter, dpo, access_entries):
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    client.force_login(dpo)
    client.get(reverse("breach_detail", args=[breach.pk]))
    assert access_entries(breach).count() == 1


def test_the_people_search_finds_only_within_the_dpo_scope_and_adds_by_id(client, reporter, dpo):
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    client.force_login(dpo)
    response = client.post(
        reverse("breach_people", args=[breach.pk]), {"action": "add", "person": "999999"}
    )
    assert response.status_code == 302
    assert not BreachSubject.objects.exists()


def test_the_dashboard_panel_is_for_the_dpo_and_senior_officers(reporter, dpo, senior):
    breach = report(reporter, now=timezone.now())
    titles = {panel.title for panel in panels_for(dpo)}
    assert "Personal data breaches open" in titles
    panel = next(p for p in panels_for(senior) if p.title == "Personal data breaches open")
    assert panel.urgent and panel.count == 1
    assert any("Breach #%s" % breach.pk in item for item in panel.items)
    assert "Personal data breaches open" not in {p.title for p in panels_for(reporter)}


def test_the_dashboard_escalates_a_report_the_tasks_missed(client, reporter, dpo, senior):
    breach = report(reporter, now=timezone.now() - 5 * HOUR)
    mail.outbox.clear()
    client.force_login(dpo)
    home = client.get(reverse("dashboard")).content.decode()
    assert (
        "Breach #%s (reported: waiting for the data protection lead, escalated)" % breach.pk in home
    )
    assert len(sent_to("senior@tmo.example")) == 1
    client.get(reverse("dashboard"))
    assert len(sent_to("senior@tmo.example")) == 1


def test_the_emergency_review_links_the_breach_with_its_clock(client, dpo):
    access = EmergencyAccessFactory()
    breach = emergency_services.open_breach_for_emergency_access(
        reviewer=dpo, access=access, summary="Looked up a neighbour."
    )
    client.force_login(dpo)
    body = client.get(reverse("emergency_review_detail", args=[access.pk])).content.decode()
    assert reverse("breach_detail", args=[breach.pk]) in body
    assert "71 hours left" in body


def test_every_step_page_opens_for_the_dpo_with_the_clock(client, reporter, dpo):
    breach = opened(reporter, dpo, now=timezone.now() - HOUR)
    client.force_login(dpo)
    for name in BREACH_STEP_URLS:
        response = client.get(reverse(name, args=[breach.pk]))
        assert response.status_code == 200, name
        assert "70 hours left" in response.content.decode(), name


def test_the_dpo_choosing_no_real_route_gets_the_form_back_with_the_reason(client, login_as):
    # The field only the DPO sees is added after the form is built; an error on it once broke
    # the page (a server error) instead of showing it.
    login_as(Role.DATA_PROTECTION_LEAD)
    response = client.post(
        reverse("breach_report"), {"how_reported": "carrier pigeon", "summary": "A lost file."}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "govuk-radios__input" in body
    assert not Breach.objects.exists()
