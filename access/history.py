"""Who has read a record: the access entries the audit log holds for it.

Works on content types only, so any app's records can be asked about without `access` knowing them.
"""

import datetime
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType


def readers_of(obj, limit: int = 50):
    """The newest `limit` access (read) entries for one object, with their actors loaded."""
    content_type = ContentType.objects.get_for_model(type(obj))
    return (
        LogEntry.objects.filter(
            content_type=content_type,
            object_pk=str(obj.pk),
            action=LogEntry.Action.ACCESS,
        )
        .select_related("actor")
        .order_by("-timestamp", "-pk")[:limit]
    )


def reads_of(records, *, actors, since, until=None):
    """Access entries for any of `records` ((content type id, object id) pairs) by `actors`,
    between `since` and `until`, oldest first, with their actors loaded."""
    from django.db.models import Q

    records = list(records)
    if not records:
        return LogEntry.objects.none()
    which = Q(pk__in=[])
    for content_type_id, object_id in records:
        which |= Q(content_type_id=content_type_id, object_pk=str(object_id))
    entries = LogEntry.objects.filter(
        which, action=LogEntry.Action.ACCESS, actor__in=actors, timestamp__gte=since
    )
    if until is not None:
        entries = entries.filter(timestamp__lte=until)
    return entries.select_related("actor", "content_type").order_by("timestamp", "pk")


# What a domain event on a person says in plain English. Access knows no app above it, so each
# description reads only the entry's additional_data (written by tmo.audit.record_event); an event
# not listed here is still shown, by its name.
def _items(data) -> str:
    from tmo.datamap import disclosable_item

    labels = []
    for key in data.get("items") or ():
        item = disclosable_item(key)
        if item is None:
            labels.append(key)
        elif item.model._meta.model_name == "person":
            # On the person's own page "Person: phone" says less than "phone".
            labels.append(item.label.split(": ", 1)[-1])
        else:
            labels.append(item.label)
    return ", ".join(labels) if labels else "nothing"


def _reference(data) -> str:
    return " (%s)" % data["reference"] if data.get("reference") else ""


def _decided(data) -> str:
    outcome = data.get("outcome")
    reference = _reference(data)
    if outcome == "refuse":
        return "Refused a request for information%s" % reference
    if outcome == "partial":
        return "Decided to release part of what was asked for%s: %s" % (reference, _items(data))
    return "Decided to release what was asked for%s: %s" % (reference, _items(data))


PERSON_TOLD = {
    "told": "Recorded that the person was told of the disclosure",
    "not_told_crime": "Recorded that the person is not told of the disclosure, as telling them "
    "would prejudice the crime purpose",
    "not_told_other": "Recorded that the person is not told of the disclosure, with the reason",
    "not_yet": "Recorded that whether to tell the person is not yet decided",
}

EVENT_DESCRIPTIONS = {
    "disclosure_requested": lambda d: (
        "Request for information from %s logged%s"
        % (d.get("requester") or "another organisation", _reference(d))
    ),
    "disclosure_decided": _decided,
    "disclosure_dpo_approved": lambda d: (
        "Data protection lead approved the release%s" % _reference(d)
    ),
    "disclosure_dpo_refused": lambda d: (
        "Data protection lead refused the release%s" % _reference(d)
    ),
    "disclosure_safety_override": lambda d: (
        "Safety marker overridden for the release%s" % _reference(d)
    ),
    "disclosure_sent": lambda d: (
        "Disclosed to %s%s: %s"
        % (d.get("recipient") or "another organisation", _reference(d), _items(d))
    ),
    "shared_under_agreement": lambda d: (
        "Shared with %s under the data sharing agreement with %s%s: %s"
        % (
            d.get("recipient") or "a partner",
            d.get("agreement") or "a partner",
            _reference(d),
            _items(d),
        )
    ),
    "work_order_safety_override": lambda d: (
        "Safety marker overridden for the work order%s" % _reference(d)
    ),
    "disclosure_person_told": lambda d: (
        "%s%s"
        % (
            PERSON_TOLD.get(d.get("person_told"), "Recorded whether the person was told"),
            _reference(d),
        )
    ),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a record's history: a read, or something done with it (shared, refused)."""

    kind: str  # "read" or "event"
    event: str
    description: str
    timestamp: datetime.datetime
    actor: object
    remote_addr: str | None

    @property
    def is_sharing(self) -> bool:
        return self.kind == "event"


def describe_event(data: dict) -> str:
    data = data if isinstance(data, dict) else {}
    event = data.get("event") or ""
    describe = EVENT_DESCRIPTIONS.get(event)
    if describe is not None:
        return describe(data)
    return (event.replace("_", " ").capitalize() or "Recorded event") + _reference(data)


def history_of(obj, *, reads: int = 50, events: int = 200) -> list[HistoryEntry]:
    """Who has seen and what has been done with one record, newest first: the newest `reads`
    access entries and the newest `events` domain events (record_event entries), merged.

    Two queries whatever the history's length. They are fetched apart so that a busy record's
    many reads cannot push its rarer disclosures off the page.
    """
    content_type = ContentType.objects.get_for_model(type(obj))
    on_obj = LogEntry.objects.filter(content_type=content_type, object_pk=str(obj.pk))
    read_entries = list(readers_of(obj, limit=reads))
    event_entries = list(
        on_obj.filter(additional_data__has_key="event")
        .exclude(action=LogEntry.Action.ACCESS)
        .select_related("actor")
        .order_by("-timestamp", "-pk")[:events]
    )
    history = [
        HistoryEntry(
            kind="read",
            event="read",
            description="Opened the record",
            timestamp=entry.timestamp,
            actor=entry.actor,
            remote_addr=entry.remote_addr,
        )
        for entry in read_entries
    ] + [
        HistoryEntry(
            kind="event",
            event=entry.additional_data.get("event", ""),
            description=describe_event(entry.additional_data),
            timestamp=entry.timestamp,
            actor=entry.actor,
            remote_addr=entry.remote_addr,
        )
        for entry in event_entries
    ]
    history.sort(key=lambda entry: entry.timestamp, reverse=True)
    return history
