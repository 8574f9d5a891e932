"""The tamper-evident audit chain.

Every auditlog LogEntry (field changes, ACCESS reads, domain events) gets one AuditChainLink in the
same transaction: a keyed HMAC-SHA256 over a canonical serialisation of the entry and the previous
link's hash. Appends lock the single head row, so positions are gapless and the chain cannot fork.
Anyone who edits, deletes, reorders or inserts an entry without the key breaks the chain, and
`manage.py verify_audit` names the first entry where it breaks.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import connection, connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HEAD_PK = 1
FORMAT = "tmo-audit-v1"

# Every stored column of a LogEntry, so that no part of an entry can change unnoticed.
ENTRY_FIELDS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "actor_id",
    "actor_email",
    "cid",
    "remote_addr",
    "remote_port",
    "timestamp",
    "additional_data",
)


class ChainKeyError(ImproperlyConfigured):
    pass


def chain_keys() -> dict[str, str]:
    """AUDIT_CHAIN_KEYS: key id -> secret, newest first. New links use the first; old links keep
    naming the key they were made with, so a rotated-out key must stay until nothing uses it."""
    keys = getattr(settings, "AUDIT_CHAIN_KEYS", None)
    if not keys:
        raise ChainKeyError("AUDIT_CHAIN_KEYS is not configured; see README.md.")
    return dict(keys)


def current_key_id() -> str:
    return next(iter(chain_keys()))


def key_for(key_id: str) -> bytes:
    try:
        return chain_keys()[key_id].encode()
    except KeyError:
        raise ChainKeyError("Audit chain key %r is not in AUDIT_CHAIN_KEYS." % key_id) from None


def parse_keys(value: str) -> dict[str, str]:
    """Parse the environment form "id:secret,id2:secret2" (newest first)."""
    keys = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id.strip() or not secret.strip():
            raise ImproperlyConfigured("AUDIT_CHAIN_KEYS must be comma-separated id:secret pairs.")
        keys[key_id.strip()] = secret.strip()
    return keys


def sign(purpose: str, payload: dict, *, key_id: str | None = None) -> tuple[str, str]:
    """HMAC for a checkpoint or a segment trailer. The purpose is part of the message, so a
    signature made for one kind of document is never valid for another. Returns (key_id, hex)."""
    key_id = key_id or current_key_id()
    message = ("%s\n%s\n" % (FORMAT, purpose)).encode() + canonical_json(payload).encode()
    return key_id, hmac.new(key_for(key_id), message, hashlib.sha256).hexdigest()


def check_signature(purpose: str, payload: dict, *, key_id: str, signature: str) -> bool:
    try:
        _, expected = sign(purpose, payload, key_id=key_id)
    except ChainKeyError:
        return False
    return hmac.compare_digest(expected, str(signature))


# Built once: json.dumps with these options would build a new encoder for every entry.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value) -> str:
    return _CANONICAL.encode(value)


def _timestamp(value) -> str | None:
    if value is None:
        return None
    if value.__class__ is datetime.datetime and value.tzinfo is datetime.UTC:
        return value.isoformat()  # as the database driver gives it: no conversion needed
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.isoformat()


@lru_cache(maxsize=4096)  # a walk meets the same few addresses again and again
def _address(value) -> str | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(str(value)).compressed
    except ValueError:
        return str(value)


def _json_value(value):
    """A JSON column's value as the database gives it back: text is parsed (some drivers return
    it), and an in-memory value is round-tripped, so tuples, int keys and the like hash the
    same before and after they were stored."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value is None:
        return None
    return json.loads(json.dumps(value))


def _int(value) -> int | None:
    return None if value is None or value == "" else int(value)


def entry_content(values: dict, content_type_label: str) -> dict:
    """The canonical content of one entry from its column values (a model instance's or a
    `.values()` row's). The content type is named by app label and model, not by id, so that
    repointing an entry (or its content-type row) at another model is caught too."""
    return {
        "id": int(values["id"]),
        "content_type": content_type_label,
        "object_pk": None if values["object_pk"] is None else str(values["object_pk"]),
        "object_id": _int(values["object_id"]),
        "object_repr": values["object_repr"],
        "serialized_data": _json_value(values["serialized_data"]),
        "action": int(values["action"]),
        "changes_text": values["changes_text"] or "",
        "changes": _json_value(values["changes"]),
        "actor_id": _int(values["actor_id"]),
        "actor_email": values["actor_email"] or None,
        "cid": values["cid"] or None,
        "remote_addr": _address(values["remote_addr"]),
        "remote_port": _int(values["remote_port"]),
        "timestamp": _timestamp(values["timestamp"]),
        "additional_data": _json_value(values["additional_data"]),
    }


