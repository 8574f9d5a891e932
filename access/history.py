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
