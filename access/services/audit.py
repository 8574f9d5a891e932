"""Searching the audit trail, for the data protection lead: who saw or changed what, and when.

Works on content types only, like the rest of `access`. Values shown are the ones auditlog stored,
already masked where the personal-data map says so (tmo.audit); nothing is decrypted here.
"""

import datetime
import json
from dataclasses import asdict, dataclass

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from access.history import describe_event
from tmo import datamap
from tmo.audit import record_event
from tmo.models import AuditChainLink, AuditVerification
from tmo.reports import csv_text

# The actions the search offers, in the words the page uses.
ACTIONS = {
    "created": "Created",
    "changed": "Changed",
    "deleted": "Deleted",
    "opened": "Opened",
    "event": "Domain event",
}
ACTION_LABELS = {
    LogEntry.Action.CREATE: "Created",
    LogEntry.Action.UPDATE: "Changed",
    LogEntry.Action.DELETE: "Deleted",
    LogEntry.Action.ACCESS: "Opened",
}
LAST_WEEK_DAYS = 7


@dataclass(frozen=True)
class AuditQuery:
    """What to search for. `record_type` is "app_label.model"; with `about_person`, entries on
    every row the personal-data map says is about that person are included too."""

    record_type: str = ""
    record_id: str = ""
    about_person: bool = False
    actor_id: int | None = None
    action: str = ""
    event: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None

    def is_set(self) -> bool:
        return any(value not in (None, "", False) for value in asdict(self).values())

    def as_audit(self) -> dict:
        """The filters as the export's audit entry records them (ids and dates, no values)."""
        return {
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in asdict(self).items()
            if value not in (None, "", False)
        }


def record_types() -> list[tuple[str, str]]:
    """The kinds of record the audit trail covers: every mapped model, and user accounts."""
    models = {entry.model for entry in datamap.entries()} | {get_user_model()}
    return sorted(
        ((m._meta.label_lower, str(m._meta.verbose_name).capitalize()) for m in models),
        key=lambda choice: choice[1],
    )


def subject_model():
    """The model rows are "about" in the personal-data map (records' Person): the one whose own
    entry points at itself with an empty path."""
    for entry in datamap.entries():
        if "" in entry.subject_paths:
            return entry.model
    return None


def _record_filter(query: AuditQuery) -> Q:
    app_label, _, model_name = query.record_type.partition(".")
    content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    which = Q(content_type=content_type, object_pk=str(query.record_id))
    model = content_type.model_class()
    if not query.about_person or model is None or model is not subject_model():
        return which
    person = model._default_manager.filter(pk=query.record_id).first()
    if person is None:
        return which
    # Every row the map says is about this person: their tenancy memberships, contacts,
    # documents, requests... One query per kind of record, asked only when the option is on.
    for entry in datamap.personal_entries():
        if entry.model is model or not (entry.subject_paths or entry.subject_generic):
            continue
        pks = [str(pk) for pk in entry.rows_about(person).values_list("pk", flat=True)]
        if pks:
            which |= Q(
                content_type=ContentType.objects.get_for_model(entry.model), object_pk__in=pks
            )
    return which


def search(query: AuditQuery) -> QuerySet:
    """Matching entries, newest first, with their actor, content type and chain position."""
    entries = LogEntry.objects.all()
    if query.record_type and query.record_id:
        entries = entries.filter(_record_filter(query))
    elif query.record_type:
        app_label, _, model_name = query.record_type.partition(".")
        entries = entries.filter(
            content_type=ContentType.objects.get_by_natural_key(app_label, model_name)
        )
    if query.actor_id:
        entries = entries.filter(actor_id=query.actor_id)
    if query.action == "created":
        entries = entries.filter(action=LogEntry.Action.CREATE)
    elif query.action == "changed":
        entries = entries.filter(action=LogEntry.Action.UPDATE).exclude(
            additional_data__has_key="event"
        )
    elif query.action == "deleted":
        entries = entries.filter(action=LogEntry.Action.DELETE)
    elif query.action == "opened":
        entries = entries.filter(action=LogEntry.Action.ACCESS)
    elif query.action == "event":
        entries = entries.filter(additional_data__has_key="event")
    if query.event:
        entries = entries.filter(additional_data__event=query.event)
    if query.since:
        entries = entries.filter(timestamp__gte=_start_of(query.since))
    if query.until:
        entries = entries.filter(timestamp__lt=_start_of(query.until + datetime.timedelta(days=1)))
    return (
        entries.select_related("actor", "content_type")
        .annotate(
            chain_position=Subquery(
                AuditChainLink.objects.filter(entry_id=OuterRef("pk")).values("position")[:1]
            )
        )
        .order_by("-timestamp", "-pk")
    )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def readers(query: AuditQuery) -> list[dict]:
    """For "everyone who opened this record": each user once, how often and when last. One query."""
    opened = search(AuditQuery(**{**asdict(query), "action": "opened"}))
    rows = (
        opened.order_by()
        .values("actor", "actor__username", "actor__first_name", "actor__last_name")
        .annotate(times=Count("pk"), last=Max("timestamp"))
        .order_by("-last")
    )
    return [
        {
            "actor_id": row["actor"],
            "name": " ".join(
                filter(None, [row["actor__first_name"], row["actor__last_name"]])
            ).strip()
            or row["actor__username"]
            or "Not signed in",
            "username": row["actor__username"] or "",
            "times": row["times"],
            "last": row["last"],
        }
        for row in rows
    ]


