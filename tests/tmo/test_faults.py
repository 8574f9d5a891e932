"""The database dropping in the middle of a workflow step leaves nothing half done.

Each step is first run once to count its queries; then, for every N from 1 to that count, it is
run again with the Nth query failing as a dropped connection would (a real OperationalError
raised through Django's execute wrapper, so every layer above sees what it would see in
production). After each failure every table, the audit trail and its hash chain, and the file
store must be exactly as before; finally the step runs without a fault and completes once.
"""

import datetime
import os
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tests.assurance import record
from tmo import auditchain

pytestmark = [pytest.mark.assurance, pytest.mark.django_db]


class DroppedConnection:
    """Fails the `at`th query the connection runs, once, and lets every other one through."""

    def __init__(self, at: int):
        self.at = at
        self.seen = 0
        self.fired = False

    def __call__(self, execute, sql, params, many, context):
        self.seen += 1
        if self.seen == self.at:
            self.fired = True
            raise OperationalError("server closed the connection unexpectedly (query %d)" % self.at)
        return execute(sql, params, many, context)


class QueryCounter:
    def __init__(self):
        self.seen = 0

    def __call__(self, execute, sql, params, many, context):
        self.seen += 1
        return execute(sql, params, many, context)


def stored_files() -> dict[str, bytes]:
    root = Path(settings.DOCUMENT_ROOT)
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def snapshot() -> dict:
    """Every row of every table, the audit entries, the chain's verdict and head, the files."""
    tables = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            tables[model._meta.label] = sorted(map(repr, model._base_manager.values_list()))
    result = auditchain.verify()
    return {
        "tables": tables,
        "audit": list(LogEntry.objects.order_by("pk").values_list("pk", "additional_data")),
        "chain": (result.ok, result.head_position, result.head_hash),
        "files": stored_files(),
    }


def differences(before: dict, after: dict) -> list[str]:
    found = []
    for label in sorted(set(before["tables"]) | set(after["tables"])):
        if before["tables"].get(label) != after["tables"].get(label):
            found.append("table %s changed" % label)
    for key in ("audit", "chain", "files"):
        if before[key] != after[key]:
            found.append("%s changed" % key)
    return found


def forget_caches():
    # Cached lookups would make a later run issue fewer queries than the counted one.
    ContentType.objects.clear_cache()


def count_queries(step) -> int:
    """Run the step inside a savepoint that is rolled back, counting its queries; the files it
    wrote are removed again."""
    files = stored_files()
    forget_caches()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            step()
        transaction.set_rollback(True)
    root = Path(settings.DOCUMENT_ROOT)
    for name in set(stored_files()) - set(files):
        os.unlink(root / name)
    return len(captured.captured_queries)


def sweep_faults(step, *, accept=None, at_most=None) -> dict:
    """Fail the step at each of its queries in turn and return the figures. Without `accept`, a
    failed run must leave the world exactly as it was. A step that catches failures and tries
    again (the bundle build) is judged by `accept(before, after)` instead, and each of its runs
    is undone before the next. `at_most` spreads that many failures evenly over the step's
    queries, first and last included, for a step too slow to fail at every one."""
    count_queries(step)  # warms what can be warmed, so the count below is the steady one
    total = count_queries(step)
    assert total > 0
    points = range(1, total + 1)
    if at_most and total > at_most:
        stride = total / (at_most - 1)
        points = sorted({1, total, *(1 + round(stride * k) for k in range(at_most - 1))})
    partial = 0
    problems = []
    root = Path(settings.DOCUMENT_ROOT)
    for at in points:
        before = snapshot()
        fault = DroppedConnection(at)
        forget_caches()
        with transaction.atomic():
            with connection.execute_wrapper(fault):
                try:
                    step()
                except OperationalError:
                    pass
                else:
                    if accept is None:
                        problems.append("query %d: the step did not fail" % at)
            after = snapshot()
            found = accept(before, after) if accept else differences(before, after)
            if accept:
                transaction.set_rollback(True)
        if accept:
            for name in set(stored_files()) - set(before["files"]):
                os.unlink(root / name)
        if not fault.fired:
            problems.append("query %d of %d was never reached" % (at, total))
            break
        if found:
            partial += 1
            problems.append("query %d: %s" % (at, "; ".join(found)))
    return {"injection_points": len(points), "partial_states": partial, "problems": problems}


