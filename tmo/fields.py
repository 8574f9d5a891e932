"""Encrypted model fields and blind indexes.

Every value, empty and false ones included, is serialised to JSON and encrypted, so the column never
says whether a field is blank. Reading a value that no key opens raises DecryptionError: it is never
returned as ciphertext. Lookups other than `isnull` are refused, because comparing ciphertext is
always wrong; exact-match search goes through a BlindIndexField instead.
"""

import datetime
import json
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import models

from tmo import crypto


class EncryptedField(models.TextField):
    """Base: subclasses say how their Python value becomes JSON and back."""

    encrypted = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    def serialise(self, value):
        return value

    def deserialise(self, value):
        return value

    def get_internal_type(self):
        return "TextField"

    def get_prep_value(self, value):
        value = self.to_python(value)
        plain = json.dumps(self.serialise(value), separators=(",", ":"))
        return crypto.encrypt_bytes(plain.encode()).decode("ascii")

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        plain = crypto.decrypt_bytes(value.encode("ascii"))
        return self.deserialise(json.loads(plain))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            "Encrypted field '%s' cannot be filtered with '%s'; use its blind index."
            % (self.name, lookup_name)
        )

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(EncryptedField):
    def to_python(self, value):
        if value is None:
            return "" if not self.null else None
        return str(value)


class EncryptedCharField(EncryptedTextField):
    """Text with a maximum length enforced by validation, not by the (ciphertext) column."""

    def __init__(self, *args, max_length=255, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_length"] = self.max_length
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        from django import forms

        defaults = {"form_class": forms.CharField, "max_length": self.max_length}
        defaults.update(kwargs)
        return models.Field.formfield(self, **defaults)


class EncryptedBooleanField(EncryptedField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return models.BooleanField().to_python(value) if value is not None else None

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, form_class=forms.BooleanField, required=False, **kwargs)


class EncryptedDateField(EncryptedField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        return models.DateField().to_python(value)

    def serialise(self, value):
        return value.isoformat() if value else None

    def deserialise(self, value):
        return datetime.date.fromisoformat(value) if value else None

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, form_class=forms.DateField, **kwargs)


class EncryptedDecimalField(EncryptedField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        return Decimal(str(value))

    def serialise(self, value):
        return str(value) if value is not None else None

    def deserialise(self, value):
        return Decimal(value) if value is not None else None

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, form_class=forms.DecimalField, **kwargs)


class BlindIndexField(models.CharField):
    """HMAC of a normalised source field, kept in step on every save, for exact-match search."""

    def __init__(
        self, *args, source: str = "", normaliser: Callable[[str], str] | None = None, **kwargs
    ):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)
        self.source = source
        self.normaliser = normaliser or crypto.normalise_text

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (
            ("max_length", 64),
            ("editable", False),
            ("blank", True),
            ("db_index", True),
        ):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def digest(self, value) -> str:
        normalised = self.normaliser(value or "")
        return crypto.blind_index(normalised) if normalised else ""

    def pre_save(self, model_instance, add):
        value = self.digest(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def encrypted_fields(model) -> list[EncryptedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def encrypted_models() -> list[tuple[type, list[EncryptedField]]]:
    """Every concrete model with encrypted columns in its own table, in a stable order."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        local = set(meta.local_concrete_fields)
        # With multi-table inheritance the parent's columns live in the parent's table.
        columns = [f for f in encrypted_fields(model) if f in local]
        if columns:
            found.append((model, columns))
    return sorted(found, key=lambda item: item[0]._meta.label)