def link_hash(*, content: dict, prev_hash: str, position: int, key_id: str) -> str:
    message = "%s\n%d\n%s\n%s" % (FORMAT, position, prev_hash, canonical_json(content))
    return hmac.new(key_for(key_id), message.encode(), hashlib.sha256).hexdigest()


def instance_values(entry) -> dict:
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


class ContentTypeLabels:
    """content_type_id -> "app_label.model", read once per walk (the table is small)."""

    def __init__(self, content_type_model):
        self._model = content_type_model
        self._labels: dict[int, str] = {}

    def __call__(self, content_type_id: int) -> str:
        if content_type_id not in self._labels:
            self._labels = {
                pk: "%s.%s" % (app_label, model)
                for pk, app_label, model in self._model.objects.values_list(
                    "pk", "app_label", "model"
                )
            }
        return self._labels.get(content_type_id, "missing:%s" % content_type_id)


def append(entry, *, link_model=None, head_model=None, labels: Callable | None = None, using=None):
    """Chain one LogEntry: lock the head, hash the entry onto it, write the link, move the head.

    The models can be passed in so that the migration's backfill uses its historical models."""
    from django.contrib.contenttypes.models import ContentType

    from tmo.models import AuditChainHead, AuditChainLink

    link_model = link_model or AuditChainLink
    head_model = head_model or AuditChainHead
    if labels is None:
        ct = ContentType.objects.db_manager(using).get_for_id(entry.content_type_id)
        label = "%s.%s" % (ct.app_label, ct.model)
    else:
        label = labels(entry.content_type_id)
    using = using or "default"
    # No savepoint within the entry's transaction: a link that cannot be written must undo the
    # entry too, so a caller that caught the error could not commit an entry without its link.
    with transaction.atomic(using=using, savepoint=False):
        head = head_model.objects.using(using).select_for_update().filter(pk=HEAD_PK).first()
        if head is None:
            # Only on an empty chain (or a test database just flushed): start from the last link.
            last = link_model.objects.using(using).order_by("-position").first()
            head = head_model(
                pk=HEAD_PK,
                position=last.position if last else 0,
                hash=last.hash if last else GENESIS_HASH,
            )
        position = head.position + 1
        key_id = current_key_id()
        digest = link_hash(
            content=entry_content(instance_values(entry), label),
            prev_hash=head.hash,
            position=position,
            key_id=key_id,
        )
        link_model.objects.using(using).create(
            entry_id=entry.pk, position=position, prev_hash=head.hash, hash=digest, key_id=key_id
        )
        head.position = position
        head.hash = digest
        head.save(using=using)
    return position, digest


def on_logentry_saved(sender, instance, created, raw=False, using=None, **kwargs):
    if created and not raw:
        append(instance, using=using)


ACTOR_PROTECTED = (
    "This account has acted on records, and its audit entries name it: deleting it would rewrite "
    "them. Deactivate the account instead."
)


def audited_actors(users) -> list[str]:
    """A line for each user whose deletion would rewrite audit entries (for the admin's list of
    protected objects)."""
    from auditlog.models import LogEntry
    from django.db.models import Count

    counts = dict(
        LogEntry.objects.filter(actor__in=[user.pk for user in users])
        .values_list("actor")
        .annotate(n=Count("pk"))
        .values_list("actor", "n")
    )
    return [
        "%s: named as the actor of %d audit entries (deactivate the account instead)"
        % (user.get_username(), counts[user.pk])
        for user in users
        if counts.get(user.pk)
    ]