def last_week(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The seven days up to and including today."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=LAST_WEEK_DAYS - 1), today


# --- one line of the trail ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    pk: int
    position: int | None
    timestamp: datetime.datetime
    actor_id: int | None
    actor: str
    action: str
    event: str
    description: str
    record_type: str
    record_label: str
    object_pk: str
    object_repr: str
    changes: str
    details: str
    remote_addr: str
    request_id: str


def _actor_name(entry) -> str:
    if entry.actor is None:
        return entry.actor_email or "Not signed in"
    user = entry.actor
    full = user.get_full_name()
    return "%s (%s)" % (full, user.get_username()) if full else user.get_username()


def _value(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(changes) -> str:
    """auditlog's stored changes, field by field, as they were stored (masked where mapped)."""
    if not changes:
        return ""
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            return changes
    parts = []
    for field, change in sorted(changes.items()):
        if isinstance(change, list) and len(change) == 2:
            parts.append("%s: %s → %s" % (field, _value(change[0]), _value(change[1])))
        else:
            parts.append("%s: %s" % (field, _value(change)))
    return "; ".join(parts)


def _record_label(content_type) -> str:
    model = content_type.model_class()
    return str(model._meta.verbose_name).capitalize() if model else content_type.model


def row(entry) -> AuditRow:
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    event = data.get("event") or ""
    if event:
        action, description = "Event", describe_event(data)
    else:
        action = ACTION_LABELS.get(entry.action, "Recorded")
        description = {
            LogEntry.Action.ACCESS: "Opened the record",
            LogEntry.Action.CREATE: "Created the record",
            LogEntry.Action.DELETE: "Deleted the record",
        }.get(entry.action, "Changed the record")
    details = {key: value for key, value in data.items() if key != "event"}
    content_type = entry.content_type
    return AuditRow(
        pk=entry.pk,
        position=getattr(entry, "chain_position", None),
        timestamp=entry.timestamp,
        actor_id=entry.actor_id,
        actor=_actor_name(entry),
        action=action,
        event=event,
        description=description,
        record_type="%s.%s" % (content_type.app_label, content_type.model),
        record_label=_record_label(content_type),
        object_pk=entry.object_pk,
        object_repr=entry.object_repr,
        changes=_changes(entry.changes),
        details=_value(details) if details else "",
        remote_addr=entry.remote_addr or "",
        request_id=entry.cid or "",
    )


# --- the export -----------------------------------------------------------------------------------

CSV_HEADER = (
    "Chain position",
    "Entry",
    "When",
    "Who",
    "Action",
    "Event",
    "What happened",
    "Kind of record",
    "Record id",
    "Record",
    "Changes (as stored, masked)",
    "Details",
    "From address",
    "Request id",
)


@transaction.atomic
def export_csv(*, exported_by, query: AuditQuery) -> tuple[str, int]:
    """The matching entries as CSV, and the export itself recorded as a domain event (in the
    same chain it exports), naming the filters and how many entries left the system."""
    rows = [row(entry) for entry in search(query).iterator(chunk_size=1000)]
    record_event(
        actor=exported_by,
        obj=exported_by,
        event="audit_trail_exported",
        format="csv",
        filters=query.as_audit(),
        count=len(rows),
    )
    text = csv_text(
        CSV_HEADER,
        (
            (
                r.position or "",
                r.pk,
                timezone.localtime(r.timestamp).isoformat(),
                r.actor,
                r.action,
                r.event,
                r.description,
                r.record_label,
                r.object_pk,
                r.object_repr,
                r.changes,
                r.details,
                r.remote_addr,
                r.request_id,
            )
            for r in rows
        ),
    )
    return text, len(rows)


# --- the chain's state, for the page --------------------------------------------------------------


def chain_status() -> dict:
    """The last verification (daily job or verify_audit --record) and the last checkpoint."""
    last = AuditVerification.objects.order_by("-checked_at", "-pk").first()
    checkpoint = None
    if last is not None and last.checkpoint_file:
        checkpoint = last
    elif last is not None:
        checkpoint = (
            AuditVerification.objects.exclude(checkpoint_file="")
            .order_by("-checked_at", "-pk")
            .first()
        )
    return {"last": last, "checkpoint": checkpoint}
