"""Rights-request workflows: log a request, run its clock, extend it, assign it, complete it, and
remind handlers before the due date.

The due date is never set by hand: every clock event recomputes it through sar.clock from the
request's own facts (start, extension, days stopped) and writes a DueDateChange saying why, so
the clock's history can be read back and checked.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from access.dashboard import Panel, dashboard_panel
from access.roles import STAFF_ROLES, Role, roles_of
from records.models import AuthorisedRepresentative, Person
from sar import clock
from sar.models import (
    Bundle,
    ClockStop,
    DueDateChange,
    PortalMessage,
    PortalRequest,
    ResidentLink,
    SubjectAccessRequest,
)
from sar.models.requests import HANDLER_ROLES
from tmo.audit import record_event
from tmo.reports import csv_text, suppress

logger = logging.getLogger(__name__)

Kind = SubjectAccessRequest.Kind
Status = SubjectAccessRequest.Status
# Within this many working days of the due date a request is flagged and its handler reminded.
REMINDER_WORKING_DAYS = 5
# Statuses in which the clock is running towards the due date.
RUNNING_STATUSES = (Status.IN_PROGRESS, Status.IN_REVIEW, Status.SIGNED_OFF)


# --- the clock ---------------------------------------------------------------------------------


def days_stopped(request: SubjectAccessRequest) -> int:
    """Days the clock stood stopped, counting only stops that have ended: while a stop is open
    the due date is not yet known, and it moves when the clock restarts."""
    return sum(
        stop.days_stopped(stop.restarted_on) for stop in _stops(request) if stop.restarted_on
    )


def _stops(request: SubjectAccessRequest) -> list[ClockStop]:
    return list(ClockStop.objects.filter(request=request).order_by("stopped_on", "pk"))


def computed_due_date(
    request: SubjectAccessRequest, *, extension_months: int | None = None
) -> datetime.date | None:
    """The due date the request's facts give, or None while the clock has not started."""
    start = request.clock_start()
    if start is None:
        return None
    months = request.extension_months if extension_months is None else extension_months
    return clock.due_date(start, extension_months=months, days_stopped=days_stopped(request))


def first_month_due_date(request: SubjectAccessRequest) -> datetime.date | None:
    """The due date without any extension: an extension may only be made up to this day."""
    return computed_due_date(request, extension_months=0)


def _recompute(request: SubjectAccessRequest, *, changed_by, reason: str, always=False) -> None:
    """Set the due date from the request's facts and record the change (or, with `always`, the
    event even though the date stands, so the clock history reads as a whole)."""
    old = request.due_date
    new = computed_due_date(request)
    if new != old or always:
        request.due_date = new
        request.save(update_fields=["due_date"])
        DueDateChange.objects.create(
            request=request,
            old_due_date=old,
            new_due_date=new,
            reason=reason[:300],
            changed_by=changed_by,
        )


def _today() -> datetime.date:
    return timezone.localdate()


def _not_in_future(on: datetime.date, field: str, what: str) -> None:
    if on > _today():
        raise ValidationError({field: "%s must be today or in the past" % what})


def _must_be_open(request: SubjectAccessRequest) -> None:
    if not request.is_open():
        raise ValidationError("This request is closed: its clock can no longer change.")


def _authority_problem(representative, *, person, on: datetime.date, not_current: str) -> str:
    """Why this recorded authority cannot stand for the person on that day ("" when it can):
    logging and matching a request hold a representative to the same test."""
    if person is None or representative.person_id != person.pk:
        return "Choose a representative recorded for this person"
    if not representative.is_current_on(on):
        return not_current
    return _scope_problem(representative)


# --- references --------------------------------------------------------------------------------