def record_sweep(figures: dict) -> None:
    """One swept step: its injection points, the partial states found, and the one clean run
    each test makes after the sweep."""
    record(
        "faults",
        scenarios=1,
        injection_points=figures["injection_points"],
        partial_states=figures["partial_states"],
        retries_completed_once=1,
    )


def run_once(step):
    forget_caches()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        result = step()
    return result, counter.seen


# --- a disclosure decision and its sending ------------------------------------------------


@pytest.fixture
def disclosure_world(patch_and_officer):
    from access.roles import Role
    from disclosures import services
    from tests.factories import tenant_in_patch, user_with_role

    patch, officer = patch_and_officer
    person = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo", phone="07700 900123")
    request = services.disclosure_log(
        logged_by=officer,
        person=person,
        requester_type="police",
        requester_organisation="Metropolitan Police Service",
        requester_name="DC Sam Holloway",
        requester_contact="sam.holloway@met.police.example",
        identity_check="Called back on the published switchboard number",
        requested_items=["records.person.phone"],
        request_details="Phone number of the tenant.",
        purpose="Tracing a witness to a burglary.",
        basis="crime_taxation",
        received_on=datetime.date.today(),
        urgency="urgent",
    )
    return {"request": request, "senior": user_with_role(Role.SENIOR_OFFICER)}


def test_a_disclosure_decision_survives_a_dropped_connection_at_every_query(disclosure_world):
    from disclosures import services
    from disclosures.models import DisclosureDecision, DisclosureRequest

    request = disclosure_world["request"]
    senior = disclosure_world["senior"]

    def step():
        return services.disclosure_decide(
            request=DisclosureRequest.objects.get(pk=request.pk),
            decided_by=type(senior).objects.get(pk=senior.pk),
            outcome="release",
            released_items=["records.person.phone"],
            necessity="The phone number lets the police reach the witness.",
            reasons="Not disclosing would prejudice the investigation.",
            decider_position="Housing services manager",
        )

    figures = sweep_faults(step)
    step()
    events = LogEntry.objects.filter(additional_data__event="disclosure_decided")
    request.refresh_from_db()
    record_sweep(figures)
    assert figures["problems"] == []
    assert DisclosureDecision.objects.filter(request=request).count() == 1
    assert events.count() == 1
    assert request.status == DisclosureRequest.Status.APPROVED
    assert auditchain.verify().ok


def test_sending_a_disclosure_survives_a_dropped_connection_at_every_query(disclosure_world):
    from disclosures import services
    from disclosures.models import DisclosureDecision, DisclosureRequest

    request = disclosure_world["request"]
    senior = disclosure_world["senior"]
    decision = services.disclosure_decide(
        request=request,
        decided_by=senior,
        outcome="release",
        released_items=["records.person.phone"],
        necessity="The phone number lets the police reach the witness.",
        reasons="Not disclosing would prejudice the investigation.",
        decider_position="Housing services manager",
    )

    def step():
        return services.disclosure_send(
            decision=DisclosureDecision.objects.get(pk=decision.pk),
            sent_by=type(senior).objects.get(pk=senior.pk),
            recipient_confirmed="sam.holloway@met.police.example",
        )

    files_before = len(stored_files())
    figures = sweep_faults(step)
    step()
    decision.refresh_from_db()
    request.refresh_from_db()
    record_sweep(figures)
    assert figures["problems"] == []
    assert request.status == DisclosureRequest.Status.SENT
    assert LogEntry.objects.filter(additional_data__event="disclosure_sent").count() == 1
    # Exactly one pack on disk: the one the decision names.
    assert len(stored_files()) == files_before + 1
    assert Path(settings.DOCUMENT_ROOT, decision.pack_storage_name[:2]).exists()
    assert auditchain.verify().ok


# --- collecting and building a subject access bundle ---------------------------------------


