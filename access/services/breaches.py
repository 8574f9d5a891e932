"""Breach workflows: reporting, triage, the record, the 72-hour clock and what follows.

Anyone signed in reports a suspected breach; a resident reports "a problem with my data" from the
portal (sar calls `report_data_problem`). The data protection lead hears at once, by email on
commit (senior officers when there is no DPO). A report nobody has acknowledged within
settings.BREACH_ACKNOWLEDGE_HOURS is escalated to the senior officers, and the 72 hours for
telling the ICO (Art. 33(1)) count down with alerts at ALERT_HOURS hours left. Both run as
deferred tasks where the task backend can defer, and the daily job catches anything missed, so
neither depends on the worker having been up at the right moment.

Every step is DPO-only, atomic, and writes one audit event naming the step. Emails carry numbers,
times and links, never what happened or who is affected: mail leaves the system.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from access.dashboard import Panel, dashboard_panel
from access.models import (
    Breach,
    BreachOutcome,
    BreachSubject,
    CommitteeAccessRequest,
)
from access.models.breaches import BREACH_VIEWER_ROLES
from access.roles import STAFF_ROLES, Role, remove_role, roles_of
from tmo import datamap
from tmo.audit import record_event
from tmo.concurrency import lock_current

logger = logging.getLogger(__name__)

# Alerts go out when this many hours are left; 0 is the deadline itself passing.
ALERT_HOURS = (24, 12, 2, 0)
SEARCH_RESULTS = 20
PANEL_ITEMS = 8

RISK_MATRIX = {
    ("remote", "minimal"): "low",
    ("remote", "significant"): "low",
    ("remote", "severe"): "medium",
    ("possible", "minimal"): "low",
    ("possible", "significant"): "medium",
    ("possible", "severe"): "high",
    ("likely", "minimal"): "medium",
    ("likely", "significant"): "high",
    ("likely", "severe"): "high",
}

Status = Breach.Status
IcoDecision = Breach.IcoDecision
PeopleTold = Breach.PeopleTold


def acknowledge_hours() -> int:
    return int(getattr(settings, "BREACH_ACKNOWLEDGE_HOURS", 4))


def risk_level(likelihood: str, severity: str) -> str:
    return RISK_MATRIX[(likelihood, severity)]


# --- who hears ---------------------------------------------------------------------------------


def _active_with_role(role: str):
    return (
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def data_protection_leads():
    return _active_with_role(Role.DATA_PROTECTION_LEAD)


def senior_officers():
    return _active_with_role(Role.SENIOR_OFFICER)


def _leads_or_seniors(exclude=None) -> list[str]:
    """The DPOs' addresses; the senior officers' when the organisation has no active DPO."""
    users = list(data_protection_leads()) or list(senior_officers())
    return [user.email for user in users if exclude is None or user.pk != exclude.pk]


def _send(subject: str, body: str, addresses) -> int:
    addresses = sorted(set(addresses))
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d %B %Y at %H:%M") if moment else "not known"


def _reporter_label(breach: Breach) -> str:
    if breach.kind == Breach.Kind.RESIDENT:
        return "a resident, through the portal"
    if breach.reported_by is None:
        return "the unusual-access check"
    return "%s (%s)" % (
        breach.reported_by.get_full_name() or breach.reported_by.get_username(),
        breach.reported_by.get_username(),
    )


def _notify_report(breach_pk: int) -> None:
    breach = Breach.objects.select_related("reported_by").get(pk=breach_pk)
    body = (
        "A suspected personal data breach (#%(pk)s) was reported by %(who)s on %(when)s.\n\n"
        "The organisation became aware on %(aware)s. If it must be reported to the ICO, that "
        "must happen by %(deadline)s (72 hours).\n\n"
        "Acknowledge it within %(hours)d hours or it is escalated to the senior officers. "
        "The details are in the breach log, not in this email: %(url)s\n"
    ) % {
        "pk": breach.pk,
        "who": _reporter_label(breach),
        "when": _when(breach.reported_at),
        "aware": _when(breach.became_aware_at),
        "deadline": _when(breach.deadline),
        "hours": acknowledge_hours(),
        "url": reverse("breach_detail", args=[breach.pk]),
    }
    _send(
        "Suspected data breach #%s reported" % breach.pk,
        body,
        _leads_or_seniors(exclude=breach.reported_by),
    )


# --- deferred tasks ----------------------------------------------------------------------------


@task()
def escalate_breach_task(breach_id: int) -> bool:
    return escalate_breach(breach_id)


@task()
def breach_clock_alert_task(breach_id: int) -> int | None:
    return send_clock_alert(breach_id)


def _defer(task_function, run_after, *args) -> None:
    """Enqueue for later where the backend can wait; otherwise the daily job catches it. The
    immediate backend (tests) would run it now, before anything is due, so it gets nothing."""
    if not task_function.get_backend().supports_defer:
        return
    try:
        task_function.using(run_after=run_after).enqueue(*args)
    except Exception:  # the daily job is the safety net; a report must not fail for this
        logger.exception("Could not schedule %s for breach %s", task_function.name, args)


def _schedule_escalation(breach: Breach) -> None:
    run_after = breach.reported_at + datetime.timedelta(hours=acknowledge_hours())
    transaction.on_commit(lambda: _defer(escalate_breach_task, run_after, breach.pk))


def _schedule_clock_alerts(breach: Breach) -> None:
    deadline = breach.deadline
    if deadline is None:
        return
    for hours in ALERT_HOURS:
        run_after = deadline - datetime.timedelta(hours=hours)
        transaction.on_commit(
            lambda run_after=run_after: _defer(breach_clock_alert_task, run_after, breach.pk)
        )


# --- checks shared by the steps ----------------------------------------------------------------


def is_data_protection_lead(user) -> bool:
    return Role.DATA_PROTECTION_LEAD in roles_of(user)


def may_view_breaches(user) -> bool:
    return bool(roles_of(user) & BREACH_VIEWER_ROLES)


def _check_dpo(user) -> None:
    if not is_data_protection_lead(user):
        raise PermissionDenied("Only the data protection lead handles breaches.")


def _locked(breach: Breach) -> Breach:
    # Refused (StaleEdit) when the page was drawn from an older version: see tmo.concurrency.
    return lock_current(breach)


def _check_open(breach: Breach) -> None:
    if breach.is_finished:
        raise ValidationError(
            "This breach is %s: it can no longer change." % breach.get_status_display().lower()
        )
    if breach.is_untriaged:
        raise ValidationError("Acknowledge this report first.")


def _required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _not_future(moment, field: str, label: str, now) -> None:
    if moment is not None and moment > now:
        raise ValidationError({field: "%s cannot be in the future." % label})


def _event(breach: Breach, actor, event: str, **details):
    # Codes, ids and times only: the entry is read by anyone who audits the log.
    return record_event(actor=actor, obj=breach, event=event, **details)


def data_category_choices() -> list[tuple[str, str]]:
    """The personal-data map's entries, as (model label, name and category) pairs."""
    return sorted(
        (
            (entry.model._meta.label_lower, "%s (%s)" % (entry.model_name, entry.category_label))
            for entry in datamap.personal_entries()
        ),
        key=lambda choice: choice[1],
    )