def refuse_deleting_actors(sender, instance, **kwargs):
    """auditlog would set the entries' actor to NULL, an UPDATE of history that breaks the chain
    (and that PostgreSQL refuses): an account that has acted is deactivated, never deleted."""
    from auditlog.models import LogEntry
    from django.db.models import ProtectedError

    entry = LogEntry.objects.filter(actor_id=instance.pk).first()
    if entry is not None:
        raise ProtectedError(ACTOR_PROTECTED, {entry})


def connect_signals() -> None:
    from auditlog.models import LogEntry
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save, pre_delete

    post_save.connect(on_logentry_saved, sender=LogEntry, dispatch_uid="tmo.auditchain.append")
    pre_delete.connect(
        refuse_deleting_actors, sender=get_user_model(), dispatch_uid="tmo.auditchain.actors"
    )


# --- verification -------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    count: int
    head_position: int
    head_hash: str
    message: str
    entry_id: int | None = None
    position: int | None = None

    def summary(self) -> str:
        if self.ok:
            return "audit chain intact: %d entries, head #%d %s" % (
                self.count,
                self.head_position,
                self.head_hash,
            )
        return "audit chain BROKEN: %s" % self.message


class _Broken(Exception):
    def __init__(self, message: str, *, entry_id=None, position=None):
        super().__init__(message)
        self.entry_id = entry_id
        self.position = position


class _Link(NamedTuple):
    """A chain link's columns, read without building a model instance for each."""

    position: int
    entry_id: int
    prev_hash: str
    hash: str
    key_id: str


class _LinkHasher:
    """`link_hash` for a whole walk, from the entry's canonical text, with each key read from
    settings once and the HMAC computed in one call (hmac.digest) rather than through the
    hmac module's Python object."""

    def __init__(self):
        self._keys: dict[str, bytes] = {}

    def __call__(self, *, content_json: str, prev_hash: str, position: int, key_id: str) -> str:
        key = self._keys.get(key_id)
        if key is None:
            key = self._keys[key_id] = key_for(key_id)
        message = "%s\n%d\n%s\n%s" % (FORMAT, position, prev_hash, content_json)
        return hmac.digest(key, message.encode(), "sha256").hex()


def _stored_json(value):
    """`_json_value` for a value the database driver has already decoded: a dict or list that
    came out of a JSON column holds only JSON types, so its round trip is the identity."""
    if type(value) is dict or type(value) is list:
        return value
    return _json_value(value)


# The JSON columns, which the verifier reads as the database's own text (cast in the query) so
# that a value met again and again is decoded and re-encoded only once.
_JSON_FIELDS = ("serialized_data", "changes", "additional_data")


def _decoded(text):
    """A JSON column's text decoded as Django's JSONField.from_db_value does."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@lru_cache(maxsize=4096)
def _stored_json_piece(text) -> str:
    """canonical_json of the content value for a JSON column's text."""
    return _json_piece(_stored_json(_decoded(text)))


def _stored_entry_content(row: tuple, labels) -> dict:
    """`entry_content` of a row of `_entry_rows` (the JSON columns as text): the same dict."""
    (
        id_,
        content_type_id,
        object_pk,
        object_id,
        object_repr,
        serialized_data,
        action,
        changes_text,
        changes,
        actor_id,
        actor_email,
        cid,
        remote_addr,
        remote_port,
        timestamp,
        additional_data,
    ) = row
    return {
        "id": int(id_),
        "content_type": labels(content_type_id),
        "object_pk": None if object_pk is None else str(object_pk),
        "object_id": _int(object_id),
        "object_repr": object_repr,
        "serialized_data": _stored_json(_decoded(serialized_data)),
        "action": int(action),
        "changes_text": changes_text or "",
        "changes": _stored_json(_decoded(changes)),
        "actor_id": _int(actor_id),
        "actor_email": actor_email or None,
        "cid": cid or None,
        "remote_addr": _address(remote_addr),
        "remote_port": _int(remote_port),
        "timestamp": _timestamp(timestamp),
        "additional_data": _stored_json(_decoded(additional_data)),
    }