@pytest.fixture
def sar_world(patch):
    from access.roles import Role
    from records.models import Document
    from tests.factories import (
        ContactRecordFactory,
        SubjectAccessRequestFactory,
        tenant_in_patch,
        user_with_role,
    )
    from tmo import filestore

    tenant = tenant_in_patch(patch, first_name="Alice", last_name="Requesterson")
    ContactRecordFactory(person=tenant, subject="Reported a leaking tap")
    document = Document.objects.create(
        person=tenant,
        title="Letter about the tap",
        original_filename="tap-letter.pdf",
        content_type="application/pdf",
        size=10,
    )
    filestore.write_encrypted(document.storage_name, b"%PDF-1.4 a")
    return {
        "sar": SubjectAccessRequestFactory(person=tenant),
        "handler": user_with_role(Role.SENIOR_OFFICER),
        "signer": user_with_role(Role.DATA_PROTECTION_LEAD),
    }


def test_collecting_a_bundle_survives_a_dropped_connection_at_every_query(sar_world):
    from sar.models import Bundle, SarItem, SubjectAccessRequest
    from sar.services import bundles as services

    sar, handler = sar_world["sar"], sar_world["handler"]

    def step():
        return services.bundle_collect(
            request=SubjectAccessRequest.objects.get(pk=sar.pk),
            collected_by=type(handler).objects.get(pk=handler.pk),
        )

    figures = sweep_faults(step)
    bundle = step()
    record_sweep(figures)
    assert figures["problems"] == []
    assert Bundle.objects.filter(request=sar).count() == 1
    assert SarItem.objects.filter(bundle=bundle).count() > 0
    assert LogEntry.objects.filter(additional_data__event="sar_collected").count() == 1


def signed_off_bundle(sar_world, django_capture_on_commit_callbacks):
    """A reviewed, signed-off bundle whose build has not run yet."""
    from sar.models import Bundle, SarItem, SarRedaction
    from sar.services import bundles as services

    handler = sar_world["handler"]
    bundle = services.bundle_collect(request=sar_world["sar"], collected_by=handler)
    for item in bundle.items.filter(decision=SarItem.Decision.PENDING):
        services.item_decide(item=item, decided_by=handler, decision=SarItem.Decision.INCLUDED)
    for red in SarRedaction.objects.filter(item__bundle=bundle, status="proposed"):
        services.redaction_decide(redaction=red, decided_by=handler, accept=True)
    services.review_complete(bundle=bundle, reviewed_by=handler)
    # Signed off with a task backend that only keeps what is enqueued: each test runs the build.
    keep = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=keep), django_capture_on_commit_callbacks(execute=True):
        services.bundle_sign_off(bundle=bundle, signed_off_by=sar_world["signer"])
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.QUEUED
    return bundle


def test_building_a_bundle_survives_a_dropped_connection_at_every_query(
    sar_world, django_capture_on_commit_callbacks
):
    """A failure while building is caught and the build queued again (run at once here): each
    fault must leave either the world as it was, or one complete, released bundle with exactly
    one file; never a bundle offered without its file or a file no bundle names."""
    from sar import tasks
    from sar.models import Bundle
    from sar.services import bundles as services

    bundle = signed_off_bundle(sar_world, django_capture_on_commit_callbacks)
    baseline = snapshot()

    def step():
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.build_bundle.call(bundle.pk)

    def accept(before, after):
        current = Bundle.objects.get(pk=bundle.pk)
        if current.status != Bundle.Status.READY:
            return differences(before, after)
        found = []
        added = set(after["files"]) - set(before["files"])
        if added != {str(Path(current.storage_name[:2], current.storage_name))}:
            found.append("files other than the bundle's own were left: %s" % sorted(added))
        if set(before["files"]) - set(after["files"]):
            found.append("files were lost")
        released = LogEntry.objects.filter(additional_data__event="sar_released").count()
        if released != 1:
            found.append("%d release events" % released)
        if not after["chain"][0]:
            found.append("the audit chain is broken")
        return found

    # Each failed build is tried again at once, laying the PDF out each time: failing at every
    # one of its queries took six minutes, so at 15 spread over them, the first and last included.
    figures = sweep_faults(step, accept=accept, at_most=15)
    result, _ = run_once(step)
    current = Bundle.objects.get(pk=bundle.pk)
    record_sweep(figures)
    assert baseline["chain"][0]
    assert figures["problems"] == []
    assert result == "ready"
    assert current.status == Bundle.Status.READY
    assert LogEntry.objects.filter(additional_data__event="sar_released").count() == 1
    data = services.bundle_open(bundle=current, downloaded_by=None, remote_addr=None)
    assert data.startswith(b"PK")