def check_map_labels(labels, field: str) -> list[str]:
    known = {label for label, _ in data_category_choices()}
    labels = list(dict.fromkeys(labels or []))
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValidationError(
            {field: "Not in the personal-data map: %s." % ", ".join(sorted(unknown))}
        )
    return labels


def category_labels(labels) -> list[str]:
    names = dict(data_category_choices())
    return [names.get(label, label) for label in labels]


# --- reporting ---------------------------------------------------------------------------------


def _create(
    *,
    kind: str,
    summary: str,
    reported_by,
    how_reported: str,
    now,
    became_aware_at=None,
    occurred_at=None,
    source_details: str = "",
    data_description: str = "",
    concerns_user=None,
    acknowledged: bool = False,
) -> Breach:
    breach = Breach(
        kind=kind,
        status=Status.OPEN if acknowledged else Status.REPORTED,
        summary=_required(summary, "summary", "Enter what happened."),
        reported_by=reported_by,
        reported_at=now,
        became_aware_at=became_aware_at or now,
        occurred_at=occurred_at,
        how_reported=how_reported,
        source_details=(source_details or "").strip(),
        data_description=(data_description or "").strip(),
        concerns_user=concerns_user,
    )
    if acknowledged:
        breach.acknowledged_at = now
        breach.acknowledged_by = reported_by
    breach.full_clean()
    breach.save()
    _event(breach, reported_by, "breach_reported", kind=kind, how_reported=how_reported)
    if not acknowledged:
        transaction.on_commit(lambda: _notify_report(breach.pk), robust=True)
        _schedule_escalation(breach)
    _schedule_clock_alerts(breach)
    return breach


