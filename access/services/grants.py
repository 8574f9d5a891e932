"""Access workflows: committee access for a decision.

An officer names the records, the members, the decision and the reason; a senior officer or the
data protection lead decides; the decider, a senior officer or the DPO may revoke at once. Records
are named generically (a data-map kind and an id) because `access` knows no app above it; each is
checked against the requester's own policy scope, so nobody can ask for what they cannot see.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from access.dashboard import Panel, dashboard_panel
from access.models import CommitteeAccessRequest, CommitteeGrantItem, Meeting
from access.roles import STAFF_ROLES, Role, roles_of
from tmo import datamap
from tmo.audit import record_event

DECIDER_ROLES = frozenset({Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD})
Status = CommitteeAccessRequest.Status


# --- which records may be named ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    """A protected model a committee grant may name: "records.person", "records.document"..."""

    key: str
    label: str
    model: type[models.Model]


def record_kinds() -> list[RecordKind]:
    """Every personal-data model outside `access` whose manager answers `visible_to`."""
    kinds = []
    for entry in datamap.personal_entries():
        model = entry.model
        if model._meta.app_label == "access":
            continue
        if not hasattr(model._default_manager.all(), "visible_to"):
            continue
        kinds.append(
            RecordKind(
                key=model._meta.label_lower,
                label=str(model._meta.verbose_name).capitalize(),
                model=model,
            )
        )
    return sorted(kinds, key=lambda kind: kind.label)


def record_kind(key: str) -> RecordKind | None:
    return next((kind for kind in record_kinds() if kind.key == key), None)


def kind_of_model(model) -> RecordKind | None:
    return record_kind(model._meta.label_lower)


def check_record_choice(user, key: str, object_id) -> RecordKind:
    """The kind, if `user` may name this record; a ValidationError saying why not otherwise."""
    kind = record_kind(key)
    if kind is None:
        raise ValidationError("Choose the kind of record from the list.")
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise ValidationError("Enter the record number as digits, like 1234.") from None
    if object_id < 1:
        raise ValidationError("Enter the record number as digits, like 1234.")
    if not kind.model._default_manager.visible_to(user).filter(pk=object_id).exists():
        # The same words whether it does not exist or is outside the user's scope.
        raise ValidationError(
            "You cannot ask for %(kind)s %(id)s: there is no such record among those you can see. "
            "You can only name records you can open yourself.",
            params={"kind": kind.label.lower(), "id": object_id},
        )
    return kind


def committee_members():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.COMMITTEE_MEMBER, is_active=True)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


def end_of_day(day: datetime.date) -> datetime.datetime:
    """23:59:59 local (Europe/London) time on the day, the way the committee understands it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def default_expiry(meeting: Meeting | None = None) -> datetime.datetime:
    """The end of the meeting day, or of today when no meeting is named."""
    return end_of_day(meeting.held_on if meeting else timezone.localdate())


def is_decider(user) -> bool:
    return bool(roles_of(user) & DECIDER_ROLES)


def requests_for(user):
    """The requests a user may look at: deciders see all, other staff their own."""
    if is_decider(user):
        return CommitteeAccessRequest.objects.all()
    if roles_of(user) & STAFF_ROLES:
        return CommitteeAccessRequest.objects.filter(requested_by=user)
    return CommitteeAccessRequest.objects.none()


def live_grants_for_member(user, now=None):
    return CommitteeAccessRequest.objects.filter(
        CommitteeAccessRequest.live_filter(now), members=user
    ).distinct()


def may_revoke(user, request: CommitteeAccessRequest) -> bool:
    return request.status == Status.APPROVED and (
        is_decider(user) or (request.decided_by_id is not None and request.decided_by_id == user.pk)
    )


# --- the audit of each step ------------------------------------------------------------------------


def audit_event(request: CommitteeAccessRequest, *, actor, event: str, **details) -> LogEntry:
    """A domain entry beside auditlog's field changes, saying in one word what happened.

    Each step writes exactly one, on the request, with the event name in additional_data, so the
    history of a grant reads as events whoever reads it.
    """
    return record_event(actor=actor, obj=request, event=event, **details)


def _items_details(request: CommitteeAccessRequest) -> list[str]:
    return [
        "%s:%s" % (item.content_type.app_label + "." + item.content_type.model, item.object_id)
        for item in request.items.select_related("content_type")
    ]


# --- the workflow ----------------------------------------------------------------------------------


