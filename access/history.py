"""Who has read a record: the access entries the audit log holds for it.

Works on content types only, so any app's records can be asked about without `access` knowing them.
"""

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