@transaction.atomic
def report_breach(
    *,
    reported_by,
    summary: str,
    became_aware_at: datetime.datetime | None = None,
    occurred_at: datetime.datetime | None = None,
    data_description: str = "",
    source_details: str = "",
    how_reported: str = Breach.HowReported.ONLINE,
    now: datetime.datetime | None = None,
) -> Breach:
    """A suspected breach reported by a member of staff or the committee (or logged by the DPO
    from a call or letter). The organisation is aware when its people are: the reporter's
    "when did you find out" starts the clock, and the DPO can correct it in the record."""
    now = now or timezone.now()
    roles = roles_of(reported_by)
    if not roles or roles == {Role.TENANT}:
        raise PermissionDenied("Residents report a problem through the portal.")
    _not_future(became_aware_at, "became_aware_at", "When you found out", now)
    _not_future(occurred_at, "occurred_at", "When it happened", now)
    if occurred_at and became_aware_at and occurred_at > became_aware_at:
        raise ValidationError(
            {"occurred_at": "When it happened must be before you found out about it."}
        )
    if how_reported != Breach.HowReported.ONLINE and Role.DATA_PROTECTION_LEAD not in roles:
        how_reported = Breach.HowReported.ONLINE
    return _create(
        kind=Breach.Kind.REPORTED,
        summary=summary,
        reported_by=reported_by,
        how_reported=how_reported,
        now=now,
        became_aware_at=became_aware_at,
        occurred_at=occurred_at,
        source_details=source_details,
        data_description=data_description,
        # The DPO's own report needs no one to acknowledge it.
        acknowledged=Role.DATA_PROTECTION_LEAD in roles,
    )


@transaction.atomic
def report_data_problem(
    *,
    account,
    description: str,
    subject: models.Model | None = None,
    now: datetime.datetime | None = None,
) -> Breach:
    """A resident's report of a problem with their data, from the portal. We are aware from the
    moment it arrives; the resident's own record (if the account is linked) is the first person
    affected."""
    if Role.TENANT not in roles_of(account):
        raise PermissionDenied("Only a resident's portal account reports through the portal.")
    now = now or timezone.now()
    breach = _create(
        kind=Breach.Kind.RESIDENT,
        summary=_required(description, "description", "Tell us what is wrong."),
        reported_by=account,
        how_reported=Breach.HowReported.PORTAL,
        now=now,
    )
    if subject is not None:
        BreachSubject.objects.create(
            breach=breach,
            content_type=ContentType.objects.get_for_model(type(subject)),
            object_id=subject.pk,
            added_by=account,
            added_at=now,
        )
    return breach


@transaction.atomic
def open_breach(
    *,
    opened_by,
    summary: str,
    kind: str,
    how_reported: str,
    concerns_user=None,
    subjects=(),
    now: datetime.datetime | None = None,
) -> Breach:
    """A breach the DPO opens from what they found (a misused emergency access): acknowledged
    at once, aware now."""
    _check_dpo(opened_by)
    now = now or timezone.now()
    breach = _create(
        kind=kind,
        summary=summary,
        reported_by=opened_by,
        how_reported=how_reported,
        now=now,
        concerns_user=concerns_user,
        acknowledged=True,
    )
    for subject in subjects:
        _add_subject(breach, subject, added_by=opened_by, now=now)
    return breach


# --- triage ------------------------------------------------------------------------------------


class Triage(models.TextChoices):
    OPEN = "open", "It may be a breach: open it"
    NOT_A_BREACH = "not_a_breach", "It is not a personal data breach"


@transaction.atomic
def acknowledge_breach(*, user, breach: Breach, decision: str, notes: str = "", now=None) -> Breach:
    """The DPO's first look: open it as a suspected breach, or record why it is not one.

    Confirming a finding of the unusual-access check makes the organisation aware now, which
    starts its 72-hour clock."""
    _check_dpo(user)
    breach = _locked(breach)
    now = now or timezone.now()
    if not breach.is_untriaged:
        raise ValidationError("This report has already been acknowledged.")
    if breach.concerns_user_id == user.pk:
        raise ValidationError("Someone else must look at a finding about you.")
    breach.triage_notes = (notes or "").strip()
    if decision == Triage.OPEN:
        breach.status = Status.OPEN
        if breach.became_aware_at is None:
            breach.became_aware_at = now
            _schedule_clock_alerts(breach)
    elif decision == Triage.NOT_A_BREACH:
        _required(breach.triage_notes, "notes", "Enter why it is not a breach.")
        breach.status = Status.NOT_A_BREACH
        breach.closed_at = now
        breach.closed_by = user
    else:
        raise ValidationError({"decision": "Choose whether it may be a breach."})
    breach.acknowledged_at = now
    breach.acknowledged_by = user
    breach.save()
    _event(breach, user, "breach_acknowledged", decision=decision)
    return breach