# The keys of `entry_content` in the order canonical_json sorts them, and the object it makes of
# them: the verifier writes the canonical text of an entry straight from its column values.
_CONTENT_KEYS = (
    "action",
    "actor_email",
    "actor_id",
    "additional_data",
    "changes",
    "changes_text",
    "cid",
    "content_type",
    "id",
    "object_id",
    "object_pk",
    "object_repr",
    "remote_addr",
    "remote_port",
    "serialized_data",
    "timestamp",
)
_CONTENT_TEMPLATE = "{%s}" % ",".join('"%s":%%s' % key for key in _CONTENT_KEYS)


def _json_piece(value) -> str:
    """canonical_json of one value, the common scalar cases without the encoder's setup."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    return canonical_json(value)


def _stored_entry_json(row: tuple, label_json: str) -> str:
    """canonical_json(_stored_entry_content(row, ...)), the same text, written directly: this
    is the verifier's inner loop. `label_json` is the content type's label already encoded."""
    (
        id_,
        _content_type_id,
        object_pk,
        object_id,
        object_repr,
        serialized_data,
        action,
        changes_text,
        changes,
        actor_id,
        actor_email,
        cid,
        remote_addr,
        remote_port,
        timestamp,
        additional_data,
    ) = row
    return _CONTENT_TEMPLATE % (
        int.__repr__(int(action)),
        encode_basestring(actor_email) if actor_email else "null",
        _int_piece(actor_id),
        "null" if additional_data is None else _stored_json_piece(additional_data),
        "null" if changes is None else _stored_json_piece(changes),
        encode_basestring(changes_text) if changes_text else '""',
        encode_basestring(cid) if cid else "null",
        label_json,
        int.__repr__(int(id_)),
        _int_piece(object_id),
        "null" if object_pk is None else encode_basestring(str(object_pk)),
        _json_piece(object_repr),
        _address_piece(remote_addr),
        _int_piece(remote_port),
        "null" if serialized_data is None else _stored_json_piece(serialized_data),
        "null" if timestamp is None else encode_basestring(_timestamp(timestamp)),
    )


def _int_piece(value) -> str:
    return "null" if value is None or value == "" else int.__repr__(int(value))


@lru_cache(maxsize=4096)
def _address_piece(value) -> str:
    return _json_piece(_address(value))


def _entry_rows(entries):
    """Rows of ENTRY_FIELDS' values, in that order, with the JSON columns as the database's text."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    texts = {"_%s_text" % name: Cast(name, TextField()) for name in _JSON_FIELDS}
    columns = ["_%s_text" % name if name in _JSON_FIELDS else name for name in ENTRY_FIELDS]
    return entries.order_by().annotate(**texts).values_list(*columns)


def _links_upto(last_position: int, batch_size: int) -> Iterator[tuple[list[tuple], dict]]:
    """The links up to a position in order, a batch at a time so that memory stays bounded, each
    batch with its entries' rows (`_entry_rows`) by id. The entries are selected by the batch's
    position range in the database, rather than by a list of a thousand ids."""
    from auditlog.models import LogEntry

    from tmo.models import AuditChainLink

    after = 0
    while True:
        # Plain tuples in _Link's order: a named tuple for each of a million links costs more
        # than reading them.
        batch = list(
            AuditChainLink.objects.filter(position__gt=after, position__lte=last_position)
            .order_by("position")
            .values_list(*_Link._fields)[:batch_size]
        )
        if not batch:
            return
        in_batch = AuditChainLink.objects.filter(
            position__gt=after, position__lte=batch[-1][0]
        ).values("entry_id")
        rows = {row[0]: row for row in _entry_rows(LogEntry.objects.filter(id__in=in_batch))}
        yield batch, rows
        after = batch[-1][0]


_READ_AHEAD_DONE = object()