@transaction.atomic
def committee_access_request(
    *,
    requested_by,
    decision: str,
    reason: str,
    members: Iterable,
    items: Sequence[tuple[str, int]],
    meeting: Meeting | None = None,
    expires_at: datetime.datetime | None = None,
) -> CommitteeAccessRequest:
    """Ask for `members` to see the named records (kind key, id) until `expires_at`."""
    if not roles_of(requested_by) & STAFF_ROLES:
        raise ValidationError("Only staff can ask for committee access.")
    errors = []
    decision, reason = decision.strip(), reason.strip()
    if not decision:
        errors.append("Enter the decision or agenda item the committee must make.")
    if not reason:
        errors.append("Enter why the committee cannot decide without these records.")
    members = list(members)
    eligible = set(committee_members().values_list("pk", flat=True))
    if not members:
        errors.append("Choose at least one committee member.")
    elif any(member.pk not in eligible for member in members):
        errors.append("Only committee members can be given committee access.")
    if not items:
        errors.append("Add at least one record the committee needs.")
    kinds = []
    for key, object_id in dict.fromkeys(items):
        try:
            kinds.append((check_record_choice(requested_by, key, object_id), int(object_id)))
        except ValidationError as error:
            errors.extend(error.messages)
    expires_at = expires_at or default_expiry(meeting)
    if expires_at <= timezone.now():
        errors.append("The access must end in the future.")
    if errors:
        raise ValidationError(errors)

    request = CommitteeAccessRequest.objects.create(
        decision=decision,
        meeting=meeting,
        reason=reason,
        expires_at=expires_at,
        requested_by=requested_by,
    )
    request.members.set(members)
    CommitteeGrantItem.objects.bulk_create(
        CommitteeGrantItem(
            request=request,
            content_type=ContentType.objects.get_for_model(kind.model),
            object_id=object_id,
        )
        for kind, object_id in kinds
    )
    audit_event(
        request,
        actor=requested_by,
        event="committee_grant_requested",
        items=_items_details(request),
        members=sorted(member.pk for member in members),
    )
    return request


def _check_decider(user, request: CommitteeAccessRequest) -> None:
    if not is_decider(user):
        raise ValidationError("Only a senior officer or the data protection lead can decide.")
    if request.requested_by_id == user.pk:
        raise ValidationError(
            "You cannot decide your own request. Another senior officer or the data protection "
            "lead must decide it."
        )
    if request.status != Status.PENDING:
        raise ValidationError(
            "This request has already been decided (%(status)s).",
            params={"status": request.get_status_display().lower()},
        )


def _locked(request: CommitteeAccessRequest) -> CommitteeAccessRequest:
    """The row again under a lock, so that two deciders cannot both decide it."""
    return CommitteeAccessRequest.objects.select_for_update().get(pk=request.pk)


def _locked_for_decision(
    request: CommitteeAccessRequest, decided_by, reason: str
) -> tuple[CommitteeAccessRequest, str]:
    """The request under a lock, once the decider may decide it, with the reason they gave."""
    request = _locked(request)
    _check_decider(decided_by, request)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Enter the reason for your decision.")
    return request, reason


def _record_decision(
    request: CommitteeAccessRequest, decided_by, status: str, reason: str, event: str
) -> None:
    request.status = status
    request.decided_by = decided_by
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save()
    audit_event(request, actor=decided_by, event=event, reason=reason)


@transaction.atomic
def committee_access_approve(
    *, decided_by, request: CommitteeAccessRequest, reason: str
) -> CommitteeAccessRequest:
    request, reason = _locked_for_decision(request, decided_by, reason)
    if request.expires_at <= timezone.now():
        raise ValidationError(
            "This request's access would already have ended. Refuse it and ask for a new one."
        )
    _record_decision(request, decided_by, Status.APPROVED, reason, "committee_grant_approved")
    _notify_on_commit(
        request.members.exclude(email=""),
        "Committee papers are waiting for you",
        "You have been given access to confidential papers for a committee decision. Sign in "
        "to read them under 'Papers for meeting'. They are confidential: do not copy or share "
        "them.",
    )
    _notify_requester(request)
    return request


@transaction.atomic
def committee_access_refuse(
    *, decided_by, request: CommitteeAccessRequest, reason: str
) -> CommitteeAccessRequest:
    request, reason = _locked_for_decision(request, decided_by, reason)
    _record_decision(request, decided_by, Status.REFUSED, reason, "committee_grant_refused")
    _notify_requester(request)
    return request


