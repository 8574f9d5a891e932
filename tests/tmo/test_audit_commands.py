"""audit_checkpoint, verify_audit --checkpoint, audit_export_segment and the daily check."""

import json

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from access.roles import Role
from tests.factories import PersonFactory, user_with_role
from tmo import auditchain
from tmo.audit import record_event
from tmo.models import AuditChainHead, AuditChainLink, AuditVerification

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    person = PersonFactory()
    for n in range(4):
        record_event(actor=None, obj=person, event="step_%d" % n)
    return person


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- checkpoints ----------------------------------------------------------------------------------


def test_checkpoint_is_written_signed_and_verifies(person, tmp_path):
    out = run("audit_checkpoint", "--out", str(tmp_path / "cp.json"))
    head = AuditChainHead.objects.get()
    assert "Checkpoint #%d" % head.position in out
    checkpoint = json.loads((tmp_path / "cp.json").read_text())
    assert checkpoint["position"] == head.position
    assert checkpoint["hash"] == head.hash
    assert checkpoint["created_at"]
    assert checkpoint["key_id"] == "test-1" and len(checkpoint["hmac"]) == 64
    assert auditchain.checkpoint_is_signed(checkpoint)

    # The chain goes on growing; the old checkpoint still holds.
    record_event(actor=None, obj=person, event="later")
    out = run("verify_audit", "--checkpoint", str(tmp_path / "cp.json"))
    assert "still holds checkpoint #%d" % head.position in out


def test_checkpoint_into_a_directory_gets_a_dated_name(person, tmp_path):
    run("audit_checkpoint", "--out", str(tmp_path) + "/")
    [path] = tmp_path.glob("audit-checkpoint-*.json")
    assert path.name.endswith("-%d.json" % AuditChainHead.objects.get().position)


def test_a_forged_checkpoint_is_refused(person, tmp_path):
    path = tmp_path / "cp.json"
    run("audit_checkpoint", "--out", str(path))
    checkpoint = json.loads(path.read_text())
    checkpoint["hash"] = "f" * 64
    path.write_text(json.dumps(checkpoint))
    with pytest.raises(CommandError, match="signature does not match"):
        run("verify_audit", "--checkpoint", str(path))


def test_an_unreadable_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "cp.json").write_text("not json")
    with pytest.raises(CommandError, match="not a readable checkpoint"):
        run("verify_audit", "--checkpoint", str(tmp_path / "cp.json"))


