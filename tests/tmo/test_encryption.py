"""Encrypted fields fail closed and never leave plaintext in the database (invariant 4)."""

import datetime
import inspect
from decimal import Decimal

import factory
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from records import services
from records.models import Document, Person
from tests import factories
from tmo import crypto, filestore
from tmo.fields import (
    EncryptedBooleanField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedDecimalField,
    EncryptedTextField,
    encrypted_fields,
)

ENCRYPTED_MODELS = sorted(
    (model for model in apps.get_models() if encrypted_fields(model)),
    key=lambda model: model._meta.label,
)


def factory_for(model):
    """The first factory in tests/factories.py that builds this model, if any."""
    for _, candidate in inspect.getmembers(factories, inspect.isclass):
        if (
            issubclass(candidate, factory.django.DjangoModelFactory)
            and candidate._meta.model is model
        ):
            return candidate
    return None


def make_instance(model):
    if model is Document and factory_for(model) is None:
        return services.document_upload(
            uploaded_by=factories.UserFactory(),
            person=factories.PersonFactory(),
            upload=SimpleUploadedFile("letter.txt", b"Dear housing officer", "text/plain"),
            title="Letter",
            kind=Document.Kind.CORRESPONDENCE,
        )
    model_factory = factory_for(model)
    if model_factory is None:
        pytest.fail(
            "%s has encrypted fields but no factory in tests/factories.py; add one so this "
            "test can check its columns hold ciphertext." % model._meta.label
        )
    return model_factory()


def filled_value(field):
    if isinstance(field, EncryptedBooleanField):
        return True
    if isinstance(field, EncryptedDateField):
        return datetime.date(1961, 11, 23)
    if isinstance(field, EncryptedDecimalField):
        return Decimal("98765.43")
    return "Plain-%s-%s" % (field.model._meta.model_name, field.name)


def empty_value(field):
    if isinstance(field, EncryptedBooleanField):
        return False
    if isinstance(field, EncryptedDateField):
        return None
    if isinstance(field, EncryptedDecimalField):
        return Decimal("0")
    return ""


def raw_column(instance, field) -> str | None:
    meta = type(instance)._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s FROM %s WHERE %s = %%s"  # noqa: S608 - quoted identifiers from meta
            % (quote(field.column), quote(meta.db_table), quote(meta.pk.column)),
            [instance.pk],
        )
        (value,) = cursor.fetchone()
    return value


def plaintexts(value) -> list[str]:
    if isinstance(value, datetime.date):
        return [value.isoformat()]
    if isinstance(value, bool):
        return ["true"]
    # Too short a string would turn up in base64 by chance.
    return [str(value)] if len(str(value)) >= 4 else []


@pytest.mark.django_db
@pytest.mark.parametrize("model", ENCRYPTED_MODELS, ids=lambda model: model._meta.label)
@pytest.mark.parametrize("kind", ["filled", "empty"])
def test_every_encrypted_column_holds_ciphertext(model, kind):
    instance = make_instance(model)
    fields = encrypted_fields(model)
    values = {}
    for field in fields:
        values[field.name] = filled_value(field) if kind == "filled" else empty_value(field)
        setattr(instance, field.name, values[field.name])
    instance.save()

    for field in fields:
        raw = raw_column(instance, field)
        assert raw is not None, field
        # Blank and false values are encrypted too, so the column never says a field is empty.
        assert raw.startswith("gAAAAA"), (model, field.name, raw)
        for plain in plaintexts(values[field.name]):
            assert plain not in raw

    reloaded = model._base_manager.get(pk=instance.pk)
    for field in fields:
        assert getattr(reloaded, field.name) == values[field.name], field.name


def test_encrypted_models_are_discovered():
    assert ENCRYPTED_MODELS, "no model declares an encrypted field"
    assert Person in ENCRYPTED_MODELS