# --- a disposal --------------------------------------------------------------------------


@pytest.fixture
def disposal_world(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from access.roles import Role
    from access.services import retention as services
    from records import services as records_services
    from records.models import ContactRecord, Document
    from tests.factories import ContactRecordFactory, PatchFactory, tenant_in_patch, user_with_role
    from tests.tmo.test_disposal import PDF, ago, set_rule
    from tmo.retention_models import DisposalReview

    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    ada = tenant_in_patch(PatchFactory(), first_name="Ada", last_name="Quistorp")
    old = ContactRecordFactory(person=ada, subject="About the damp")
    ContactRecord.objects.filter(pk=old.pk).update(occurred_at=ago(8 * 366))
    set_rule(dpo, "records.document", date_field="uploaded_at")
    document = records_services.document_upload(
        uploaded_by=dpo,
        person=ada,
        upload=SimpleUploadedFile("letter.pdf", PDF),
        title="Old letter",
        kind=Document.Kind.OTHER,
    )
    Document.objects.filter(pk=document.pk).update(uploaded_at=ago(7 * 366))
    review = services.sweep().review
    DisposalReview.objects.filter(pk=review.pk).update(
        status=DisposalReview.Status.APPROVED, approved_by=dpo, approved_at=timezone.now()
    )
    return {"review": review, "old": old, "document": document}


def test_a_disposal_survives_a_dropped_connection_at_every_query(
    disposal_world, django_capture_on_commit_callbacks
):
    from access.services import retention as services
    from records.models import ContactRecord, Document
    from tmo import filestore
    from tmo.retention_models import DisposalCandidate, DisposalCertificate, DisposalReview

    review = disposal_world["review"]
    path = filestore.document_path(disposal_world["document"].storage_name)

    def step():
        return services.dispose_review(review.pk)

    figures = sweep_faults(step)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        certificate = step()
    review.refresh_from_db()
    record_sweep(figures)
    assert figures["problems"] == []
    assert review.status == DisposalReview.Status.COMPLETED
    assert DisposalCertificate.objects.filter(review=review).count() == 1
    assert certificate.total("blocked") == 0
    assert not review.candidates.filter(status=DisposalCandidate.Status.BLOCKED).exists()
    assert not ContactRecord.objects.filter(pk=disposal_world["old"].pk).exists()
    assert not Document.objects.filter(pk=disposal_world["document"].pk).exists()
    assert not path.exists()
    assert LogEntry.objects.filter(additional_data__event="disposal_completed").count() == 1
    assert auditchain.verify().ok


# --- the worker killed in the middle of a bundle build -------------------------------------


def test_an_interrupted_build_is_never_offered_and_is_rebuilt(
    sar_world, django_capture_on_commit_callbacks
):
    """The state a killed worker leaves (building, a file written under the bundle's name but
    never finished, the heartbeat stopped) is refused for download and rebuilt by the daily job;
    a build still beating is left alone."""
    from django.core.exceptions import ValidationError

    from sar.models import Bundle
    from sar.services import bundles as services
    from tmo import daily, filestore

    bundle = signed_off_bundle(sar_world, django_capture_on_commit_callbacks)
    claimed = services.build_start(bundle.pk)
    services.build_progress(claimed, 40)
    half = claimed.storage_name
    filestore.write_encrypted(half, b"PK half a zip")
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.BUILDING and bundle.progress == 40
    assert services.bundle_for_requester(request=sar_world["sar"]) is None
    with pytest.raises(ValidationError):
        services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr=None)

    # Still beating: not taken over.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stalled_builds().startswith("0 ")
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.BUILDING

    Bundle.objects.filter(pk=bundle.pk).update(
        heartbeat_at=timezone.now() - Bundle.STALE_AFTER - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        results = daily.run_jobs()
    bundle.refresh_from_db()
    interrupted = LogEntry.objects.filter(additional_data__event="sar_build_interrupted")
    record("faults", scenarios=1, partial_states=0, retries_completed_once=1)
    assert results["sar.services.bundles.recover_stalled_builds"].startswith("1 ")
    assert interrupted.count() == 1
    assert bundle.status == Bundle.Status.READY and bundle.attempts == 2
    assert bundle.storage_name != half and not filestore.document_path(half).exists()
    assert LogEntry.objects.filter(additional_data__event="sar_released").count() == 1
    data = services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr=None)
    assert services.checksum_of(data) == bundle.checksum
    assert auditchain.verify().ok


