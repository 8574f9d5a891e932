"""Access workflows: emergency ("break the glass") access and its review by the DPO.

A staff member names the person by an exact identifier (record number, or an NI number, email or
phone matched through the blind indexes), never by a search that would list who exists. `access`
knows no app above it, so the person's model is the data map's subject model (the one whose rows
are the data subjects themselves) and identifiers are matched through its blind index fields.
"""

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import models, transaction
from django.db.models import Q, Subquery
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from access import compliance, policy
from access.dashboard import Panel, dashboard_panel
from access.models import Breach, EmergencyAccess, EmergencyAccessAttempt
from access.models.emergency import EMERGENCY_ACCESS_DURATION
from access.roles import STAFF_ROLES, Role, roles_of
from access.services import breaches
from tmo import datamap
from tmo.fields import BlindIndexField

NO_MATCH_MESSAGE = "No record matches exactly; check the number."
# The subject model's fields an identifier kind is matched against, by the source of its index.
INDEXED_SOURCES = {
    EmergencyAccessAttempt.Kind.NI_NUMBER: "ni_number",
    EmergencyAccessAttempt.Kind.EMAIL: "email",
    EmergencyAccessAttempt.Kind.PHONE: "phone",
}
READS_SHOWN = 200


def subject_model() -> type[models.Model]:
    """The model whose rows are the data subjects themselves (the person register)."""
    for entry in datamap.personal_entries():
        if "" in entry.subject_paths:
            return entry.model
    raise LookupError("No model in the personal-data map holds the data subjects themselves.")


def find_exact(kind: str, identifier: str) -> models.Model | None:
    """The one subject row the identifier names exactly, or None for none or several.

    The lookup ignores the user's scope on purpose (that is what the emergency is about), which is
    why it lives here and only answers one exact identifier, never a list.
    """
    model = subject_model()
    rows = model._default_manager.all()
    identifier = identifier.strip()
    if kind == EmergencyAccessAttempt.Kind.RECORD_NUMBER:
        number = _record_number(identifier)
        if number is None:
            return None
        rows = rows.filter(pk=number)
    else:
        field = _index_field(model, INDEXED_SOURCES.get(kind, ""))
        digest = field.digest(identifier) if field else ""
        if not digest:
            return None
        rows = rows.filter(**{field.name: digest})
    matches = list(rows[:2])
    return matches[0] if len(matches) == 1 else None


def _record_number(identifier: str) -> int | None:
    identifier = identifier.lstrip("#").strip()
    if not identifier.isdigit() or len(identifier) > 18:
        return None
    return int(identifier)


def _index_field(model, source: str) -> BlindIndexField | None:
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source == source:
            return field
    return None


def _check_may_use(user) -> None:
    if not roles_of(user) & STAFF_ROLES:
        raise PermissionDenied("Emergency access is for staff only.")
    problems = compliance.compliance_problems(user)
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def request_emergency_access(
    *, user, kind: str, identifier: str, reason: str
) -> EmergencyAccessAttempt:
    """Look up the exact identifier and open emergency access to what it names.

    Every call leaves an attempt row whatever it finds: opened, already in the user's scope (no
    access needed, nothing to notify), or no single match. The caller shows NO_MATCH_MESSAGE for the
    last, which says nothing about whether anyone exists.
    """
    _check_may_use(user)
    reason = _required_reason(reason)
    attempt = EmergencyAccessAttempt(
        user=user,
        identifier_kind=kind,
        reason=reason,
        record_number=(
            _record_number(identifier)
            if kind == EmergencyAccessAttempt.Kind.RECORD_NUMBER
            else None
        ),
        outcome=EmergencyAccessAttempt.Outcome.NO_MATCH,
    )
    target = find_exact(kind, identifier)
    if target is not None:
        visible = type(target)._default_manager.visible_to(user).filter(pk=target.pk)
        if visible.exists():
            attempt.outcome = EmergencyAccessAttempt.Outcome.IN_SCOPE
        else:
            attempt.access = open_emergency_access(user=user, target=target, reason=reason)
            attempt.outcome = EmergencyAccessAttempt.Outcome.OPENED
    attempt.full_clean()
    attempt.save()
    attempt.target = target
    return attempt


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why you need this record now."})
    return reason