# --- the record --------------------------------------------------------------------------------


@transaction.atomic
def update_breach_details(
    *,
    user,
    breach: Breach,
    summary: str,
    occurred_at,
    became_aware_at,
    data_description: str,
    data_categories,
    approx_people: int | None,
    approx_records: int | None,
    source_details: str = "",
    now=None,
) -> Breach:
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    now = now or timezone.now()
    if became_aware_at is None:
        raise ValidationError({"became_aware_at": "Enter when the organisation became aware."})
    _not_future(became_aware_at, "became_aware_at", "When the organisation became aware", now)
    _not_future(occurred_at, "occurred_at", "When it happened", now)
    if occurred_at and occurred_at > became_aware_at:
        raise ValidationError(
            {"occurred_at": "When it happened must be before the organisation became aware."}
        )
    for field, value in (("approx_people", approx_people), ("approx_records", approx_records)):
        if value is not None and value < 0:
            raise ValidationError({field: "Enter a number of 0 or more."})
    before = {
        name: getattr(breach, name)
        for name in (
            "summary",
            "occurred_at",
            "became_aware_at",
            "data_description",
            "data_categories",
            "approx_people",
            "approx_records",
            "source_details",
        )
    }
    breach.summary = _required(summary, "summary", "Enter what happened.")
    breach.occurred_at = occurred_at
    breach.became_aware_at = became_aware_at
    breach.data_description = (data_description or "").strip()
    breach.data_categories = check_map_labels(data_categories, "data_categories")
    breach.approx_people = approx_people
    breach.approx_records = approx_records
    breach.source_details = (source_details or "").strip()
    changed = sorted(name for name, value in before.items() if getattr(breach, name) != value)
    if "became_aware_at" in changed:
        # The alerts follow the new clock: a threshold not yet reached on it may be alerted again.
        left = breach.hours_left(now)
        breach.alerts_sent = [hours for hours in breach.alerts_sent if left <= hours]
        _schedule_clock_alerts(breach)
    breach.full_clean()
    breach.save()
    _event(breach, user, "breach_details_recorded", fields=changed)
    return breach


def _add_subject(breach: Breach, obj, *, added_by, now) -> BreachSubject:
    subject, created = BreachSubject.objects.get_or_create(
        breach=breach,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        defaults={"added_by": added_by, "added_at": now},
    )
    if not created:
        raise ValidationError("That record is already listed as affected.")
    return subject


@transaction.atomic
def add_breach_subject(*, user, breach: Breach, obj: models.Model, now=None) -> BreachSubject:
    """Link a record on the register (a person, usually) to the breach as affected by it. The
    caller fetched it through its policy; it is checked again here."""
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    manager = type(obj)._default_manager
    if not hasattr(manager.all(), "visible_to") or not (
        manager.visible_to(user).filter(pk=obj.pk).exists()
    ):
        raise ValidationError("There is no such record among those you can see.")
    subject = _add_subject(breach, obj, added_by=user, now=now or timezone.now())
    _event(
        breach,
        user,
        "breach_subject_added",
        record="%s:%s"
        % (subject.content_type.app_label + "." + subject.content_type.model, obj.pk),
    )
    return subject


@transaction.atomic
def remove_breach_subject(*, user, subject: BreachSubject) -> None:
    _check_dpo(user)
    breach = _locked(subject.breach)
    _check_open(breach)
    record = "%s:%s" % (
        subject.content_type.app_label + "." + subject.content_type.model,
        subject.object_id,
    )
    subject.delete()
    _event(breach, user, "breach_subject_removed", record=record)


@transaction.atomic
def assess_breach_risk(
    *, user, breach: Breach, likelihood: str, severity: str, notes: str, now=None
) -> Breach:
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    if likelihood not in Breach.Likelihood.values:
        raise ValidationError({"likelihood": "Choose how likely harm to people is."})
    if severity not in Breach.Severity.values:
        raise ValidationError({"severity": "Choose how severe the harm could be."})
    breach.likelihood, breach.severity = likelihood, severity
    breach.risk_level = risk_level(likelihood, severity)
    breach.risk_notes = _required(notes, "notes", "Enter the reasons for the assessment.")
    breach.risk_assessed_at = now or timezone.now()
    breach.save()
    _event(
        breach,
        user,
        "breach_risk_assessed",
        likelihood=likelihood,
        severity=severity,
        risk_level=breach.risk_level,
    )
    return breach