def _read_ahead(batches: Iterator, *, depth: int = 2) -> Iterator:
    """`batches`, read on a thread of its own (with its own database connection) up to `depth`
    batches ahead of the caller, so that the database's time and the hashing's overlap: they
    were a third and two thirds of a walk done in turn. Only outside a transaction, where another
    connection sees the same rows as this one."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def read():
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_READ_AHEAD_DONE)
        except BaseException as error:  # handed to the caller, which raises it
            put(error)
        finally:
            connections.close_all()  # this thread's own connections

    reader = threading.Thread(target=read, name="audit-chain-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _READ_AHEAD_DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _walk(head_position: int, batch_size: int, labels, on_link=None) -> tuple[int, str]:
    """Recompute every link from the genesis to `head_position`; raise _Broken at the first
    link that does not hold. `on_link(link, content)` sees each verified link (for exports)."""
    try:
        return _walk_links(head_position, batch_size, labels, on_link)
    finally:
        # The cache holds entries' contents: keep none of them past the walk.
        _stored_json_piece.cache_clear()
        _address_piece.cache_clear()


def _walk_links(head_position: int, batch_size: int, labels, on_link) -> tuple[int, str]:
    expected_position, expected_prev = 1, GENESIS_HASH
    hasher = _LinkHasher()
    label_json: dict[int, str] = {}
    batches = _links_upto(head_position, batch_size)
    if not connection.in_atomic_block:
        batches = _read_ahead(batches)
    for batch, rows in batches:
        for position, entry_id, prev_hash, link_hash_, key_id in batch:
            if position != expected_position:
                raise _Broken(
                    "position #%d is missing (link #%d for entry %d follows #%d): entries or "
                    "links were deleted"
                    % (expected_position, position, entry_id, expected_position - 1),
                    entry_id=entry_id,
                    position=expected_position,
                )
            if prev_hash != expected_prev:
                raise _Broken(
                    "entry %d at #%d does not follow the entry before it (links reordered or "
                    "rewritten)" % (entry_id, position),
                    entry_id=entry_id,
                    position=position,
                )
            row = rows.get(entry_id)
            if row is None:
                raise _Broken(
                    "entry %d at #%d has been deleted" % (entry_id, position),
                    entry_id=entry_id,
                    position=position,
                )
            content_type_id = row[1]
            if content_type_id not in label_json:
                label_json[content_type_id] = encode_basestring(labels(content_type_id))
            try:
                digest = hasher(
                    content_json=_stored_entry_json(row, label_json[content_type_id]),
                    prev_hash=prev_hash,
                    position=position,
                    key_id=key_id,
                )
            except ChainKeyError:
                raise _Broken(
                    "entry %d at #%d was signed with key %r, which is not configured"
                    % (entry_id, position, key_id),
                    entry_id=entry_id,
                    position=position,
                ) from None
            if not hmac.compare_digest(digest, link_hash_):
                raise _Broken(
                    "entry %d at #%d does not match its hash: its content was changed, or it was "
                    "swapped with another entry" % (entry_id, position),
                    entry_id=entry_id,
                    position=position,
                )
            if on_link is not None:
                on_link(
                    _Link(position, entry_id, prev_hash, link_hash_, key_id),
                    _stored_entry_content(row, labels),
                )
            expected_position, expected_prev = position + 1, link_hash_
    return expected_position - 1, expected_prev


def read_head() -> tuple[int, str] | None:
    from tmo.models import AuditChainHead

    head = AuditChainHead.objects.filter(pk=HEAD_PK).values_list("position", "hash").first()
    return tuple(head) if head else None


def verify(*, batch_size: int = 1000, checkpoint: dict | None = None) -> VerifyResult:
    """Check the whole chain, from the genesis to the head read at the start (entries appended
    while the walk runs are left for the next check, so a busy site does not fail it)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Exists, OuterRef

    from tmo.models import AuditChainLink

    head = read_head()
    head_position, head_hash = head if head else (0, GENESIS_HASH)
    try:
        if head is None and AuditChainLink.objects.exists():
            raise _Broken("the chain head is missing")
        count, last_hash = _walk(head_position, batch_size, ContentTypeLabels(ContentType))
        if count != head_position or last_hash != head_hash:
            raise _Broken(
                "the chain ends at #%d but its head says #%d: the latest entries were removed"
                % (count, head_position),
                position=count + 1,
            )
        # A link commits with its entry, so any committed entry without one went around the chain.
        unlinked = (
            LogEntry.objects.filter(~Exists(AuditChainLink.objects.filter(entry_id=OuterRef("pk"))))
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if unlinked is not None:
            raise _Broken(
                "entry %d has no chain link: it was written around the chain" % unlinked,
                entry_id=unlinked,
            )
        if checkpoint is not None:
            _check_checkpoint(checkpoint, head_position)
    except _Broken as broken:
        return VerifyResult(
            ok=False,
            count=head_position,
            head_position=head_position,
            head_hash=head_hash,
            message=str(broken),
            entry_id=broken.entry_id,
            position=broken.position,
        )
    return VerifyResult(
        ok=True,
        count=head_position,
        head_position=head_position,
        head_hash=head_hash,
        message="%d entries verified" % head_position,
    )


# --- checkpoints --------------------------------------------------------------------------------

CHECKPOINT_PURPOSE = "checkpoint"


def make_checkpoint() -> dict:
    head = read_head() or (0, GENESIS_HASH)
    payload = {
        "format": "tmo-audit-checkpoint-v1",
        "position": head[0],
        "hash": head[1],
        "created_at": timezone.now().astimezone(datetime.UTC).isoformat(),
    }
    key_id, signature = sign(CHECKPOINT_PURPOSE, payload)
    return {**payload, "key_id": key_id, "hmac": signature}


def write_checkpoint(out) -> Path:
    """Write a signed checkpoint to `out`: a file, or a directory (a dated name inside it)."""
    checkpoint = make_checkpoint()
    out = Path(out)
    if out.is_dir() or str(out).endswith(("/", "\\")):
        out.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        out = out / ("audit-checkpoint-%s-%d.json" % (stamp, checkpoint["position"]))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(checkpoint, indent=2) + "\n")
    return out


