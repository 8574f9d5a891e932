"""The audit hash chain: every entry is linked as it is written, and verify_audit names the first
entry where history was changed, deleted, reordered or written around the chain.

On SQLite the tampering is done by editing rows directly; on PostgreSQL those edits are refused
outright by the triggers from tmo migration 0001 (tested at the end, PostgreSQL only)."""

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from access.roles import Role
from tests.factories import PersonFactory, user_with_role
from tmo import auditchain
from tmo.audit import record_access, record_event
from tmo.models import AuditChainHead, AuditChainLink

pytestmark = pytest.mark.django_db


def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the direct edits this test tampers with (tested below).")


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("The append-only triggers are installed on PostgreSQL only.")


@pytest.fixture
def history():
    """A person created and changed, opened, and a domain event on them: at least four entries."""
    officer = user_with_role(Role.HOUSING_OFFICER)
    person = PersonFactory()
    person.first_name = "Changed"
    person.save()
    record_access(user=officer, obj=person)
    record_event(actor=officer, obj=person, event="test_event", note="kept")
    return person


def verify(**kwargs):
    return auditchain.verify(**kwargs)


def entry_at(position: int) -> LogEntry:
    return LogEntry.objects.get(pk=AuditChainLink.objects.get(position=position).entry_id)


# --- the chain grows ------------------------------------------------------------------------------


def test_every_kind_of_entry_gets_a_link_in_order(history):
    entries = list(LogEntry.objects.order_by("id"))
    kinds = {entry.action for entry in entries}
    assert {LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.ACCESS} <= kinds
    assert any((entry.additional_data or {}).get("event") == "test_event" for entry in entries)

    links = list(AuditChainLink.objects.order_by("position"))
    assert {link.entry_id for link in links} == {entry.pk for entry in entries}
    assert [link.position for link in links] == list(range(1, len(links) + 1))
    assert links[0].prev_hash == auditchain.GENESIS_HASH
    for before, after in zip(links, links[1:], strict=False):
        assert after.prev_hash == before.hash
    head = AuditChainHead.objects.get()
    assert (head.position, head.hash) == (links[-1].position, links[-1].hash)
    assert {link.key_id for link in links} == {"test-1"}


def test_an_intact_chain_verifies_with_a_summary(history, capsys):
    result = verify(batch_size=2)  # several batches
    assert result.ok, result.message
    assert result.count == AuditChainLink.objects.count() == LogEntry.objects.count()

    call_command("verify_audit", "--batch-size", "3")
    out = capsys.readouterr().out
    head = AuditChainHead.objects.get()
    assert "Audit chain intact: %d entries" % head.position in out
    assert head.hash in out


def test_an_empty_chain_verifies():
    assert not LogEntry.objects.exists()
    result = verify()
    assert result.ok and result.count == 0


def test_a_rolled_back_entry_leaves_no_link_and_no_gap(history):
    before = AuditChainHead.objects.get().position
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=None, obj=history, event="never_happened")
        raise RuntimeError
    record_event(actor=None, obj=history, event="happened")
    assert AuditChainHead.objects.get().position == before + 1
    assert verify().ok


def test_the_hash_is_keyed(history, settings):
    settings.AUDIT_CHAIN_KEYS = {"test-1": "another-secret"}
    result = verify()
    assert not result.ok
    assert result.position == 1
    assert "does not match its hash" in result.message


def test_a_rotated_key_signs_new_links_and_old_ones_still_verify(history, settings):
    settings.AUDIT_CHAIN_KEYS = {"test-2": "the-new-key", "test-1": "test-audit-chain-key"}
    record_event(actor=None, obj=history, event="after_rotation")
    assert AuditChainLink.objects.order_by("position").last().key_id == "test-2"
    assert verify().ok

    settings.AUDIT_CHAIN_KEYS = {"test-2": "the-new-key"}
    result = verify()
    assert not result.ok
    assert "key 'test-1'" in result.message


def test_an_account_that_has_acted_cannot_be_deleted(history):
    # Not signed up to the code: nothing else (an undertaking) protects the account.
    officer = user_with_role(Role.HOUSING_OFFICER, compliant=False)
    record_event(actor=officer, obj=history, event="acted")
    with pytest.raises(ProtectedError, match="Deactivate the account"), transaction.atomic():
        officer.delete()
    assert LogEntry.objects.filter(actor=officer).exists()
    assert verify().ok