@transaction.atomic
def record_containment(
    *, user, breach: Breach, containment: str, recovery: str = "", now=None
) -> Breach:
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    breach.containment = _required(
        containment, "containment", "Enter what was done to contain the breach."
    )
    breach.recovery = (recovery or "").strip()
    breach.contained_at = now or timezone.now()
    breach.save()
    _event(breach, user, "breach_contained")
    return breach


@transaction.atomic
def record_ico_decision(
    *,
    user,
    breach: Breach,
    decision: str,
    reference: str = "",
    reported_at: datetime.datetime | None = None,
    reasons: str = "",
    late_reasons: str = "",
    now=None,
) -> Breach:
    """Reported (with the ICO's reference and when), reportable but not yet sent, or not
    reportable with the reasons. A report made after the 72 hours needs the reasons for the
    delay (Art. 33(1))."""
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    now = now or timezone.now()
    if breach.ico_decision == IcoDecision.REPORTED:
        raise ValidationError("This breach has been reported to the ICO; that cannot be undone.")
    breach.ico_reference = ""
    breach.reported_to_ico_at = None
    breach.not_reported_reasons = ""
    breach.late_reasons = ""
    if decision == IcoDecision.REPORTED:
        breach.ico_reference = _required(reference, "reference", "Enter the ICO's reference.")
        if reported_at is None:
            raise ValidationError({"reported_at": "Enter when it was reported to the ICO."})
        _not_future(reported_at, "reported_at", "When it was reported", now)
        if reported_at < breach.became_aware_at:
            raise ValidationError(
                {"reported_at": "The report cannot be before the organisation became aware."}
            )
        breach.reported_to_ico_at = reported_at
        if reported_at > breach.deadline:
            breach.late_reasons = _required(
                late_reasons,
                "late_reasons",
                "The report was made after the 72 hours: enter the reasons for the delay.",
            )
    elif decision == IcoDecision.NOT_REPORTABLE:
        breach.not_reported_reasons = _required(
            reasons, "reasons", "Enter why the breach is not reportable to the ICO."
        )
    elif decision != IcoDecision.REPORTABLE:
        raise ValidationError({"decision": "Choose the decision on telling the ICO."})
    breach.ico_decision = decision
    breach.ico_decided_at = now
    breach.ico_decided_by = user
    breach.save()
    _event(
        breach,
        user,
        "breach_ico_decision",
        decision=decision,
        late=bool(breach.late_reasons),
    )
    return breach


@transaction.atomic
def record_people_told(
    *,
    user,
    breach: Breach,
    decision: str,
    told_at: datetime.datetime | None = None,
    how: str = "",
    reasons: str = "",
    now=None,
) -> Breach:
    """Whether the people affected were told (Art. 34): required where the risk is high, unless
    an Art. 34(3) exception applies, which is then the reason recorded."""
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    now = now or timezone.now()
    breach.people_told_at, breach.people_told_how, breach.people_not_told_reasons = None, "", ""
    if decision == PeopleTold.TOLD:
        if told_at is None:
            raise ValidationError({"told_at": "Enter when they were told."})
        _not_future(told_at, "told_at", "When they were told", now)
        breach.people_told_at = told_at
        breach.people_told_how = _required(how, "how", "Enter how they were told.")
    elif decision == PeopleTold.NOT_TOLD:
        message = (
            "The risk is high, so the people affected must be told without undue delay unless an "
            "exception in Art. 34(3) applies: enter which applies and why."
            if breach.risk_level == Breach.RiskLevel.HIGH
            else "Enter why the people affected were not told."
        )
        breach.people_not_told_reasons = _required(reasons, "reasons", message)
    else:
        raise ValidationError({"decision": "Choose whether the people affected were told."})
    breach.people_told = decision
    breach.save()
    _event(breach, user, "breach_people_told", decision=decision)
    return breach


# --- outcomes under the confidentiality code ---------------------------------------------------


def _check_outcome(user, breach: Breach, person) -> Breach:
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    if person.pk == user.pk:
        raise ValidationError({"user": "Someone else must decide what follows for you."})
    return breach