def test_a_build_taken_over_by_recovery_does_not_overwrite_the_new_one(
    sar_world, django_capture_on_commit_callbacks
):
    """A worker thought dead that finishes after all must not mark the bundle ready with its file:
    the bundle has moved on to another build."""
    from sar import tasks
    from sar.models import Bundle
    from sar.services import bundles as services
    from tmo import filestore

    bundle = signed_off_bundle(sar_world, django_capture_on_commit_callbacks)
    slow = services.build_start(bundle.pk)
    data = tasks.assemble(slow)
    filestore.write_encrypted(slow.storage_name, data)
    Bundle.objects.filter(pk=bundle.pk).update(
        heartbeat_at=timezone.now() - Bundle.STALE_AFTER - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.recover_stalled_builds()
    bundle.refresh_from_db()
    record("faults", scenarios=1, partial_states=0)
    assert bundle.status == Bundle.Status.READY
    with pytest.raises(services.BuildTakenOver):
        services.build_finished(
            slow, storage_name=slow.storage_name, size=len(data), checksum="0" * 64
        )
    bundle.refresh_from_db()
    assert bundle.storage_name != slow.storage_name
    assert LogEntry.objects.filter(additional_data__event="sar_released").count() == 1


def test_a_bundle_whose_file_does_not_match_its_checksum_is_refused(
    sar_world, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    from sar import tasks
    from sar.models import Bundle, BundleDownload
    from sar.services import bundles as services
    from tmo import filestore

    bundle = signed_off_bundle(sar_world, django_capture_on_commit_callbacks)
    assert tasks.build_bundle.call(bundle.pk) == "ready"
    bundle.refresh_from_db()
    whole = filestore.read_decrypted(bundle.storage_name)
    filestore.write_encrypted(bundle.storage_name, whole[: len(whole) // 2])
    record("faults", scenarios=1, partial_states=0)
    with pytest.raises(ValidationError):
        services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr=None)
    assert not BundleDownload.objects.filter(bundle=bundle).exists()
    assert Bundle.objects.get(pk=bundle.pk).status == Bundle.Status.READY


KILLED_BUILD = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmo.settings.test")
django.setup()
from django.conf import settings
settings.DOCUMENT_ROOT = sys.argv[2]
from sar import tasks
print(tasks.build_bundle.call(int(sys.argv[1])), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_build_leaves_nothing_offered_and_the_rebuild_is_whole(
    sar_world, tmp_path, django_capture_on_commit_callbacks
):
    """A real process builds the bundle against the same database and is SIGKILLed as soon as
    the build reports progress; the bundle is not downloadable, and recovery rebuilds it whole."""
    import io
    import signal
    import subprocess
    import sys
    import time
    import zipfile

    from django.core.exceptions import ValidationError
    from pypdf import PdfReader

    from sar.models import Bundle
    from sar.services import bundles as services
    from tests.factories import ContactRecordFactory

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs a database a second process can share: the SQLite test database is in memory"
        )
    for number in range(40):
        ContactRecordFactory(person=sar_world["sar"].person, subject="Repair %d" % number)
    bundle = signed_off_bundle(sar_world, django_capture_on_commit_callbacks)
    script = tmp_path / "build.py"
    script.write_text(KILLED_BUILD)
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://%(USER)s@%(HOST)s:%(PORT)s/%(NAME)s" % connection.settings_dict,
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    worker = subprocess.Popen(  # noqa: S603 - our own script, run by this interpreter
        [sys.executable, str(script), str(bundle.pk), str(settings.DOCUMENT_ROOT)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = Bundle.objects.values_list("status", "progress").get(pk=bundle.pk)
            if state[0] == Bundle.Status.BUILDING and state[1] > 0:
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.BUILDING
    assert services.bundle_for_requester(request=sar_world["sar"]) is None
    with pytest.raises(ValidationError):
        services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr=None)

    later = timezone.now() + Bundle.STALE_AFTER + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.recover_stalled_builds(now=later)
    bundle.refresh_from_db()
    record("faults", scenarios=1, partial_states=0, retries_completed_once=1)
    assert summary.startswith("1 ")
    assert bundle.status == Bundle.Status.READY
    data = services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr=None)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    pdf = PdfReader(io.BytesIO(archive.read("your-data.pdf")))
    assert "Repair 39" in "".join(page.extract_text() for page in pdf.pages)
    assert LogEntry.objects.filter(additional_data__event="sar_released").count() == 1


# --- an encryption key lost ------------------------------------------------------------------

OTHER_KEY = "Vn1oW3c4b5fJ3S7nGQ0hZ2hq3yq0oX9m8uCk6rVQ2aI="


def raw_person_columns(person) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, ni_number, correspondence_address FROM records_person WHERE id = %s",
            [person.pk],
        )
        return cursor.fetchone()


def check_ids() -> list[str]:
    from django.core import checks

    return [message.id for message in checks.run_checks() if message.is_serious()]


@pytest.mark.parametrize(
    "keys",
    [None, [], ["not a fernet key"]],
    ids=["missing", "empty", "malformed"],
)
def test_missing_or_malformed_keys_fail_the_system_check(settings, keys):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.FIELD_ENCRYPTION_KEYS = keys
    found = check_ids()
    record("faults", scenarios=1, partial_states=0)
    assert "tmo.E002" in found
    with pytest.raises(SystemCheckError, match="FIELD_ENCRYPTION_KEYS"):
        call_command("check")


def test_a_key_removed_while_rows_still_need_it_fails_the_system_check(settings, patch):
    """Rows written under the old key, the key then dropped from the settings before rotation."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from tests.factories import tenant_in_patch

    tenant = tenant_in_patch(patch, phone="07700 900456", ni_number="QQ123456C")
    assert "tmo.E003" not in check_ids()
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY]
    found = check_ids()
    record("faults", scenarios=1, partial_states=0)
    assert "tmo.E003" in found
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "records.Person" in str(raised.value)
    assert raw_person_columns(tenant)[0] not in str(raised.value)
    # Both keys, the new one first: readable again, and the check is clean.
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY, "lWBBu3k1lCPFxsM8s8Jyn6E2WxpWTGtC7Zzbbd4vFBQ="]
    assert "tmo.E003" not in check_ids()


def test_a_record_whose_key_is_lost_shows_a_clear_error_and_is_never_overwritten(
    settings, officer_client, patch, caplog
):
    from django.urls import reverse

    from records.models import Person
    from tests.factories import tenant_in_patch

    tenant = tenant_in_patch(
        patch, first_name="Ruth", phone="07700 900789", correspondence_address="1 Safe Row"
    )
    stored = raw_person_columns(tenant)
    audit_before = LogEntry.objects.count()
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY]
    pages = {
        "view": officer_client.get(reverse("person_detail", args=[tenant.pk])),
        "edit form": officer_client.get(reverse("person_edit", args=[tenant.pk])),
        "edit submitted": officer_client.post(
            reverse("person_edit", args=[tenant.pk]),
            {"first_name": "Overwritten", "last_name": "Person", "phone": "07700 900000"},
        ),
    }
    logged = caplog.text
    after = raw_person_columns(tenant)
    record("faults", scenarios=1, partial_states=int(after != stored))
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 500, name
        assert "encryption key is not available. Tell your system administrator." in body, name
        for column in stored:
            assert column not in body, name
            assert column not in logged, name
    assert "could not be decrypted" in logged
    # Nothing was written: the ciphertext is as it was, and no audit entry claims a change.
    assert after == stored
    assert LogEntry.objects.count() == audit_before
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY, "lWBBu3k1lCPFxsM8s8Jyn6E2WxpWTGtC7Zzbbd4vFBQ="]
    restored = Person.objects.get(pk=tenant.pk)
    assert restored.first_name == "Ruth" and restored.phone == "07700 900789"