@transaction.atomic
def open_emergency_access(*, user, target: models.Model, reason: str, now=None) -> EmergencyAccess:
    """Give `user` four hours' access to `target` and its linked records, and tell the DPO at once.

    The access ends by its own expiry, read on every request; nothing is scheduled.
    """
    _check_may_use(user)
    reason = _required_reason(reason)
    now = now or timezone.now()
    access = EmergencyAccess(
        user=user,
        content_type=ContentType.objects.get_for_model(type(target)),
        object_id=target.pk,
        reason=reason,
        started_at=now,
        expires_at=now + EMERGENCY_ACCESS_DURATION,
    )
    access.full_clean()
    # auditlog writes the creation entry (actor, time, record) in this transaction.
    access.save()
    transaction.on_commit(lambda: _notify_data_protection_leads(access.pk))
    return access


def _data_protection_leads():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.DATA_PROTECTION_LEAD, is_active=True)
        .exclude(email="")
    )


def _notify_data_protection_leads(access_pk: int) -> None:
    access = EmergencyAccess.objects.select_related("user", "content_type").get(pk=access_pk)
    local_start = timezone.localtime(access.started_at)
    subject = "Emergency access used: %s record %s" % (
        access.content_type.name,
        access.object_id,
    )
    # Who, when, which record number and why: never a value from the record itself.
    body = (
        "%(who)s (%(username)s) used emergency access on %(date)s at %(time)s.\n\n"
        "Record: %(kind)s record number %(number)s\n"
        "Access ends: %(until)s\n\n"
        "Reason given:\n%(reason)s\n\n"
        "This use waits in your review queue until you mark it justified or open a breach: %(url)s\n"
    ) % {
        "who": access.user.get_full_name() or access.user.get_username(),
        "username": access.user.get_username(),
        "date": local_start.strftime("%d %B %Y"),
        "time": local_start.strftime("%H:%M"),
        "kind": access.content_type.name,
        "number": access.object_id,
        "until": timezone.localtime(access.expires_at).strftime("%H:%M"),
        "reason": access.reason,
        "url": reverse("emergency_review_detail", args=[access.pk]),
    }
    messages = [
        (subject, body, settings.DEFAULT_FROM_EMAIL, [lead.email])
        for lead in _data_protection_leads()
    ]
    send_mass_mail(messages, fail_silently=False)


def _check_reviewer(reviewer, access: EmergencyAccess) -> None:
    if Role.DATA_PROTECTION_LEAD not in roles_of(reviewer):
        raise PermissionDenied("Only the data protection lead reviews emergency access.")
    if reviewer.pk == access.user_id:
        raise ValidationError("Someone else must review your own emergency access.")
    if not access.is_pending:
        raise ValidationError("This emergency access has already been reviewed.")


def _required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def mark_emergency_access_justified(
    *, reviewer, access: EmergencyAccess, notes: str
) -> EmergencyAccess:
    access = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
    _check_reviewer(reviewer, access)
    access.review_notes = _required(notes, "notes", "Enter why the use was justified.")
    access.review = EmergencyAccess.Review.JUSTIFIED
    access.reviewed_by = reviewer
    access.reviewed_at = timezone.now()
    access.save()
    return access


