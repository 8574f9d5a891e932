"""`manage.py rotate_keys`: every value and document moves to the newest key, losing nothing."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from records import services
from records.models import Document, Person
from tests import factories
from tests.tmo.test_encryption import ENCRYPTED_MODELS, filled_value, make_instance, raw_column
from tmo import crypto, filestore
from tmo.fields import encrypted_fields
from tmo.management.commands import rotate_keys

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_UNKNOWN = Fernet.generate_key().decode()


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def raw_values(model) -> dict:
    """Every encrypted column of every row of the model, as stored, read without decrypting."""
    quote = connection.ops.quote_name
    fields = encrypted_fields(model)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s, %s FROM %s"  # noqa: S608 - quoted identifiers from meta
            % (
                quote(model._meta.pk.column),
                ", ".join(quote(f.column) for f in fields),
                quote(model._meta.db_table),
            )
        )
        rows = cursor.fetchall()
    return {
        (row[0], field.name): value
        for row in rows
        for field, value in zip(fields, row[1:], strict=True)
    }


def set_raw(instance, field_name, value):
    meta = type(instance)._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE %s SET %s = %%s WHERE %s = %%s"  # noqa: S608 - quoted identifiers from meta
            % (
                quote(meta.db_table),
                quote(meta.get_field(field_name).column),
                quote(meta.pk.column),
            ),
            [value, instance.pk],
        )


def upload(person, data=b"Tenancy agreement, page 1"):
    return services.document_upload(
        uploaded_by=factories.UserFactory(),
        person=person,
        upload=SimpleUploadedFile("agreement.txt", data, "text/plain"),
        title="Agreement",
        kind=Document.Kind.CORRESPONDENCE,
    )


def snapshot():
    """What every encrypted value and document reads as, through the ORM."""
    values = {}
    for model in ENCRYPTED_MODELS:
        for obj in model._base_manager.all():
            for field in encrypted_fields(model):
                values[(model._meta.label, obj.pk, field.name)] = getattr(obj, field.name)
    files = {doc.pk: filestore.read_decrypted(doc.storage_name) for doc in Document.objects.all()}
    return values, files


@pytest.fixture
def key_a(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]


@pytest.mark.django_db
def test_rotation_end_to_end(key_a, settings):
    for model in ENCRYPTED_MODELS:
        instance = make_instance(model)
        for field in encrypted_fields(model):
            setattr(instance, field.name, filled_value(field))
        instance.save()
    upload(factories.PersonFactory(), b"Second document")
    before = snapshot()
    assert before[1], "expected at least one document"
    raw_before = {model: raw_values(model) for model in ENCRYPTED_MODELS}

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    output = rotate()
    assert "records.Person:" in output
    assert "Done:" in output

    for model in ENCRYPTED_MODELS:
        for key, raw in raw_values(model).items():
            assert raw != raw_before[model][key], (model, key)
            assert crypto.is_current(raw.encode())
    for doc in Document.objects.all():
        assert crypto.is_current(filestore.read_token(doc.storage_name))

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert snapshot() == before


@pytest.mark.django_db
def test_running_again_changes_nothing(key_a, settings):
    person = factories.PersonFactory()
    document = upload(person)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    rotate()
    raw_after_first = raw_values(Person)
    token_after_first = filestore.read_token(document.storage_name)

    output = rotate()

    assert raw_values(Person) == raw_after_first
    assert filestore.read_token(document.storage_name) == token_after_first
    assert "Done: 0 values re-encrypted" in output


@pytest.mark.django_db
def test_works_in_batches_and_reports_progress(key_a, settings):
    factories.PersonFactory.create_batch(5)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = rotate("--model", "records.Person", "--batch-size", "2", "--skip-documents")

    assert "records.Person: 2/5 rows" in output
    assert "records.Person: 4/5 rows" in output
    assert "records.Person: 5/5 rows" in output
    values = 5 * len(encrypted_fields(Person))
    assert "records.Person: 5 rows, %d values, re-encrypted %d" % (values, values) in output
    assert all(crypto.is_current(raw.encode()) for raw in raw_values(Person).values())


@pytest.mark.django_db
def test_dry_run_counts_and_writes_nothing(key_a, settings):
    document = upload(factories.PersonFactory())
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    raw_before = raw_values(Person)
    token_before = filestore.read_token(document.storage_name)

    output = rotate("--dry-run")

    values = len(encrypted_fields(Person))
    assert "records.Person: 1 rows, %d values, would re-encrypt %d" % (values, values) in output
    assert "records.Document files: 1 documents, would re-encrypt 1" in output
    assert raw_values(Person) == raw_before
    assert filestore.read_token(document.storage_name) == token_before


@pytest.mark.django_db
def test_start_pk_resumes_after_a_row(key_a, settings):
    first, second = factories.PersonFactory.create_batch(2)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    rotate("--model", "records.Person", "--start-pk", str(first.pk), "--skip-documents")

    ni = Person._meta.get_field("ni_number")
    assert not crypto.is_current(raw_column(first, ni).encode())
    assert crypto.is_current(raw_column(second, ni).encode())


@pytest.mark.django_db
def test_an_undecryptable_value_stops_the_run_and_its_batch_is_not_written(key_a, settings):
    good, bad = factories.PersonFactory.create_batch(2)
    with_unknown_key = Fernet(KEY_UNKNOWN).encrypt(b'"lost"').decode()
    set_raw(bad, "bank_sort_code", with_unknown_key)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    raw_before = raw_values(Person)

    with pytest.raises(CommandError) as failure:
        rotate("--model", "records.Person")

    message = str(failure.value)
    assert "records.Person" in message
    assert "pk=%s" % bad.pk in message
    assert "'bank_sort_code'" in message
    assert "lost" not in message
    assert raw_values(Person) == raw_before

    # With the missing key supplied, the same command finishes the job.
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A, KEY_UNKNOWN]
    rotate("--model", "records.Person")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert Person.objects.get(pk=bad.pk).bank_sort_code == "lost"
    assert Person.objects.get(pk=good.pk).ni_number == good.ni_number


@pytest.mark.django_db
def test_an_undecryptable_document_stops_the_run_and_is_left_alone(key_a, settings):
    document = upload(factories.PersonFactory())
    foreign = Fernet(KEY_UNKNOWN).encrypt(b"someone else's file")
    filestore.write_token(document.storage_name, foreign)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    with pytest.raises(CommandError, match="records.Document pk=%s" % document.pk):
        rotate()

    assert filestore.read_token(document.storage_name) == foreign


@pytest.mark.django_db
def test_a_value_saved_during_the_run_is_not_overwritten(key_a, settings, monkeypatch):
    person = factories.PersonFactory(phone="07700 900001")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    real_rotate = crypto.rotate_token
    edited = []

    def rotate_while_someone_edits(token):
        if not edited:
            # Another request saves a new phone number between our read and our write.
            Person.objects.filter(pk=person.pk).update(phone="07700 900999")
            edited.append(True)
        return real_rotate(token)

    monkeypatch.setattr(rotate_keys.crypto, "rotate_token", rotate_while_someone_edits)
    output = rotate("--model", "records.Person", "--skip-documents")

    assert "changed by someone else meanwhile" in output
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert Person.objects.get(pk=person.pk).phone == "07700 900999"


@pytest.mark.django_db
def test_a_missing_document_file_is_reported_and_the_rest_rotated(key_a, settings):
    gone = upload(factories.PersonFactory())
    kept = upload(factories.PersonFactory())
    filestore.delete(gone.storage_name)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    errors = StringIO()

    call_command("rotate_keys", stdout=StringIO(), stderr=errors)

    assert "1 document files are missing (pks %s)" % gone.pk in errors.getvalue()
    assert crypto.is_current(filestore.read_token(kept.storage_name))


@pytest.mark.django_db
def test_start_pk_needs_one_model():
    with pytest.raises(CommandError, match="exactly one --model"):
        rotate("--start-pk", "1")


@pytest.mark.django_db
def test_a_partial_run_does_not_claim_to_be_complete(key_a, settings):
    factories.PersonFactory()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    output = rotate("--model", "records.Person")
    assert "in the part selected" in output
    assert "Every value now opens" not in output


@pytest.mark.django_db
def test_unknown_model_is_refused():
    with pytest.raises(CommandError, match="records.patch"):
        rotate("--model", "records.Patch")


def test_discovers_every_model_with_encrypted_columns():
    found = {model for model, _ in rotate_keys.encrypted_models()}
    assert found == set(ENCRYPTED_MODELS)


@pytest.mark.django_db
def test_every_encrypted_file_the_data_map_names_is_rotated(key_a, settings):
    """Disclosure packs and evidence are encrypted files too, found through the data map."""
    decision = factories.DisclosureDecisionFactory(pack_storage_name="pack0000000001")
    filestore.write_encrypted(decision.pack_storage_name, b"%PDF- the pack that went out")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = rotate()

    assert "disclosures.DisclosureDecision files: 1 documents, re-encrypted 1" in output
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert filestore.read_decrypted(decision.pack_storage_name) == b"%PDF- the pack that went out"
