"""Appending many audit entries at once, for bulk loads (`manage.py seed_scale`).

The entries and links are exactly those tmo.auditchain.append writes one at a time: the same
canonical content, the same keyed hash over the previous link, gapless positions, the head moved
to the last link. Only the writing differs: entries and links are inserted a batch at a time
(bulk_create sends no post_save, so auditchain's per-entry signal never fires for them), under
the head's row lock for the whole run, so nothing else can extend the chain in between and
`manage.py verify_audit` sees one unbroken chain.
"""

from collections.abc import Iterable
from itertools import islice

from django.db import transaction

from tmo import auditchain


def append_entries(entries: Iterable, *, batch_size: int = 5000, on_batch=None) -> int:
    """Insert unsaved LogEntry instances, in the order given, and chain each one. Returns how
    many were appended. `on_batch(count)` is called after each batch (for progress reports).

    Each entry must carry every value it is to be stored with (timestamp included): the hash is
    computed from the instance, as auditchain.append does after a single save."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from tmo.models import AuditChainHead, AuditChainLink

    labels = auditchain.ContentTypeLabels(ContentType)
    total = 0
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=auditchain.HEAD_PK).first()
        if head is None:
            last = AuditChainLink.objects.order_by("-position").first()
            head = AuditChainHead(
                pk=auditchain.HEAD_PK,
                position=last.position if last else 0,
                hash=last.hash if last else auditchain.GENESIS_HASH,
            )
        key_id = auditchain.current_key_id()
        position, prev_hash = head.position, head.hash
        iterator = iter(entries)
        while True:
            batch = list(islice(iterator, batch_size))
            if not batch:
                break
            LogEntry.objects.bulk_create(batch)
            links = []
            for entry in batch:
                if entry.pk is None:
                    raise RuntimeError("The database did not return the new audit entries' ids.")
                position += 1
                digest = auditchain.link_hash(
                    content=auditchain.entry_content(
                        auditchain.instance_values(entry), labels(entry.content_type_id)
                    ),
                    prev_hash=prev_hash,
                    position=position,
                    key_id=key_id,
                )
                links.append(
                    AuditChainLink(
                        entry_id=entry.pk,
                        position=position,
                        prev_hash=prev_hash,
                        hash=digest,
                        key_id=key_id,
                    )
                )
                prev_hash = digest
            AuditChainLink.objects.bulk_create(links)
            total += len(batch)
            if on_batch is not None:
                on_batch(len(batch))
        head.position, head.hash = position, prev_hash
        head.save()
    return total