def _next_reference() -> str:
    year = _today().year
    prefix = "SAR-%d-" % year
    last = (
        SubjectAccessRequest.objects.select_for_update()
        .filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return "%s%04d" % (prefix, number)


# --- logging a request -------------------------------------------------------------------------


@transaction.atomic
def rights_request_create(
    *,
    logged_by,
    kind: str,
    channel: str,
    person,
    requester_name: str,
    requester_email: str,
    requester_address: str,
    details: str,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
    received_on: datetime.date,
    identity_required: bool,
    identity_received_on: datetime.date | None,
    representative=None,
    handler=None,
) -> SubjectAccessRequest:
    """A request received online (logged_by None: the portal) or by letter, email, phone or in
    person (logged by staff): the same record, the same clock."""
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = "Choose the type of request"
    if channel not in SubjectAccessRequest.Channel.values:
        errors["channel"] = "Choose how the request was received"
    if not requester_name.strip():
        errors["requester_name"] = "Enter the name of the person making the request"
    if not requester_email.strip() and not requester_address.strip():
        errors["requester_email"] = "Enter an email address or a postal address for the reply"
    if not details.strip():
        errors["details"] = "Enter what the requester asked for"
    if received_on > _today():
        errors["received_on"] = "The date received must be today or in the past"
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = "The end of the period must be the same as or after its start"
    if identity_received_on is not None:
        if not identity_required:
            errors["identity_received_on"] = (
                "Leave the identity date empty when no identity evidence is needed"
            )
        elif identity_received_on < received_on or identity_received_on > _today():
            errors["identity_received_on"] = (
                "The date identity evidence arrived must be between the date received and today"
            )
    if representative is not None:
        problem = _authority_problem(
            representative,
            person=person,
            on=received_on,
            not_current="That representative's authority did not cover the date the request "
            "was received",
        )
        if problem:
            errors["representative"] = problem
    if handler is not None and not (roles_of(handler) & STAFF_ROLES and handler.is_active):
        errors["handler"] = "Choose a member of staff to handle the request"
    if errors:
        raise ValidationError(errors)

    waiting = identity_required and identity_received_on is None
    request = SubjectAccessRequest.objects.create(
        reference=_next_reference(),
        kind=kind,
        channel=channel,
        person=person,
        requester_name=requester_name.strip(),
        requester_email=requester_email.strip(),
        requester_address=requester_address.strip(),
        representative=representative,
        details=details.strip(),
        date_from=date_from,
        date_to=date_to,
        received_on=received_on,
        identity_required=identity_required,
        identity_received_on=identity_received_on,
        status=Status.AWAITING_IDENTITY if waiting else Status.IN_PROGRESS,
        handler=handler,
        logged_by=logged_by,
        outcome="",
    )
    if waiting:
        reason = "Received: the clock starts when identity evidence arrives"
    elif identity_required:
        reason = "Identity evidence received"
    else:
        reason = "Received"
    _recompute(request, changed_by=logged_by, reason=reason, always=True)
    return request


@transaction.atomic
def identity_received(
    *, request: SubjectAccessRequest, recorded_by, on: datetime.date
) -> SubjectAccessRequest:
    """The identity evidence reasonably asked for has arrived: the clock runs from that day."""
    request = _locked(request)
    _must_be_open(request)
    if not request.identity_required:
        raise ValidationError("No identity evidence was asked for: the clock runs from receipt.")
    if request.identity_received_on is not None:
        raise ValidationError("Identity evidence has already been recorded for this request.")
    if on < request.received_on:
        raise ValidationError({"on": "Identity evidence cannot arrive before the request"})
    _not_in_future(on, "on", "The date the evidence arrived")
    request.identity_received_on = on
    request.status = Status.IN_PROGRESS
    request.save(update_fields=["identity_received_on", "status"])
    _recompute(
        request,
        changed_by=recorded_by,
        reason="Identity evidence received on %s" % on.isoformat(),
        always=True,
    )
    return request


def _locked(request: SubjectAccessRequest) -> SubjectAccessRequest:
    """The request read afresh under a row lock: two officers acting at once see each other."""
    return SubjectAccessRequest.objects.select_for_update().get(pk=request.pk)


@transaction.atomic
def clock_stop(
    *, request: SubjectAccessRequest, stopped_by, on: datetime.date, reason: str
) -> ClockStop:
    """Stop the clock while genuinely needed clarification is awaited."""
    request = _locked(request)
    _must_be_open(request)
    if request.status not in RUNNING_STATUSES:
        raise ValidationError("The clock is not running, so it cannot be stopped.")
    if ClockStop.objects.filter(request=request, restarted_on__isnull=True).exists():
        raise ValidationError("The clock is already stopped.")
    if not reason.strip():
        raise ValidationError({"reason": "Enter the clarification you are waiting for"})
    start = request.clock_start()
    if on < start:
        raise ValidationError({"on": "The clock cannot stop before it started"})
    _not_in_future(on, "on", "The date the clock stopped")
    last = ClockStop.objects.filter(request=request).order_by("-restarted_on").first()
    if last is not None and on < last.restarted_on:
        raise ValidationError({"on": "The clock cannot stop before it last restarted"})
    stop = ClockStop.objects.create(
        request=request, stopped_on=on, reason=reason.strip(), stopped_by=stopped_by
    )
    request.status = Status.CLOCK_STOPPED
    request.save(update_fields=["status"])
    _recompute(
        request,
        changed_by=stopped_by,
        reason="Clock stopped on %s: waiting for clarification" % on.isoformat(),
        always=True,
    )
    return stop


@transaction.atomic
def clock_restart(
    *, request: SubjectAccessRequest, restarted_by, on: datetime.date
) -> SubjectAccessRequest:
    """The clarification has arrived: the days stopped are added to the due date."""
    request = _locked(request)
    _must_be_open(request)
    stop = ClockStop.objects.filter(request=request, restarted_on__isnull=True).first()
    if stop is None:
        raise ValidationError("The clock is not stopped.")
    if on < stop.stopped_on:
        raise ValidationError({"on": "The clock cannot restart before it stopped"})
    _not_in_future(on, "on", "The date the clock restarted")
    stop.restarted_on = on
    stop.save(update_fields=["restarted_on"])
    request.status = Status.IN_PROGRESS
    request.save(update_fields=["status"])
    days = stop.days_stopped(on)
    _recompute(
        request,
        changed_by=restarted_by,
        reason="Clock restarted on %s after %d day%s stopped"
        % (on.isoformat(), days, "" if days == 1 else "s"),
        always=True,
    )
    return request


@transaction.atomic
def extend(
    *,
    request: SubjectAccessRequest,
    extended_by,
    months: int,
    reason: str,
    told_on: datetime.date,
) -> SubjectAccessRequest:
    """Extend by one or two further months for a complex or numerous request. Only while the
    first month is running, with the reason recorded and the requester told."""
    request = _locked(request)
    _must_be_open(request)
    if request.clock_start() is None:
        raise ValidationError("The clock has not started yet, so it cannot be extended.")
    errors = {}
    if months not in (1, 2):
        errors["months"] = "Choose an extension of one or two months"
    elif request.extension_months + months > clock.MAX_EXTENSION_MONTHS:
        errors["months"] = "A request can be extended by two months at most in all"
    if not reason.strip():
        errors["reason"] = "Enter why the request is complex or numerous"
    first_month_end = first_month_due_date(request)
    if _today() > first_month_end:
        raise ValidationError(
            "The first month ended on %s: a request can only be extended within it."
            % first_month_end.strftime("%-d %B %Y")
        )
    if told_on is None:
        errors["told_on"] = "Enter the date the requester was told"
    elif told_on < request.received_on or told_on > _today():
        errors["told_on"] = "The date the requester was told must be between receipt and today"
    if errors:
        raise ValidationError(errors)
    request.extension_months += months
    request.extension_reason = "\n\n".join(
        part for part in (request.extension_reason, reason.strip()) if part
    )
    request.extension_told_on = told_on
    request.save(update_fields=["extension_months", "extension_reason", "extension_told_on"])
    _recompute(
        request,
        changed_by=extended_by,
        reason="Extended by %d month%s: %s" % (months, "" if months == 1 else "s", reason.strip()),
        always=True,
    )
    return request


# --- handling ----------------------------------------------------------------------------------


def handler_choices():
    """Active staff who may handle a request."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=list(STAFF_ROLES))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def assign_handler(*, request: SubjectAccessRequest, assigned_by, handler) -> SubjectAccessRequest:
    request = _locked(request)
    _must_be_open(request)
    if not roles_of(assigned_by) & HANDLER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead assigns requests.")
    if handler is None or not handler.is_active or not roles_of(handler) & STAFF_ROLES:
        raise ValidationError({"handler": "Choose a member of staff to handle the request"})
    request.handler = handler
    request.save(update_fields=["handler"])
    record_event(actor=assigned_by, obj=request, event="sar_handler_assigned", handler=handler.pk)
    return request


@transaction.atomic
def complete(
    *, request: SubjectAccessRequest, completed_by, outcome: str, refused: bool = False
) -> SubjectAccessRequest:
    """Close the request with what was done and the reasons for any refusal. An access request
    is completed this way when its bundle is released; the other rights are completed here once
    staff have carried any changes into the records."""
    request = _locked(request)
    _must_be_open(request)
    if not outcome.strip():
        raise ValidationError(
            {"outcome": "Enter what was done and the reasons for any refusal"}
            if not refused
            else {"outcome": "Enter the reasons for refusing the request"}
        )
    request.outcome = outcome.strip()
    request.status = Status.REFUSED if refused else Status.COMPLETED
    request.completed_on = _today()
    # A stop left open ends with the request.
    ClockStop.objects.filter(request=request, restarted_on__isnull=True).update(
        restarted_on=request.completed_on
    )
    request.save(update_fields=["outcome", "status", "completed_on"])
    record_event(
        actor=completed_by,
        obj=request,
        event="sar_refused" if refused else "sar_completed",
        on_time=request.due_date is None or request.completed_on <= request.due_date,
    )
    return request


# --- matching a request to the register ---------------------------------------------------------

Scope = AuthorisedRepresentative.Scope
# Authority wide enough for a request about the person's data: repairs or rent alone is not.
DATA_REQUEST_SCOPES = frozenset({Scope.ALL, Scope.TENANCY, Scope.SPECIFIC})
# A bundle in any other state is being assembled, built or offered: the match must hold still.
FINISHED_BUNDLE_STATUSES = (Bundle.Status.FAILED, Bundle.Status.EXPIRED)
AUTHORITY_ASK_TEXT = (
    "You told us you are making this request for someone else. Before we can act on it, we "
    "need evidence that you have their authority to do so. This could be:\n\n"
    "- a form they have signed giving their consent\n"
    "- a lasting power of attorney\n"
    "- a court order, for example from the Court of Protection\n\n"
    "Please upload a copy on this page, where you upload proof of identity, or reply to this "
    "message to tell us how you will send it. We will not send you any of their information "
    "until we have it."
)


def portal_of(request: SubjectAccessRequest) -> PortalRequest | None:
    """How the request came through the portal; None for one logged by staff."""
    return getattr(request, "portal", None)


def acting_for_someone(request: SubjectAccessRequest) -> bool:
    """The requester told us, through the portal, that they act for someone else."""
    portal = portal_of(request)
    return bool(portal and portal.acting_for_someone)


def authority_missing(request: SubjectAccessRequest) -> bool:
    """Someone acts for the person and no recorded authority is matched yet: nothing is sent."""
    return acting_for_someone(request) and request.representative_id is None


def require_authority(request: SubjectAccessRequest) -> None:
    """The answer goes only to whom the person's recorded authority allows, and only while it
    is in force: checked when the data is collected and again when the answer is signed off."""
    if authority_missing(request):
        raise ValidationError("Match the recorded authority of the person acting for them first.")
    representative = request.representative
    if representative is not None and not representative.is_current_on(_today()):
        raise ValidationError(
            "The recorded authority of %s is no longer in force: ask for current evidence of it "
            "before anything is sent." % representative.name
        )


def _require_staff_who_see(user, request: SubjectAccessRequest) -> None:
    if not roles_of(user) & STAFF_ROLES:
        raise PermissionDenied
    if not SubjectAccessRequest.objects.visible_to(user).filter(pk=request.pk).exists():
        raise PermissionDenied


def _scope_problem(representative) -> str:
    if representative.scope in DATA_REQUEST_SCOPES:
        return ""
    return "That authority covers %s, not a request for the person's data" % (
        representative.get_scope_display().lower()
    )


@transaction.atomic
def request_match(
    *, request: SubjectAccessRequest, matched_by, person, representative=None
) -> SubjectAccessRequest:
    """Say whom on the register the request is about and, where someone acts for them, under
    which recorded authority. Identity is a separate question: the clock is not touched."""
    _require_staff_who_see(matched_by, request)
    request = _locked(request)
    if not request.is_open():
        raise ValidationError("This request is closed: it can no longer be matched.")
    if request.bundles.exclude(status__in=FINISHED_BUNDLE_STATUSES).exists():
        raise ValidationError(
            "A bundle for this request is under way, so the match can no longer change."
        )
    if person is None or not Person.objects.visible_to(matched_by).filter(pk=person.pk).exists():
        # A person outside the officer's scope gets the same answer as one that does not exist.
        raise ValidationError({"person": "Choose a person on the register"})
    portal = portal_of(request)
    if portal is not None and portal.account_id is not None and not portal.acting_for_someone:
        # The account that made the request may download its answer: a request about the
        # account holder can only be about the person the account is linked to.
        own = ResidentLink.objects.filter(user_id=portal.account_id).values_list(
            "person_id", flat=True
        )
        if person.pk not in own:
            raise ValidationError(
                {
                    "person": "This request was made from a resident's own portal account about "
                    "themselves: it can only be matched to that resident"
                }
            )
    if representative is None:
        if acting_for_someone(request):
            raise ValidationError(
                {
                    "representative": "Choose the recorded authority of the person acting for "
                    "them. If none is recorded, ask the requester for evidence of it first"
                }
            )
    else:
        # The authority must stand on the day it is relied on: one given in answer to our
        # asking starts after the request arrived, and one that has lapsed allows nothing now.
        problem = _authority_problem(
            representative,
            person=person,
            on=_today(),
            not_current="That authority is not in force today: ask the requester for current "
            "evidence of it",
        )
        if problem:
            raise ValidationError({"representative": problem})
    previous = request.person_id
    request.person = person
    request.representative = representative
    request.save(update_fields=["person", "representative"])
    record_event(
        actor=matched_by,
        obj=request,
        event="sar_matched",
        person=person.pk,
        representative=representative.pk if representative else None,
        previous_person=previous,
    )
    return request


@transaction.atomic
def authority_ask(*, request: SubjectAccessRequest, asked_by) -> PortalMessage:
    """Ask a requester who acts for someone for evidence of their authority, through the portal.
    The clock is not stopped by this: stopping it is a separate decision."""
    from sar.services.portal import staff_message_send

    _require_staff_who_see(asked_by, request)
    request = _locked(request)
    if not request.is_open():
        raise ValidationError("This request is closed.")
    portal = portal_of(request)
    if portal is None or portal.account_id is None:
        raise ValidationError(
            "The requester has no portal account to read a message in: write to them at the "
            "email or postal address they gave instead."
        )
    if not portal.acting_for_someone:
        raise ValidationError("The requester is not acting for someone else.")
    if request.representative_id is not None:
        raise ValidationError("Their recorded authority is already matched to this request.")
    message = staff_message_send(sent_by=asked_by, request=request, body=AUTHORITY_ASK_TEXT)
    record_event(actor=asked_by, obj=request, event="sar_authority_requested", message=message.pk)
    return message


# --- the dashboard -----------------------------------------------------------------------------


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    while count > 0:
        day += datetime.timedelta(days=1)
        count -= clock.is_working_day(day)
    return day


@dataclass(frozen=True)
class DashboardRow:
    request: SubjectAccessRequest
    days_left: int | None
    overdue: bool
    due_soon: bool

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.overdue and self.days_left is not None else 0


def open_requests(user):
    """The open requests the user may see, overdue first, then by days left; those whose clock
    has not started or stands stopped come last. One query."""
    return (
        SubjectAccessRequest.objects.visible_to(user)
        .filter(status__in=SubjectAccessRequest.OPEN_STATUSES)
        .select_related("handler")
        .order_by(F("due_date").asc(nulls_last=True), "received_on", "pk")
    )


def dashboard_rows(requests, today: datetime.date | None = None) -> list[DashboardRow]:
    today = today or _today()
    rows = []
    for request in requests:
        days_left = None
        if request.due_date is not None:
            days_left = clock.working_days_between(today, request.due_date)
        running = request.status in RUNNING_STATUSES
        overdue = running and request.due_date is not None and request.due_date < today
        rows.append(
            DashboardRow(
                request=request,
                days_left=days_left,
                overdue=overdue,
                due_soon=running
                and not overdue
                and days_left is not None
                and days_left <= REMINDER_WORKING_DAYS,
            )
        )
    # Stopped clocks and those not yet started sink below the running ones.
    rows.sort(key=lambda row: row.request.status not in RUNNING_STATUSES)
    return rows


@dashboard_panel
def rights_requests_panel(user) -> Panel | None:
    """Open rights requests for those who handle them, urgent once any is overdue or near."""
    roles = roles_of(user)
    if not roles & STAFF_ROLES:
        return None
    today = _today()
    soon = add_working_days(today, REMINDER_WORKING_DAYS)
    running = Q(status__in=RUNNING_STATUSES)
    counts = (
        SubjectAccessRequest.objects.visible_to(user)
        .filter(status__in=SubjectAccessRequest.OPEN_STATUSES)
        .aggregate(
            total=Count("pk"),
            overdue=Count("pk", filter=running & Q(due_date__lt=today)),
            soon=Count("pk", filter=running & Q(due_date__gte=today, due_date__lte=soon)),
        )
    )
    if not roles & HANDLER_ROLES and not counts["total"]:
        return None
    parts = []
    if counts["overdue"]:
        parts.append("%d overdue." % counts["overdue"])
    if counts["soon"]:
        parts.append("%d due within %d working days." % (counts["soon"], REMINDER_WORKING_DAYS))
    parts.append("Requests to see, correct or erase personal data.")
    return Panel(
        title="Rights requests open",
        count=counts["total"],
        url=reverse("sar_request_list"),
        link_text="See rights requests",
        description=" ".join(parts),
        urgent=bool(counts["overdue"] or counts["soon"]),
    )


# --- reminders ---------------------------------------------------------------------------------


def _reminder_recipients(requests) -> dict[str, list[SubjectAccessRequest]]:
    """Email address -> the requests to remind that person of: the handler's own, and all of
    them for every active data protection lead."""
    leads = [
        user.email
        for user in get_user_model().objects.filter(
            is_active=True, groups__name=Role.DATA_PROTECTION_LEAD
        )
        if user.email
    ]
    recipients = defaultdict(list)
    for request in requests:
        addresses = set(leads)
        handler = request.handler
        if handler is not None and handler.is_active and handler.email:
            addresses.add(handler.email)
        for address in addresses:
            recipients[address].append(request)
    return recipients


def _reminder_body(requests: list[SubjectAccessRequest], today: datetime.date) -> str:
    # References and dates only: an email leaves the system and may be read anywhere.
    lines = [
        "These rights requests are due within %d working days or overdue:" % REMINDER_WORKING_DAYS,
        "",
    ]
    for request in sorted(requests, key=lambda r: (r.due_date, r.reference)):
        state = "OVERDUE" if request.due_date < today else "due"
        lines.append(
            "%s  %s %s" % (request.reference, state, request.due_date.strftime("%-d %B %Y"))
        )
    lines += ["", "Sign in to see them: %s" % reverse("sar_request_list")]
    return "\n".join(lines)


@transaction.atomic
def due_reminders(today: datetime.date | None = None) -> int:
    """Email the reminders for today, once a day at most per request; returns emails sent.

    The requests are marked in the same transaction the emails go out in: if sending fails the
    marks roll back and the next run tries again."""
    today = today or _today()
    soon = add_working_days(today, REMINDER_WORKING_DAYS)
    requests = list(
        SubjectAccessRequest.objects.select_for_update(of=("self",))
        .filter(status__in=RUNNING_STATUSES, due_date__lte=soon)
        .filter(Q(last_reminder_on__isnull=True) | Q(last_reminder_on__lt=today))
        .select_related("handler")
        .order_by("due_date", "pk")
    )
    if not requests:
        return 0
    sent = 0
    for address, theirs in sorted(_reminder_recipients(requests).items()):
        send_mail(
            "Rights requests due soon: %d" % len(theirs),
            _reminder_body(theirs, today),
            None,
            [address],
        )
        sent += 1
    SubjectAccessRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        last_reminder_on=today
    )
    logger.info("sar reminders: %d requests, %d emails", len(requests), sent)
    return sent


@task()
def send_due_reminders() -> int:
    """The daily reminder run (enqueued by `manage.py sar_reminders`)."""
    return due_reminders()


# --- the register ------------------------------------------------------------------------------

# The register's status filter: the statuses themselves, and "open" for any not yet closed.
STATUS_FILTER_CHOICES = [("open", "Open (any)"), *Status.choices]
FIGURES_MONTHS = 12


@dataclass(frozen=True)
class RegisterFilters:
    kind: str = ""
    status: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def apply(self, requests):
        if self.kind:
            requests = requests.filter(kind=self.kind)
        if self.status == "open":
            requests = requests.filter(status__in=SubjectAccessRequest.OPEN_STATUSES)
        elif self.status:
            requests = requests.filter(status=self.status)
        if self.date_from:
            requests = requests.filter(received_on__gte=self.date_from)
        if self.date_to:
            requests = requests.filter(received_on__lte=self.date_to)
        return requests

    def as_audit(self) -> dict:
        return {
            "kind": self.kind,
            "status": self.status,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }

    def is_set(self) -> bool:
        return any(self.as_audit().values())


def register_requests(user, filters: RegisterFilters):
    """Every request the user may see that matches the filters, newest first. One query."""
    return filters.apply(
        SubjectAccessRequest.objects.visible_to(user)
        .select_related("handler")
        .order_by("-received_on", "-pk")
    )


@dataclass(frozen=True)
class RegisterRow:
    pk: int
    reference: str
    kind: str
    channel: str
    requester_name: str
    received_on: datetime.date
    due_date: datetime.date | None
    completed_on: datetime.date | None
    status: str
    extended: bool
    timeliness: str  # "on time", "late", "overdue" or "open"
    working_days: int | None


def timeliness_of(request: SubjectAccessRequest, today: datetime.date) -> str:
    if request.completed_on is not None:
        if request.due_date is None or request.completed_on <= request.due_date:
            return "on time"
        return "late"
    running = request.status in RUNNING_STATUSES
    if running and request.due_date is not None and request.due_date < today:
        return "overdue"
    return "open"


def register_row(request: SubjectAccessRequest, today: datetime.date | None = None) -> RegisterRow:
    today = today or _today()
    return RegisterRow(
        pk=request.pk,
        reference=request.reference,
        kind=request.get_kind_display(),
        channel=request.get_channel_display(),
        requester_name=request.requester_name,
        received_on=request.received_on,
        due_date=request.due_date,
        completed_on=request.completed_on,
        status=request.get_status_display(),
        extended=request.extension_months > 0,
        timeliness=timeliness_of(request, today),
        working_days=clock.working_days_between(request.received_on, request.completed_on)
        if request.completed_on
        else None,
    )


CSV_COLUMNS = (
    "Reference",
    "Type",
    "Received by",
    "Requester",
    "Received",
    "Due",
    "Extended",
    "Completed",
    "Status",
    "On time",
    "Working days taken",
)


def register_csv(rows: list[RegisterRow]) -> str:
    return csv_text(
        CSV_COLUMNS,
        (
            (
                row.reference,
                row.kind,
                row.channel,
                row.requester_name,
                row.received_on.isoformat(),
                row.due_date.isoformat() if row.due_date else "",
                "Yes" if row.extended else "No",
                row.completed_on.isoformat() if row.completed_on else "",
                row.status,
                row.timeliness,
                "" if row.working_days is None else row.working_days,
            )
            for row in rows
        ),
    )


@transaction.atomic
def register_export_record(*, exported_by, filters: RegisterFilters, rows: list[RegisterRow]):
    """One audit entry per export naming the filters and the requests it held."""
    return record_event(
        actor=exported_by,
        obj=exported_by,
        event="sar_register_exported",
        format="csv",
        filters=filters.as_audit(),
        count=len(rows),
        references=[row.reference for row in rows],
    )


def _months_back(today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of `count` months ending with today's month, oldest first."""
    months = [today.replace(day=1)]
    for _ in range(count - 1):
        months.append((months[-1] - datetime.timedelta(days=1)).replace(day=1))
    return months[::-1]


FIGURES_COLUMNS = ("Received", "Completed on time", "Extended", "Overdue or late")


def monthly_figures(today: datetime.date | None = None) -> dict:
    """Requests received in each of the last 12 months: how many, how many were completed on
    time, extended, and overdue (still open past the due date, or completed after it). Counts
    only, small ones suppressed; no names, no references. One query."""
    today = today or _today()
    months = _months_back(today, FIGURES_MONTHS)
    index = {month: i for i, month in enumerate(months)}
    table = [[0] * len(FIGURES_COLUMNS) for _ in months]
    rows = (
        SubjectAccessRequest.objects.filter(received_on__gte=months[0], received_on__lte=today)
        .only("received_on", "due_date", "completed_on", "status", "extension_months")
        .order_by()
    )
    for request in rows:
        counts = table[index[request.received_on.replace(day=1)]]
        counts[0] += 1
        timeliness = timeliness_of(request, today)
        counts[1] += timeliness == "on time" and request.status == Status.COMPLETED
        counts[2] += request.extension_months > 0
        counts[3] += timeliness in ("overdue", "late")
    cells = suppress(table, row_totals=False)
    labels = [
        month.strftime("%B %Y") + (" (so far)" if month == months[-1] else "") for month in months
    ]
    return {
        "columns": FIGURES_COLUMNS,
        "rows": list(zip(labels, cells[:-1], strict=True)),
        "totals": cells[-1],
    }


# --- complaints: internal review -----------------------------------------------------------------

# Every final reply to an internal review tells the requester of this right, whatever the outcome.
ICO_COMPLAINT_TEXT = (
    "If you are still unhappy, you have the right to complain to the Information Commissioner's "
    "Office (ICO), the UK regulator for data protection: online at ico.org.uk/make-a-complaint "
    "or by phone on 0303 123 1113."
)
REVIEWABLE_STATUSES = (Status.COMPLETED, Status.REFUSED)


def open_review_of(request: SubjectAccessRequest):
    from sar.models import InternalReview

    return InternalReview.objects.filter(request=request, decided_at__isnull=True).first()


def may_ask_for_review(request: SubjectAccessRequest) -> bool:
    """Only an answered request can be challenged, and one review runs at a time."""
    return request.status in REVIEWABLE_STATUSES and open_review_of(request) is None


def may_decide_review(user, request: SubjectAccessRequest) -> bool:
    """A senior officer or the DPO, never the handler whose answer is being reviewed."""
    return bool(roles_of(user) & HANDLER_ROLES) and request.handler_id != user.pk


@transaction.atomic
def internal_review_request(*, account, request: SubjectAccessRequest, grounds: str):
    """A requester asks, through the portal, for the answer to their request to be reviewed."""
    from django.core.exceptions import PermissionDenied

    from sar.models import InternalReview
    from sar.services.portal import portal_request_for

    if portal_request_for(account, request.pk) is None:
        raise PermissionDenied
    request = _locked(request)
    if not may_ask_for_review(request):
        raise ValidationError(
            "A review can only be asked for once we have answered, and one at a time."
        )
    if not (grounds or "").strip():
        raise ValidationError({"grounds": "Enter what you disagree with"})
    review = InternalReview.objects.create(request=request, grounds=grounds.strip())
    record_event(actor=account, obj=request, event="sar_review_requested", review=review.pk)
    return review


@transaction.atomic
def internal_review_decide(*, review, decided_by, outcome: str, details: str):
    """Record the review's outcome. The requester is emailed that a reply is waiting, never what
    it says: the reply, with their right to complain to the ICO, is read in the portal."""
    from django.core.exceptions import PermissionDenied

    from sar.models import InternalReview

    review = InternalReview.objects.select_for_update().select_related("request").get(pk=review.pk)
    request = review.request
    if not SubjectAccessRequest.objects.visible_to(decided_by).filter(pk=request.pk).exists():
        raise PermissionDenied
    if not may_decide_review(decided_by, request):
        raise ValidationError(
            "The review must be decided by a senior officer or the data protection lead who did "
            "not handle the request."
        )
    if review.is_decided():
        raise ValidationError("This review has already been decided.")
    errors = {}
    if outcome not in InternalReview.Outcome.values:
        errors["review_outcome"] = "Choose the outcome of the review"
    if not (details or "").strip():
        errors["outcome_details"] = "Enter the reply to the requester"
    if errors:
        raise ValidationError(errors)
    review.reviewer = decided_by
    review.outcome = outcome
    review.outcome_details = details.strip()
    review.decided_at = timezone.now()
    review.save(update_fields=["reviewer", "outcome", "outcome_details", "decided_at"])
    record_event(
        actor=decided_by, obj=request, event="sar_review_decided", review=review.pk, outcome=outcome
    )
    if request.requester_email:
        from django.conf import settings

        to, reference = request.requester_email, request.reference
        transaction.on_commit(
            lambda: send_mail(
                "A reply about your request %s" % reference,
                "The reply to your request for a review is waiting for you. Sign in to read it.",
                settings.DEFAULT_FROM_EMAIL,
                [to],
                fail_silently=False,
            )
        )
    return review


# --- the register as a PDF -----------------------------------------------------------------------


def register_pdf(rows: list[RegisterRow], *, filters: RegisterFilters, exported_by) -> bytes:
    from django.template.loader import render_to_string
    from weasyprint import HTML

    html = render_to_string(
        "sar/pdf/register.html",
        {
            "rows": rows,
            "filters": {k: v for k, v in filters.as_audit().items() if v},
            "exported_by": exported_by.get_full_name() or exported_by.get_username(),
            "exported_at": timezone.localtime(),
        },
    )
    return HTML(string=html).write_pdf()


@transaction.atomic
def register_pdf_export_record(*, exported_by, filters: RegisterFilters, rows: list[RegisterRow]):
    """One audit entry per PDF export naming the filters and the requests it held."""
    return record_event(
        actor=exported_by,
        obj=exported_by,
        event="sar_register_exported",
        format="pdf",
        filters=filters.as_audit(),
        count=len(rows),
        references=[row.reference for row in rows],
    )