# --- tampering is found (SQLite: the rows can be edited there) -----------------------------------


def test_a_changed_entry_is_named(history):
    sqlite_only()
    target = entry_at(3)
    LogEntry.objects.filter(pk=target.pk).update(object_repr="Someone else")
    result = verify()
    assert not result.ok
    assert result.entry_id == target.pk and result.position == 3
    assert "entry %d at #3 does not match its hash" % target.pk in result.message

    with pytest.raises(CommandError, match="entry %d at #3" % target.pk):
        call_command("verify_audit")


@pytest.mark.parametrize(
    "field, value",
    [
        ("changes", {"first_name": ["[redacted]", "[redacted]"]}),
        ("actor_id", None),
        ("additional_data", {"event": "other"}),
        ("action", LogEntry.Action.DELETE),
        ("object_pk", "999999"),
        ("remote_addr", "10.0.0.9"),
    ],
)
def test_any_changed_column_is_found(history, field, value):
    sqlite_only()
    target = LogEntry.objects.exclude(actor=None).first() if field == "actor_id" else entry_at(2)
    LogEntry.objects.filter(pk=target.pk).update(**{field: value})
    result = verify()
    assert not result.ok
    assert result.entry_id == target.pk


def test_a_changed_timestamp_is_found(history):
    sqlite_only()
    import datetime

    target = entry_at(1)
    LogEntry.objects.filter(pk=target.pk).update(
        timestamp=target.timestamp - datetime.timedelta(seconds=1)
    )
    assert verify().entry_id == target.pk


def test_a_deleted_entry_is_named(history):
    sqlite_only()
    target = entry_at(2)
    LogEntry.objects.filter(pk=target.pk).delete()
    result = verify()
    assert not result.ok
    assert "entry %d at #2 has been deleted" % target.pk in result.message


def test_a_deleted_entry_with_its_link_leaves_a_gap(history):
    sqlite_only()
    link = AuditChainLink.objects.get(position=2)
    LogEntry.objects.filter(pk=link.entry_id).delete()
    link.delete()
    result = verify()
    assert not result.ok
    assert result.position == 2
    assert "position #2 is missing" in result.message


def test_removing_the_latest_entries_is_found_from_the_head(history):
    sqlite_only()
    last = AuditChainLink.objects.order_by("position").last()
    LogEntry.objects.filter(pk=last.entry_id).delete()
    last.delete()
    result = verify()
    assert not result.ok
    assert "the latest entries were removed" in result.message


def test_two_swapped_entries_are_found(history):
    sqlite_only()
    first, second = entry_at(2), entry_at(3)
    columns = ["object_repr", "action", "changes", "additional_data", "timestamp", "actor_id"]
    a = {name: getattr(first, name) for name in columns}
    b = {name: getattr(second, name) for name in columns}
    LogEntry.objects.filter(pk=first.pk).update(**b)
    LogEntry.objects.filter(pk=second.pk).update(**a)
    result = verify()
    assert not result.ok
    assert result.entry_id == first.pk and result.position == 2


def test_two_swapped_links_are_found(history):
    sqlite_only()
    two, three = AuditChainLink.objects.get(position=2), AuditChainLink.objects.get(position=3)
    AuditChainLink.objects.filter(pk=two.pk).update(position=1000)
    AuditChainLink.objects.filter(pk=three.pk).update(position=2)
    AuditChainLink.objects.filter(pk=two.pk).update(position=3)
    result = verify()
    assert not result.ok
    assert result.position == 2
    assert "does not follow the entry before it" in result.message


def test_an_entry_written_around_the_chain_is_named(history):
    sqlite_only()
    # bulk_create sends no post_save, so it is as if a row had been inserted by hand.
    template = LogEntry.objects.order_by("id").last()
    [sneaked] = LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=template.content_type,
                object_pk=template.object_pk,
                object_repr="inserted",
                action=LogEntry.Action.ACCESS,
            )
        ]
    )
    sneaked = LogEntry.objects.get(object_repr="inserted")
    result = verify()
    assert not result.ok
    assert result.entry_id == sneaked.pk
    assert "entry %d has no chain link" % sneaked.pk in result.message


