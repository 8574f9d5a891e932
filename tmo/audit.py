"""Audit helpers shared by every app: full masking and read (access) entries."""

import logging

from auditlog.registry import auditlog
from auditlog.signals import accessed
from django.db import transaction

from tmo import auditchain, datamap
from tmo.fields import BlindIndexField

logger = logging.getLogger(__name__)

MASK = "[redacted]"


def mask_fully(value) -> str:
    """Auditlog's default masks half a value; for us any part of a sensitive value is too much."""
    return MASK


def register_mapped_models() -> None:
    """Register every model in the personal-data map with auditlog, masking what the map says,
    and the accounts themselves: who was given which role is an access decision to keep."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not auditlog.contains(user_model):
        auditlog.register(
            user_model, exclude_fields=["password", "last_login"], m2m_fields={"groups"}
        )
    # Every entry, whichever model it concerns, is chained as it is written.
    auditchain.connect_signals()
    for entry in datamap.entries():
        if auditlog.contains(entry.model):
            continue
        # Concrete fields only (reverse relations are noise), and never the blind indexes: a keyed
        # hash of an NI number is still a stable identifier of it.
        tracked = [
            f.name for f in entry.model._meta.concrete_fields if not isinstance(f, BlindIndexField)
        ]
        auditlog.register(entry.model, include_fields=tracked, mask_fields=entry.masked_fields())


def record_access(*, user, obj) -> None:
    """Write one access entry for a read of a confidential record.

    The actor, address and request id come from the request context set by the middleware.
    """
    entry = datamap.entry_for(type(obj))
    if entry is None or not entry.is_confidential:
        return
    # One transaction for the entry and its chain link (tmo.auditchain), even from a view
    # running in autocommit, so that no committed entry is ever without its link. No savepoint
    # inside a caller's transaction: a failed audit write must fail the whole read, never be
    # rolled back alone and caught.
    with transaction.atomic(savepoint=False):
        accessed.send(sender=type(obj), instance=obj)
    logger.info("access %s %s by user %s", obj._meta.label, obj.pk, user.pk)


def record_event(*, actor, obj, event: str, **details):
    """A domain event (a decision, a reset) as one audit entry on the object it concerns, beside
    auditlog's field changes, naming in one word what happened."""
    from auditlog.models import LogEntry

    with transaction.atomic():
        return LogEntry.objects.log_create(
            obj,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={},
            actor=actor,
            additional_data={"event": event, **details},
        )