def load_checkpoint(path) -> dict:
    try:
        checkpoint = json.loads(Path(path).read_text())
        position = int(checkpoint["position"])
        str(checkpoint["hash"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError("%s is not a readable checkpoint (%s)" % (path, error)) from None
    if position < 0:
        raise ValueError("%s is not a readable checkpoint" % path)
    return checkpoint


def checkpoint_is_signed(checkpoint: dict) -> bool:
    payload = {k: v for k, v in checkpoint.items() if k not in ("key_id", "hmac")}
    return check_signature(
        CHECKPOINT_PURPOSE,
        payload,
        key_id=str(checkpoint.get("key_id", "")),
        signature=str(checkpoint.get("hmac", "")),
    )


def _check_checkpoint(checkpoint: dict, head_position: int) -> None:
    from tmo.models import AuditChainLink

    position = int(checkpoint["position"])
    if not checkpoint_is_signed(checkpoint):
        raise _Broken("the checkpoint's signature does not match: it is not one this system made")
    if position == 0:
        return
    if position > head_position:
        raise _Broken(
            "the checkpoint is at #%d but the chain now ends at #%d: entries were removed"
            % (position, head_position),
            position=head_position + 1,
        )
    link = AuditChainLink.objects.filter(position=position).first()
    if link is None or not hmac.compare_digest(link.hash, str(checkpoint["hash"])):
        raise _Broken(
            "the chain no longer holds the checkpoint's hash at #%d: it was rewritten" % position,
            entry_id=link.entry_id if link else None,
            position=position,
        )


# --- sealed segments ----------------------------------------------------------------------------

SEGMENT_PURPOSE = "segment"


def export_segment(out, *, first: int = 1, last: int | None = None, batch_size: int = 1000) -> dict:
    """Write links `first`..`last` with their entries' canonical content as JSON lines, then a
    signed trailer. The whole chain up to `last` is verified first: a segment only ever seals
    history that holds. Nothing is deleted; a sealed segment is what retention keeps."""
    from django.contrib.contenttypes.models import ContentType

    head = read_head() or (0, GENESIS_HASH)
    last = head[0] if last is None else last
    if first < 1 or last < first or last > head[0]:
        raise ValueError("Choose positions from 1 to %d, first not after last." % head[0])
    body = hashlib.sha256()
    lines = {"count": 0, "first_prev": None, "last_hash": None}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:

        def write(link, content):
            if link.position < first:
                return
            line = canonical_json(
                {
                    "position": link.position,
                    "prev_hash": link.prev_hash,
                    "hash": link.hash,
                    "key_id": link.key_id,
                    "entry": content,
                }
            )
            handle.write(line + "\n")
            body.update(line.encode() + b"\n")
            lines["count"] += 1
            lines["first_prev"] = lines["first_prev"] or link.prev_hash
            lines["last_hash"] = link.hash

        try:
            _walk(last, batch_size, ContentTypeLabels(ContentType), on_link=write)
        except _Broken as broken:
            handle.close()
            out.unlink()
            raise ValueError("The chain is broken, nothing exported: %s" % broken) from None
        payload = {
            "format": "tmo-audit-segment-v1",
            "count": lines["count"],
            "first_position": first,
            "last_position": last,
            "first_prev_hash": lines["first_prev"],
            "last_hash": lines["last_hash"],
            "body_sha256": body.hexdigest(),
            "created_at": timezone.now().astimezone(datetime.UTC).isoformat(),
        }
        key_id, signature = sign(SEGMENT_PURPOSE, payload)
        trailer = {**payload, "key_id": key_id, "hmac": signature}
        handle.write(canonical_json({"trailer": trailer}) + "\n")
    return trailer


def check_segment(path) -> dict:
    """Read a segment back: the trailer's signature, the body digest, and every link's hash.
    Returns the trailer; raises ValueError naming what does not hold."""
    body = hashlib.sha256()
    trailer = None
    count = 0
    prev = None
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if "trailer" in record:
                trailer = record["trailer"]
                break
            body.update(line.encode())
            count += 1
            if prev is not None and record["prev_hash"] != prev:
                raise ValueError(
                    "position %s does not follow the line before it" % record["position"]
                )
            digest = link_hash(
                content=record["entry"],
                prev_hash=record["prev_hash"],
                position=record["position"],
                key_id=record["key_id"],
            )
            if not hmac.compare_digest(digest, record["hash"]):
                raise ValueError("position %s does not match its hash" % record["position"])
            prev = record["hash"]
    if trailer is None:
        raise ValueError("the segment has no trailer: it is incomplete")
    payload = {k: v for k, v in trailer.items() if k not in ("key_id", "hmac")}
    if not check_signature(
        SEGMENT_PURPOSE, payload, key_id=trailer["key_id"], signature=trailer["hmac"]
    ):
        raise ValueError("the trailer's signature does not match")
    if trailer["count"] != count or trailer["body_sha256"] != body.hexdigest():
        raise ValueError("the segment's lines do not match its trailer")
    if prev != trailer["last_hash"]:
        raise ValueError("the last line does not end at the trailer's hash")
    return trailer


# --- the daily job ------------------------------------------------------------------------------


def record_verification(result: VerifyResult, checkpoint_file: str = ""):
    from tmo.models import AuditVerification

    return AuditVerification.objects.create(
        ok=result.ok,
        entries=result.count,
        head_position=result.head_position,
        head_hash=result.head_hash,
        message=result.message,
        checkpoint_file=checkpoint_file,
    )


def alert_data_protection_leads(result: VerifyResult) -> int:
    """Mail every data protection lead at once. The message names positions and entry ids only."""
    from django.contrib.auth import get_user_model

    from access.roles import Role

    addresses = list(
        get_user_model()
        .objects.filter(groups__name=Role.DATA_PROTECTION_LEAD, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not addresses:
        logger.error("Audit chain broken and no data protection lead has an email address")
        return 0
    send_mail(
        "Audit trail check failed: the audit log may have been tampered with",
        "The daily check of the audit trail failed:\n\n%s\n\nThe log entries from that point on "
        "can no longer be trusted as they stand. Compare the chain with the last checkpoint kept "
        "off the server (manage.py verify_audit --checkpoint FILE), keep the database as it is, "
        "and treat this as a possible security incident." % result.message,
        None,
        addresses,
        fail_silently=False,
    )
    return len(addresses)


def daily_verify_and_checkpoint() -> str:
    """Verify the whole chain; if it holds, write a checkpoint into AUDIT_CHECKPOINT_DIR; if not,
    tell the data protection lead(s) at once. Returns a summary without personal data."""
    result = verify()
    if not result.ok:
        record_verification(result)
        logger.error("Audit chain verification failed: %s", result.message)
        alert_data_protection_leads(result)
        return result.summary()
    directory = Path(settings.AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = write_checkpoint(directory)
    record_verification(result, checkpoint_file=str(path))
    return "%s; checkpoint %s" % (result.summary(), path.name)