def test_a_missing_link_is_found(history):
    sqlite_only()
    AuditChainLink.objects.filter(position=3).delete()
    result = verify()
    assert not result.ok
    assert result.position == 3


def test_a_missing_head_is_found(history):
    sqlite_only()
    AuditChainHead.objects.all().delete()
    result = verify()
    assert not result.ok
    assert "head is missing" in result.message


# --- PostgreSQL refuses the edits outright --------------------------------------------------------


def refused(callable_):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        callable_()


def test_postgres_refuses_update_and_delete_of_entries(history):
    postgres_only()
    entry = entry_at(2)
    refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(object_repr="x"))
    refused(lambda: LogEntry.objects.filter(pk=entry.pk).delete())
    refused(lambda: LogEntry.objects.all().delete())
    refused(lambda: entry.delete())
    entry.object_repr = "x"
    refused(lambda: entry.save())
    refused(lambda: AuditChainLink.objects.filter(position=1).update(hash="0" * 64))
    refused(lambda: AuditChainLink.objects.all().delete())
    assert verify().ok


def test_postgres_refuses_raw_sql_and_truncate_unless_the_session_opts_in(history):
    postgres_only()
    for statement in (
        "UPDATE auditlog_logentry SET object_repr = 'x'",
        "DELETE FROM auditlog_logentry",
        "DELETE FROM tmo_auditchainlink",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    for table in ("auditlog_logentry", "tmo_auditchainlink"):
        with (
            pytest.raises(DatabaseError, match="TRUNCATE"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # The test settings opt in for pytest-django's resets; without it, refused.
            cursor.execute("SET LOCAL tmo.allow_audit_truncate = 'off'")
            cursor.execute("TRUNCATE %s CASCADE" % table)
    with connection.cursor() as cursor:
        cursor.execute("SHOW tmo.allow_audit_truncate")
        assert cursor.fetchone()[0] == "on"
    assert verify().ok


def test_postgres_auditlogflush_cannot_rewrite_history(history):
    postgres_only()
    count = LogEntry.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        call_command("auditlogflush", "--yes")
    assert LogEntry.objects.count() == count


# --- no page or command rewrites history ----------------------------------------------------------


def test_the_admin_offers_no_way_to_edit_or_delete_audit_entries():
    from tests.urlwalk import all_routes

    names = {route.name for route in all_routes()}
    assert not {name for name in names if "logentry" in name or "auditchain" in name}


def test_the_admin_refuses_to_delete_an_account_that_has_acted(history, client):
    officer = user_with_role(Role.HOUSING_OFFICER, compliant=False)
    record_event(actor=officer, obj=history, event="acted")
    client.force_login(user_with_role(Role.SYSTEM_ADMINISTRATOR))
    url = reverse("admin:auth_user_delete", args=[officer.pk])
    page = client.get(url).content.decode()
    assert "named as the actor of" in page
    response = client.post(url, {"post": "yes"})
    assert response.status_code in (200, 403)
    assert type(officer).objects.filter(pk=officer.pk).exists()
    assert verify().ok


def test_the_admin_still_deletes_an_account_that_never_acted(client):
    from django.contrib.auth.models import User

    spare = user_with_role(Role.HOUSING_OFFICER, compliant=False)
    client.force_login(user_with_role(Role.SYSTEM_ADMINISTRATOR))
    response = client.post(reverse("admin:auth_user_delete", args=[spare.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=spare.pk).exists()
    assert verify().ok


def test_the_migration_backfills_existing_entries_in_id_order(history):
    sqlite_only()
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tmo.migrations.0001_audit_chain")
    AuditChainLink.objects.all().delete()
    AuditChainHead.objects.all().delete()

    class SchemaEditor:
        connection = connection

    migration.backfill(apps, SchemaEditor())
    links = list(AuditChainLink.objects.order_by("position"))
    assert [link.entry_id for link in links] == list(
        LogEntry.objects.order_by("id").values_list("id", flat=True)
    )
    assert verify().ok


# --- the verifier's fast path ---------------------------------------------------------------------


def odd_entries(officer):
    """Entries whose columns take every shape the canonical form has to get right."""
    person = PersonFactory()
    kwargs = {
        "content_type_id": history_content_type(person),
        "object_pk": str(person.pk),
        "object_id": person.pk,
        "action": LogEntry.Action.ACCESS,
        "actor": officer,
    }
    shapes = [
        {
            "object_repr": "Zoë “quoted” \\ back\nslash ✓",
            "changes": {"b": [1, 2.5, None], "a": True},
        },
        {"object_repr": "", "changes": "123", "additional_data": "just text"},
        {
            "object_repr": "x",
            "changes": None,
            "additional_data": None,
            "serialized_data": [1, "two"],
        },
        {
            "object_repr": "x",
            "changes": {},
            "additional_data": {"n": 0.5, "deep": {"z": 1, "y": []}},
        },
        {
            "object_repr": "x",
            "remote_addr": "2001:0db8:0000:0000:0000:0000:0000:0001",
            "remote_port": 0,
        },
        {"object_repr": "x", "remote_addr": "10.0.0.1", "cid": "", "actor_email": ""},
        {"object_repr": "x", "changes": {"k": "\u2028 and \x01 and 😀"}, "changes_text": "text"},
    ]
    return [LogEntry.objects.create(**kwargs, **shape) for shape in shapes]


def history_content_type(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


def test_the_walk_hashes_each_entry_exactly_as_it_was_written(history):
    from django.contrib.contenttypes.models import ContentType

    odd_entries(user_with_role(Role.HOUSING_OFFICER))
    labels = auditchain.ContentTypeLabels(ContentType)
    rows = {row[0]: row for row in auditchain._entry_rows(LogEntry.objects.all())}
    for entry in LogEntry.objects.all():
        label = labels(entry.content_type_id)
        expected = auditchain.entry_content(auditchain.instance_values(entry), label)
        row = rows[entry.pk]
        assert auditchain._stored_entry_content(row, labels) == expected
        assert auditchain._stored_entry_json(
            row, auditchain.encode_basestring(label)
        ) == auditchain.canonical_json(expected)
    assert verify(batch_size=3).ok


def test_the_walk_reads_past_a_gap_longer_than_a_batch(history):
    sqlite_only()
    for _ in range(5):
        record_event(actor=None, obj=history, event="more")
    doomed = list(AuditChainLink.objects.filter(position__in=[3, 4, 5, 6]))
    AuditChainLink.objects.filter(pk__in=[link.pk for link in doomed]).delete()
    result = verify(batch_size=2)
    assert not result.ok
    assert result.position == 3
    assert "position #3 is missing" in result.message


# --- a failed link, and reading ahead ------------------------------------------------------------


def test_a_caught_failure_to_link_an_access_spoils_the_whole_transaction(history, settings):
    """No savepoint around the entry and its link: a caller that catches the error cannot go on
    to commit the entry, or anything else, without its link."""
    officer = user_with_role(Role.HOUSING_OFFICER)
    entries = LogEntry.objects.count()
    settings.AUDIT_CHAIN_KEYS = {}
    with transaction.atomic():
        with pytest.raises(auditchain.ChainKeyError):
            record_access(user=officer, obj=history)
        assert transaction.get_rollback()
    settings.AUDIT_CHAIN_KEYS = {"test-1": "test-audit-chain-key"}
    assert LogEntry.objects.count() == entries
    assert verify().ok


def read_ahead_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "audit-chain-read-ahead"]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_batches_are_read_on_a_thread_of_their_own(history):
    from django.test.utils import CaptureQueriesContext

    for _ in range(6):
        record_event(actor=None, obj=history, event="more")
    with CaptureQueriesContext(connection) as queries:
        result = verify(batch_size=2)
    assert result.ok, result.message
    assert result.count == LogEntry.objects.count()
    # This connection read the head and looked for unlinked entries; the batches came from the
    # reader's own connection, which is closed again.
    assert not any("prev_hash" in query["sql"] for query in queries.captured_queries)
    assert not read_ahead_threads()


@pytest.mark.django_db(transaction=True)
def test_reading_ahead_stops_at_the_first_broken_link(history):
    sqlite_only()
    for _ in range(6):
        record_event(actor=None, obj=history, event="more")
    changed = entry_at(3)
    LogEntry.objects.filter(pk=changed.pk).update(object_repr="Someone else")
    result = verify(batch_size=2)
    assert not result.ok
    assert (result.position, result.entry_id) == (3, changed.pk)
    assert not read_ahead_threads()
