"""Collection: every row about the requester, read from the personal-data map.

Nothing here names another app's models: each map entry says how to find the rows about a person
(`rows_about`), which fields are about how the record is kept (`internal_fields`), which hold
encrypted files (`encrypted_files`) and which rows are always held back from the subject
(`withheld_from_subject`). A model added later reaches every bundle by declaring its entry.
"""

import datetime
import decimal
import functools
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.hashable import make_hashable

from tmo import datamap
from tmo.fields import BlindIndexField

# sar's own working rows about a request are how the answer is made, not part of it.
OWN_MODELS = {"sar.bundle", "sar.saritem", "sar.sarredaction", "sar.bundledownload"}


@dataclass
class CollectedRow:
    entry: datamap.PersonalData
    row: models.Model
    fields: list[dict]
    files: list[dict] = field(default_factory=list)
    withheld: bool = False

    @property
    def model_label(self) -> str:
        return self.entry.model._meta.label_lower

    @property
    def record_name(self) -> str:
        return self.entry.model_name


def collectable_entries() -> list[datamap.PersonalData]:
    """Every personal-data entry that says how to find a person's rows, but sar's own."""
    return [
        entry
        for entry in datamap.personal_entries()
        if (entry.subject_paths or entry.subject_generic)
        and entry.model._meta.label_lower not in OWN_MODELS
    ]


def related_label(value: models.Model) -> str:
    """A related row by its name: a user by their full name, a home by its address."""
    if type(value)._meta.label_lower == settings.AUTH_USER_MODEL.lower():
        return value.get_full_name() or value.get_username()
    return getattr(value, "address", None) or str(value)


class RelatedLabels:
    """Names of related rows, fetched once per row however many records point at it: a heavy
    subject's thousands of contact records name the same few officers and tenancies."""

    def __init__(self):
        self._labels: dict[tuple[type, object], str] = {}

    def fill(self, model_field, rows) -> None:
        model = model_field.related_model
        wanted = {getattr(row, model_field.attname) for row in rows} - {None}
        wanted = {pk for pk in wanted if (model, pk) not in self._labels}
        if wanted:
            for pk, value in model._base_manager.in_bulk(wanted).items():
                self._labels[(model, pk)] = related_label(value)

    def get(self, model_field, row) -> str:
        pk = getattr(row, model_field.attname)
        return "" if pk is None else self._labels.get((model_field.related_model, pk), "")


@functools.cache
def _choice_labels(model_field, language) -> dict:
    """A field's choices by value, as words in one language: read once, not per row."""
    return {make_hashable(value): str(label) for value, label in model_field.flatchoices}


def display_value(row: models.Model, model_field, labels: RelatedLabels | None = None) -> str:
    """A field's value in plain words: choices by their label, relations by their name, dates
    written out; empty when there is nothing to show."""
    name = model_field.name
    if model_field.is_relation and labels is not None:
        return labels.get(model_field, row)
    value = getattr(row, name)
    if value is None or value == "":
        return ""
    if model_field.choices:
        labels = _choice_labels(model_field, translation.get_language())
        return labels.get(make_hashable(value)) or str(getattr(row, "get_%s_display" % name)())
    if model_field.is_relation:
        return related_label(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%-d %B %Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%-d %B %Y")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _fields_of(entry: datamap.PersonalData) -> list:
    subject_links = {path.split("__")[0] for path in entry.subject_paths if path}
    if entry.subject_generic:
        subject_links |= set(entry.subject_generic)
    skipped = set(entry.internal_fields) | set(entry.encrypted_files) | subject_links
    return [
        f
        for f in entry.model._meta.concrete_fields
        if not f.primary_key and not isinstance(f, BlindIndexField) and f.name not in skipped
    ]


def _date_field(entry: datamap.PersonalData):
    name = entry.retention.field if entry.retention else ""
    if not name:
        return None
    try:
        model_field = entry.model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a map naming a missing field just means no date filter
        return None
    if isinstance(model_field, models.DateField):
        return model_field
    return None


def _within(rows, entry: datamap.PersonalData, date_from, date_to):
    """Rows in the asked-for date range, by the entry's own dated field where it has one; rows
    with no date stay in, since leaving them out could hide data the person is owed."""
    model_field = _date_field(entry)
    if model_field is None or not (date_from or date_to):
        return rows
    lookup = model_field.name
    if isinstance(model_field, models.DateTimeField):
        lookup += "__date"
    empty = models.Q(**{model_field.name + "__isnull": True})
    if date_from:
        rows = rows.filter(models.Q(**{lookup + "__gte": date_from}) | empty)
    if date_to:
        rows = rows.filter(models.Q(**{lookup + "__lte": date_to}) | empty)
    return rows


def _files_of(entry: datamap.PersonalData, row) -> list[dict]:
    files = []
    for name in entry.encrypted_files:
        storage_name = getattr(row, name, "")
        if storage_name:
            filename = getattr(row, "original_filename", "") or ""
            files.append({"storage_name": storage_name, "filename": filename})
    return files


def collect(person, *, date_from=None, date_to=None) -> list[CollectedRow]:
    """Every row about `person` in every mapped model, rendered as label/value pairs."""
    collected = []
    labels = RelatedLabels()
    for entry in collectable_entries():
        query = _within(entry.rows_about(person), entry, date_from, date_to).order_by("pk")
        withheld_pks = set()
        if entry.withheld_from_subject:
            withheld_pks = set(
                query.filter(entry.withheld_from_subject.row_filter()).values_list("pk", flat=True)
            )
        model_fields = _fields_of(entry)
        rows = list(query)
        for model_field in model_fields:
            if model_field.is_relation:
                labels.fill(model_field, rows)
        for row in rows:
            fields = [
                {"name": f.name, "label": str(f.verbose_name).capitalize(), "value": value}
                for f in model_fields
                if (value := display_value(row, f, labels))
            ]
            collected.append(
                CollectedRow(
                    entry=entry,
                    row=row,
                    fields=fields,
                    files=_files_of(entry, row),
                    withheld=row.pk in withheld_pks,
                )
            )
    return collected