@transaction.atomic
def remove_from_committee(
    *, user, breach: Breach, member, notes: str = "", now=None
) -> BreachOutcome:
    """The code's usual outcome for a committee member who leaked: the committee role goes, and
    with it their place on every live grant, so nothing granted stays open to them."""
    breach = _check_outcome(user, breach, member)
    now = now or timezone.now()
    if Role.COMMITTEE_MEMBER not in roles_of(member):
        raise ValidationError({"user": "%s is not a committee member." % member.get_username()})
    remove_role(member, Role.COMMITTEE_MEMBER)
    grants = CommitteeAccessRequest.objects.select_for_update(of=("self",)).filter(members=member)
    for grant in grants:
        if grant.is_live(now):
            grant.members.remove(member)
            record_event(
                actor=user,
                obj=grant,
                event="committee_member_removed",
                user=member.pk,
                breach=breach.pk,
            )
    outcome = BreachOutcome.objects.create(
        breach=breach,
        kind=BreachOutcome.Kind.COMMITTEE_REMOVAL,
        user=member,
        referred_on=timezone.localdate(now),
        notes=(notes or "").strip(),
        decided_by=user,
        decided_at=now,
    )
    _event(breach, user, "committee_member_removed", user=member.pk, outcome=outcome.pk)
    return outcome


@transaction.atomic
def refer_for_discipline(
    *,
    user,
    breach: Breach,
    staff_member,
    referred_to: str,
    referred_on: datetime.date | None,
    notes: str = "",
    now=None,
) -> BreachOutcome:
    """The code's outcome for a member of staff: a disciplinary referral, with to whom and when."""
    breach = _check_outcome(user, breach, staff_member)
    now = now or timezone.now()
    if not roles_of(staff_member) & STAFF_ROLES:
        raise ValidationError(
            {"user": "%s is not a member of staff." % staff_member.get_username()}
        )
    referred_to = _required(referred_to, "referred_to", "Enter who it was referred to.")
    if referred_on is None:
        raise ValidationError({"referred_on": "Enter the date of the referral."})
    if referred_on > timezone.localdate(now):
        raise ValidationError({"referred_on": "The date of the referral cannot be in the future."})
    outcome = BreachOutcome.objects.create(
        breach=breach,
        kind=BreachOutcome.Kind.DISCIPLINARY_REFERRAL,
        user=staff_member,
        referred_to=referred_to,
        referred_on=referred_on,
        notes=(notes or "").strip(),
        decided_by=user,
        decided_at=now,
    )
    _event(breach, user, "disciplinary_referral", user=staff_member.pk, outcome=outcome.pk)
    return outcome