@pytest.mark.django_db
def test_null_is_encrypted_as_well():
    person = factories.PersonFactory(date_of_birth=None)
    raw = raw_column(person, Person._meta.get_field("date_of_birth"))
    assert raw.startswith("gAAAAA")
    assert Person.objects.get(pk=person.pk).date_of_birth is None


@pytest.mark.parametrize(
    "field, value",
    [
        (EncryptedTextField(), ""),
        (EncryptedCharField(max_length=10), ""),
        (EncryptedBooleanField(), False),
        (EncryptedBooleanField(), True),
        (EncryptedDateField(null=True), None),
        (EncryptedDecimalField(), Decimal("0")),
    ],
)
def test_each_field_type_encrypts_empty_and_false_values(field, value):
    token = field.get_prep_value(value)
    assert token.startswith("gAAAAA")
    assert field.from_db_value(token, None, connection) == value
    # Same value twice gives different ciphertext: equal values cannot be spotted in the table.
    assert field.get_prep_value(value) != token


@pytest.mark.django_db
def test_a_value_no_key_opens_raises_and_is_never_shown(settings):
    person = factories.PersonFactory(ni_number="QQ123456C")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        Person.objects.get(pk=person.pk)
    with pytest.raises(crypto.DecryptionError):
        list(Person.objects.values_list("ni_number", flat=True))


@pytest.mark.django_db
def test_an_old_key_still_decrypts_while_listed_after_the_new_one(settings):
    person = factories.PersonFactory(phone="07700 900123")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert Person.objects.get(pk=person.pk).phone == "07700 900123"


@pytest.mark.django_db
def test_document_files_are_encrypted_on_disk(settings):
    document = make_instance(Document)
    on_disk = filestore.document_path(document.storage_name).read_bytes()
    assert on_disk.startswith(b"gAAAAA")
    assert b"Dear housing officer" not in on_disk
    assert filestore.read_decrypted(document.storage_name) == b"Dear housing officer"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        filestore.read_decrypted(document.storage_name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "lookup",
    [
        "ni_number",
        "ni_number__iexact",
        "ni_number__icontains",
        "ni_number__startswith",
        "email__in",
    ],
)
def test_encrypted_fields_refuse_filtering(lookup):
    value = ["a@b.example"] if lookup.endswith("__in") else "QQ123456C"
    with pytest.raises(FieldError, match="blind index"):
        list(Person.objects.filter(**{lookup: value}))


@pytest.mark.django_db
def test_encrypted_fields_allow_isnull():
    person = factories.PersonFactory()
    assert list(Person.objects.filter(ni_number__isnull=False)) == [person]
    assert list(Person.objects.filter(ni_number__isnull=True)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, stored, searched",
    [
        ("ni_number", "QQ 12 34 56 C", "qq123456c"),
        ("email", "Ann.Example@Mail.example", "  ann.example@mail.EXAMPLE "),
        ("phone", "+44 7700 900123", "07700-900-123"),
    ],
)
def test_blind_index_finds_a_value_after_normalisation(field, stored, searched):
    person = factories.PersonFactory(**{field: stored})
    factories.PersonFactory()
    index = Person._meta.get_field(field + "_index")
    found = Person.objects.filter(**{index.name: index.digest(searched)})
    assert list(found) == [person]
    # The index is a keyed hash: it is not the value, normalised or not.
    raw = getattr(Person.objects.get(pk=person.pk), index.name)
    assert len(raw) == 64
    assert index.normaliser(stored) not in raw


@pytest.mark.django_db
def test_blind_index_depends_on_its_key(settings):
    index = Person._meta.get_field("ni_number_index")
    before = index.digest("QQ123456C")
    settings.BLIND_INDEX_KEY = "another-blind-index-key"
    assert index.digest("QQ123456C") != before


@pytest.mark.django_db
def test_blank_value_has_an_empty_blind_index():
    person = factories.PersonFactory(ni_number="")
    assert Person.objects.get(pk=person.pk).ni_number_index == ""