@transaction.atomic
def open_breach_for_emergency_access(
    *, reviewer, access: EmergencyAccess, summary: str, notes: str = ""
) -> Breach:
    """Record the misuse as a breach, link it to the access and end the access now if it is live."""
    access = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
    _check_reviewer(reviewer, access)
    now = timezone.now()
    target = access.content_object
    breach = breaches.open_breach(
        opened_by=reviewer,
        summary=_required(summary, "summary", "Enter a summary of the breach."),
        kind=Breach.Kind.EMERGENCY_MISUSE,
        how_reported=Breach.HowReported.EMERGENCY_REVIEW,
        concerns_user=access.user,
        subjects=[target] if target is not None else [],
        now=now,
    )
    access.breach = breach
    access.review = EmergencyAccess.Review.BREACH
    access.review_notes = (notes or "").strip()
    access.reviewed_by = reviewer
    access.reviewed_at = now
    if access.is_live(now):
        access.expires_at = now
    access.save()
    return breach


def reads_during(access: EmergencyAccess, limit: int = READS_SHOWN):
    """The user's audited reads of the record and the rows linked to it while the access ran.

    Linked rows are found through the data map, so a new model about people is covered without
    this module knowing it. Returns the newest `limit` entries, with their content types loaded.
    """
    return (
        reads_covered_by(access)
        .select_related("content_type")
        .order_by("-timestamp", "-pk")[:limit]
    )


def reads_covered_by(access: EmergencyAccess, *, until=None):
    """Every audited read the access covered: the user's, of the record and its linked rows,
    between its start and its end (or `until`, if sooner)."""
    window_end = min(access.expires_at, until or timezone.now())
    about = Q(content_type_id=access.content_type_id, object_pk=str(access.object_id))
    target = access.content_object
    if target is not None and type(target) is _subject_model_or_none():
        for entry in datamap.personal_entries():
            if not (entry.subject_paths or entry.subject_generic):
                continue
            rows = entry.rows_about(target).annotate(
                pk_text=Cast("pk", output_field=models.CharField())
            )
            about |= Q(
                content_type=ContentType.objects.get_for_model(entry.model),
                object_pk__in=Subquery(rows.values("pk_text")),
            )
    return LogEntry.objects.filter(
        about,
        action=LogEntry.Action.ACCESS,
        actor_id=access.user_id,
        timestamp__gte=access.started_at,
        timestamp__lte=window_end,
    )


def _subject_model_or_none():
    try:
        return subject_model()
    except LookupError:
        return None


def pending_reviews():
    return EmergencyAccess.objects.filter(review=EmergencyAccess.Review.PENDING)


@dashboard_panel
def emergency_review_panel(user) -> Panel | None:
    if Role.DATA_PROTECTION_LEAD not in roles_of(user):
        return None
    count = pending_reviews().count()
    return Panel(
        title="Emergency access to review",
        count=count,
        url=reverse("emergency_review_list"),
        link_text="Review emergency access",
        description="Each use of emergency access waits here until you mark it justified or "
        "open a breach.",
        urgent=count > 0,
    )


def live_emergency_accesses(user) -> list[EmergencyAccess]:
    """The user's own live emergency accesses, with the records they opened."""
    if not roles_of(user) & STAFF_ROLES or not compliance.may_read_records(user):
        return []
    if policy.holds_live_emergency_access(user) is False:
        return []
    return list(
        EmergencyAccess.objects.filter(EmergencyAccess.live_filter(), user=user)
        .select_related("content_type")
        .prefetch_related("content_object")
    )


@dashboard_panel
def my_emergency_access_panel(user) -> Panel | None:
    """The user's own live emergency access, with the time it ends."""
    live = live_emergency_accesses(user)
    if not live:
        return None
    items = [
        "You are using emergency access to %s until %s."
        % (access.content_object, timezone.localtime(access.expires_at).strftime("%H:%M"))
        for access in live
    ]
    latest = live[0]
    return Panel(
        title="You are using emergency access",
        count=len(live),
        url=reverse("person_detail", args=[latest.object_id]),
        link_text="Open %s" % latest.content_object,
        description="Every record you open is logged and the data protection lead reviews each "
        "use.",
        urgent=True,
        items=items,
    )