def outcome_candidates():
    """Accounts an outcome may be about: staff and committee members."""
    return (
        get_user_model()
        .objects.filter(groups__name__in=[*STAFF_ROLES, Role.COMMITTEE_MEMBER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


# --- closure -----------------------------------------------------------------------------------


def closure_problems(breach: Breach) -> list[str]:
    problems = []
    if not breach.risk_level:
        problems.append("Assess the risk to the people affected.")
    if not breach.containment:
        problems.append("Record what was done to contain it.")
    if not breach.ico_decision_final:
        problems.append("Record the decision on telling the ICO (reported, or why not).")
    if breach.risk_level == Breach.RiskLevel.HIGH and not breach.people_told:
        problems.append("The risk is high: record whether the people affected were told.")
    return problems


@transaction.atomic
def close_breach(*, user, breach: Breach, lessons_learned: str, now=None) -> Breach:
    _check_dpo(user)
    breach = _locked(breach)
    _check_open(breach)
    problems = closure_problems(breach)
    if problems:
        raise ValidationError(problems)
    breach.lessons_learned = _required(
        lessons_learned, "lessons_learned", "Enter the lessons learned."
    )
    breach.status = Status.CLOSED
    breach.closed_at = now or timezone.now()
    breach.closed_by = user
    breach.save()
    _event(breach, user, "breach_closed")
    return breach


# --- escalation and the clock ------------------------------------------------------------------


@transaction.atomic
def escalate_breach(breach_id: int, now=None) -> bool:
    """Tell the senior officers about a report no DPO has acknowledged in time. Once only: the
    mark and the mail go together, so a failed send is tried again by the next run."""
    now = now or timezone.now()
    breach = Breach.objects.select_for_update().filter(pk=breach_id).first()
    if (
        breach is None
        or breach.status != Status.REPORTED
        or breach.escalated_at is not None
        or breach.reported_at + datetime.timedelta(hours=acknowledge_hours()) > now
    ):
        return False
    breach.escalated_at = now
    breach.save(update_fields=["escalated_at"])
    _event(breach, None, "breach_escalated", hours=acknowledge_hours())
    # With no senior officer to tell, the DPOs are told again rather than nobody.
    addresses = [user.email for user in senior_officers()] or _leads_or_seniors()
    body = (
        "Suspected data breach #%(pk)s was reported on %(when)s and no data protection lead has "
        "acknowledged it in %(hours)d hours.\n\n"
        "If it must be reported to the ICO, that must happen by %(deadline)s. Make sure someone "
        "deals with it now: %(url)s\n"
    ) % {
        "pk": breach.pk,
        "when": _when(breach.reported_at),
        "hours": acknowledge_hours(),
        "deadline": _when(breach.deadline),
        "url": reverse("breach_detail", args=[breach.pk]),
    }
    _send("Breach #%s not acknowledged: escalated" % breach.pk, body, addresses)
    return True


def escalate_unacknowledged(*, now=None) -> int:
    now = now or timezone.now()
    due = Breach.objects.filter(
        status=Status.REPORTED,
        escalated_at__isnull=True,
        reported_at__lte=now - datetime.timedelta(hours=acknowledge_hours()),
    ).values_list("pk", flat=True)
    return sum(escalate_breach(pk, now=now) for pk in list(due))


@transaction.atomic
def send_clock_alert(breach_id: int, now=None) -> int | None:
    """Alert for the smallest threshold the clock has reached and not yet alerted, marking every
    threshold reached, so a late run sends one email, not a burst. Returns the hours alerted."""
    now = now or timezone.now()
    breach = Breach.objects.select_for_update().filter(pk=breach_id).first()
    if breach is None or not breach.clock_is_running():
        return None
    left = breach.hours_left(now)
    reached = [hours for hours in ALERT_HOURS if left <= hours and hours not in breach.alerts_sent]
    if not reached:
        return None
    hours = min(reached)
    breach.alerts_sent = sorted(set(breach.alerts_sent) | set(reached), reverse=True)
    breach.save(update_fields=["alerts_sent"])
    _event(breach, None, "breach_clock_alert", hours=hours)
    addresses = _leads_or_seniors()
    if hours <= 2:
        addresses += [user.email for user in senior_officers()]
    if hours == 0:
        subject = "Breach #%s: the 72 hours to tell the ICO have run out" % breach.pk
        lead = "The 72 hours for telling the ICO about breach #%s ran out at %s." % (
            breach.pk,
            _when(breach.deadline),
        )
        follow = "A report made now must give the reasons for the delay."
    else:
        subject = "Breach #%s: %d hours left to tell the ICO" % (breach.pk, hours)
        lead = "Breach #%s: about %d hours are left to decide whether to tell the ICO." % (
            breach.pk,
            hours,
        )
        follow = "The deadline is %s." % _when(breach.deadline)
    body = "%s\n\n%s Record the decision in the breach log: %s\n" % (
        lead,
        follow,
        reverse("breach_ico", args=[breach.pk]),
    )
    _send(subject, body, addresses)
    return hours


def send_clock_alerts(*, now=None) -> int:
    ids = list(Breach.objects.clock_running().values_list("pk", flat=True))
    return sum(1 for pk in ids if send_clock_alert(pk, now=now) is not None)


def daily_breach_check(now=None) -> str:
    """Daily job: escalate what sat unacknowledged, send any clock alert the tasks missed."""
    escalated = escalate_unacknowledged(now=now)
    alerts = send_clock_alerts(now=now)
    return "breaches: %d escalated, %d clock alerts" % (escalated, alerts)


# --- reading back ------------------------------------------------------------------------------


def breach_list(user):
    return Breach.objects.visible_to(user).select_related("reported_by", "concerns_user")


def find_people(*, user, term: str) -> list:
    """People matching a search, among those the user may see, through the register's own
    search (name, address, or an exact NI number, email or phone)."""
    from access.services.emergency import subject_model

    term = (term or "").strip()
    if not term:
        return []
    rows = subject_model()._default_manager.visible_to(user)
    if not hasattr(rows, "search"):
        return []
    return list(rows.search(term)[:SEARCH_RESULTS])


def person_for_id(*, user, person_id) -> models.Model:
    from access.services.emergency import subject_model

    try:
        return subject_model()._default_manager.visible_to(user).get(pk=int(person_id))
    except (ValueError, TypeError, LookupError, ObjectDoesNotExist) as error:
        raise ValidationError("There is no such person among those you can see.") from error


def subjects_shown_to(breach: Breach, user) -> list[dict]:
    """The affected records, each with the object when `user` may see it, else only its kind and
    number (a senior officer reading the log sees no one outside their own scope)."""
    subjects = list(breach.subjects.select_related("content_type"))
    by_type: dict[int, list[BreachSubject]] = {}
    for subject in subjects:
        by_type.setdefault(subject.content_type_id, []).append(subject)
    visible = {}
    for rows in by_type.values():
        model = rows[0].content_type.model_class()
        if model is None or not hasattr(model._default_manager.all(), "visible_to"):
            continue
        found = model._default_manager.visible_to(user).in_bulk([row.object_id for row in rows])
        for row in rows:
            visible[row.pk] = found.get(row.object_id)
    shown = []
    for subject in subjects:
        model = subject.content_type.model_class()
        kind = str(model._meta.verbose_name).capitalize() if model else subject.content_type.model
        shown.append(
            {
                "subject": subject,
                "object": visible.get(subject.pk),
                "label": "%s record %s" % (kind, subject.object_id),
            }
        )
    return shown


EVENT_LABELS = {
    "breach_reported": "Reported",
    "breach_acknowledged": "Acknowledged",
    "breach_details_recorded": "Details recorded",
    "breach_subject_added": "Person affected added",
    "breach_subject_removed": "Person affected removed",
    "breach_risk_assessed": "Risk assessed",
    "breach_contained": "Containment recorded",
    "breach_ico_decision": "Decision on telling the ICO recorded",
    "breach_people_told": "Recorded whether the people affected were told",
    "committee_member_removed": "Removed from the committee",
    "disciplinary_referral": "Referred for disciplinary action",
    "breach_closed": "Closed",
    "breach_escalated": "Escalated to the senior officers",
    "breach_clock_alert": "72-hour clock alert sent",
    "unusual_access_raised": "Raised by the unusual-access check",
}


def breach_events(breach: Breach) -> list[dict]:
    """The breach's history as the audit log holds it, oldest first, in words."""
    from auditlog.models import LogEntry

    entries = (
        LogEntry.objects.get_for_object(breach)
        .exclude(action=LogEntry.Action.ACCESS)  # who read it is in the audit search, not here
        .select_related("actor")
        .order_by("timestamp", "pk")
    )
    events = []
    for entry in entries:
        event = (entry.additional_data or {}).get("event")
        if event:
            label = EVENT_LABELS.get(event, event.replace("_", " ").capitalize())
            hours = entry.additional_data.get("hours")
            if event == "breach_clock_alert" and hours is not None:
                label = "72-hour clock alert sent (%s hours left)" % hours
        elif entry.action == LogEntry.Action.CREATE:
            label = "Record created"
        else:
            label = "Changed: %s" % ", ".join(sorted((entry.changes_dict or {}).keys()))
        events.append({"entry": entry, "label": label})
    return events


def banner_breaches(user, now=None) -> list[tuple[Breach, object]]:
    """For the DPO on every page: each breach whose clock is running, soonest deadline first."""
    if not is_data_protection_lead(user):
        return []
    now = now or timezone.now()
    rows = Breach.objects.clock_running().order_by("became_aware_at", "pk")[:PANEL_ITEMS]
    return [(breach, breach.clock(now)) for breach in rows]


@dashboard_panel
def breach_panel(user) -> Panel | None:
    """Every live breach with its clock. Loading it also escalates any report left waiting past
    its hours, so a missed task is caught the next time anyone who handles breaches looks."""
    if not may_view_breaches(user):
        return None
    now = timezone.now()
    live = list(Breach.objects.live().order_by("reported_at", "pk"))
    waited = now - datetime.timedelta(hours=acknowledge_hours())
    for breach in live:
        if (
            breach.status == Status.REPORTED
            and breach.escalated_at is None
            and breach.reported_at <= waited
        ):
            try:
                if escalate_breach(breach.pk, now=now):
                    breach.escalated_at = now
            except Exception:  # a mail failure must not break the home page; the jobs retry
                logger.exception("Could not escalate breach %s from the dashboard", breach.pk)
    items = []
    urgent = False
    for breach in live[:PANEL_ITEMS]:
        clock = breach.clock(now)
        urgent = urgent or breach.is_untriaged or clock.running
        items.append(
            "Breach #%s (%s%s): %s"
            % (
                breach.pk,
                breach.get_status_display().lower(),
                ", escalated" if breach.escalated_at and breach.is_untriaged else "",
                clock.label.lower(),
            )
        )
    return Panel(
        title="Personal data breaches open",
        count=len(live),
        url=reverse("breach_list"),
        link_text="Open the breach log",
        description="Each suspected breach, with the hours left to tell the ICO (72 hours "
        "from awareness).",
        urgent=urgent,
        items=items,
    )