def test_a_rewritten_chain_fails_against_the_checkpoint(person, tmp_path, settings):
    """Someone with the key could rebuild the whole chain; a checkpoint kept off the server
    still shows it (here: the chain rebuilt shorter after deleting the latest entries)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the deletions this test needs.")
    path = tmp_path / "cp.json"
    run("audit_checkpoint", "--out", str(path))
    last = AuditChainLink.objects.order_by("position").last()
    LogEntry.objects.filter(pk=last.entry_id).delete()
    last.delete()
    previous = AuditChainLink.objects.order_by("position").last()
    AuditChainHead.objects.update(position=previous.position, hash=previous.hash)
    assert auditchain.verify().ok  # on its own the shortened chain looks whole
    with pytest.raises(CommandError, match="entries were removed"):
        run("verify_audit", "--checkpoint", str(path))


def test_no_checkpoint_is_written_for_a_broken_chain(person, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the edit this test needs.")
    LogEntry.objects.filter(pk=AuditChainLink.objects.get(position=2).entry_id).update(
        object_repr="x"
    )
    with pytest.raises(CommandError, match="No checkpoint written"):
        run("audit_checkpoint", "--out", str(tmp_path / "cp.json"))
    assert not (tmp_path / "cp.json").exists()


# --- sealed segments ------------------------------------------------------------------------------


def test_segment_export_parses_back_and_its_trailer_is_signed(person, tmp_path):
    count_before = LogEntry.objects.count()
    path = tmp_path / "segment.jsonl"
    out = run("audit_export_segment", "--out", str(path), "--first", "2", "--last", "4")
    assert "Sealed positions #2 to #4 (3 entries" in out
    assert "Nothing was deleted" in out

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    body, trailer = lines[:-1], lines[-1]["trailer"]
    assert [line["position"] for line in body] == [2, 3, 4]
    links = {link.position: link for link in AuditChainLink.objects.filter(position__in=[2, 3, 4])}
    for line in body:
        link = links[line["position"]]
        assert line["hash"] == link.hash and line["prev_hash"] == link.prev_hash
        assert line["entry"]["id"] == link.entry_id
        assert line["entry"]["content_type"] == "records.person"
    assert trailer["count"] == 3
    assert (trailer["first_position"], trailer["last_position"]) == (2, 4)
    assert trailer["last_hash"] == links[4].hash

    # The HMAC over the trailer's fields, checked independently of the exporter.
    payload = {k: v for k, v in trailer.items() if k not in ("key_id", "hmac")}
    assert auditchain.check_signature(
        "segment", payload, key_id=trailer["key_id"], signature=trailer["hmac"]
    )
    assert auditchain.check_segment(path) == trailer
    # Nothing was deleted.
    assert LogEntry.objects.count() == count_before
    assert auditchain.verify().ok


def test_a_tampered_segment_is_refused(person, tmp_path):
    path = tmp_path / "segment.jsonl"
    run("audit_export_segment", "--out", str(path))
    lines = path.read_text().splitlines()
    line = json.loads(lines[1])
    line["entry"]["object_repr"] = "Someone else"
    lines[1] = auditchain.canonical_json(line)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="does not match its hash"):
        auditchain.check_segment(path)

    # A trailer edited to claim fewer entries no longer carries a valid signature.
    run("audit_export_segment", "--out", str(path))
    lines = path.read_text().splitlines()
    trailer = json.loads(lines[-1])
    trailer["trailer"]["count"] = 1
    lines[-1] = json.dumps(trailer)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="signature does not match"):
        auditchain.check_segment(path)


def test_a_segment_outside_the_chain_is_refused(person, tmp_path):
    head = AuditChainHead.objects.get().position
    with pytest.raises(CommandError, match="from 1 to %d" % head):
        run("audit_export_segment", "--out", str(tmp_path / "s.jsonl"), "--last", str(head + 5))


# --- the daily job --------------------------------------------------------------------------------


def test_daily_job_is_registered():
    from django.conf import settings

    assert "tmo.auditchain.daily_verify_and_checkpoint" in settings.DAILY_JOBS


def test_daily_job_verifies_and_writes_a_checkpoint(person, tmp_path, settings):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    summary = auditchain.daily_verify_and_checkpoint()
    head = AuditChainHead.objects.get()
    assert summary.startswith("audit chain intact: %d entries" % head.position)
    [path] = (tmp_path / "checkpoints").glob("*.json")
    assert json.loads(path.read_text())["hash"] == head.hash
    verification = AuditVerification.objects.get()
    assert verification.ok and verification.head_position == head.position
    assert verification.checkpoint_file == str(path)
    assert not mail.outbox


def test_daily_job_mails_the_data_protection_leads_when_the_chain_breaks(
    person, tmp_path, settings
):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the edit this test needs.")
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    user_with_role(Role.HOUSING_OFFICER)
    target = AuditChainLink.objects.get(position=3).entry_id
    LogEntry.objects.filter(pk=target).update(object_repr="x")

    summary = auditchain.daily_verify_and_checkpoint()
    assert summary.startswith("audit chain BROKEN: entry %d at #3" % target)
    assert not (tmp_path / "checkpoints").exists()
    [message] = mail.outbox
    assert message.to == [dpo.email]
    assert "entry %d at #3" % target in message.body
    # Positions and ids only: no names from the register.
    assert person.last_name not in message.body
    verification = AuditVerification.objects.get()
    assert not verification.ok and "#3" in verification.message


def test_verify_audit_can_record_its_result(person):
    run("verify_audit", "--record")
    assert AuditVerification.objects.get().ok