@transaction.atomic
def committee_access_revoke(
    *, revoked_by, request: CommitteeAccessRequest, reason: str
) -> CommitteeAccessRequest:
    """End a grant now: the policies read it on the next request, so nothing else is needed."""
    request = _locked(request)
    if request.status != Status.APPROVED:
        raise ValidationError("Only an approved grant can be revoked.")
    if not may_revoke(revoked_by, request):
        raise ValidationError(
            "Only the person who approved it, a senior officer or the data protection lead "
            "can revoke this grant."
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError("Enter why the access is being revoked.")
    request.status = Status.REVOKED
    request.revoked_by = revoked_by
    request.revoked_at = timezone.now()
    request.revocation_reason = reason
    request.save()
    audit_event(request, actor=revoked_by, event="committee_grant_revoked", reason=reason)
    return request


def _notify_requester(request: CommitteeAccessRequest) -> None:
    _notify_on_commit(
        [request.requested_by] if request.requested_by.email else [],
        "Your committee access request has been decided",
        "Your request for committee access #%s is now: %s. Sign in to see the decision."
        % (request.pk, request.get_status_display().lower()),
    )


def _notify_on_commit(users, subject: str, body: str) -> None:
    """Mail without personal data (no names, no decision text): only a prompt to sign in."""
    addresses = [user.email for user in users if user.email]
    if addresses:
        transaction.on_commit(lambda: send_mail(subject, body, None, addresses, fail_silently=True))


# --- reading a grant back ------------------------------------------------------------------------


def objects_by_item(items, user) -> dict[int, models.Model]:
    """The named records `user` may see, keyed by item id: one query per kind of record."""
    by_type: dict[int, list] = {}
    for item in items:
        by_type.setdefault(item.content_type_id, []).append(item)
    found = {}
    for type_items in by_type.values():
        model = type_items[0].content_type.model_class()
        if model is None or not hasattr(model._default_manager.all(), "visible_to"):
            continue
        rows = model._default_manager.visible_to(user).in_bulk(
            [item.object_id for item in type_items]
        )
        for item in type_items:
            if item.object_id in rows:
                found[item.pk] = rows[item.object_id]
    return found


def item_label(item: CommitteeGrantItem) -> str:
    """A label that names no one: the kind of record and its number."""
    model = item.content_type.model_class()
    kind = str(model._meta.verbose_name).capitalize() if model else item.content_type.model
    return "%s %s" % (kind, item.object_id)


# --- dashboard ------------------------------------------------------------------------------------


@dashboard_panel
def committee_requests_panel(user) -> Panel | None:
    if not is_decider(user):
        return None
    waiting = CommitteeAccessRequest.objects.filter(status=Status.PENDING).exclude(
        requested_by=user
    )
    return Panel(
        title="Committee access requests waiting",
        count=waiting.count(),
        url=reverse("committee_access_list") + "#waiting",
        link_text="Decide committee access requests",
        description="Requests by officers for committee members to see named records.",
    )


@dashboard_panel
def committee_papers_panel(user) -> Panel | None:
    if Role.COMMITTEE_MEMBER not in roles_of(user):
        return None
    count = CommitteeGrantItem.objects.filter(
        request__in=live_grants_for_member(user).values("pk")
    ).count()
    return Panel(
        title="Papers for meeting: %d %s" % (count, "item" if count == 1 else "items"),
        count=count,
        url=reverse("committee_papers"),
        link_text="Read your papers for meeting",
        description="Confidential. Only the records the committee needs for a decision.",
    )


# --- who opened what ----------------------------------------------------------------------------


def reads_under(request: CommitteeAccessRequest):
    """ACCESS entries for the granted records by the grant's members while it could be used."""
    from access.history import reads_of

    if request.decided_at is None or request.status == Status.REFUSED:
        return LogEntry.objects.none()
    ends = min(filter(None, [request.revoked_at, request.expires_at]))
    return reads_of(
        [(item.content_type_id, item.object_id) for item in request.items.all()],
        actors=request.members.all(),
        since=request.decided_at,
        until=ends,
    )


def pending_requests():
    return CommitteeAccessRequest.objects.filter(status=Status.PENDING)


def live_grants(now=None):
    return CommitteeAccessRequest.objects.filter(CommitteeAccessRequest.live_filter(now))
