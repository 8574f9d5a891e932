"""How long a row is kept, and disposing of rows safely: both read from the retention schedule.

Each kind of record in the personal-data map has one rule in the schedule (tmo.retention_models.
RetentionRule), seeded from the map's own `Retention` and changed only by the data protection lead.
A rule names the event its period counts from and, where a date field records that event, the
field (or a path through foreign keys to it, "request__completed_on"). From that this module says
when a row's period runs out and which rows are past it. `dispose` deletes rows and the encrypted
files they own, refusing (and deleting nothing) where the deletion would carry away personal data
about anyone or anything that was not chosen; `anonymise` blanks a row's personal details and keeps
the row for statistics.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, models, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone

from tmo import datamap, filestore
from tmo.fields import BlindIndexField, EncryptedField


@dataclass(frozen=True)
class RetentionStatus:
    """Where a row stands against its retention rule.

    `ends_on` is the last day it must be kept, where that can be worked out; `running` says the
    event the period counts from has not happened yet (a tenancy with no end date), so the row
    is still needed; neither means the map names no date field and a person must judge."""

    ends_on: datetime.date | None = None
    running: bool = False

    @property
    def known(self) -> bool:
        return self.ends_on is not None or self.running

    def expired(self, today: datetime.date) -> bool:
        return self.ends_on is not None and self.ends_on < today


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 February in a year that has none: the period ends on the 28th.
        return day.replace(year=day.year + years, day=28)


def schedule_for(entry: datamap.PersonalData) -> datamap.Retention | None:
    """The retention rule in force for a map entry: the schedule's rule where there is one (the
    data protection lead may have changed it), otherwise the map's own default."""
    if not entry.is_personal:
        return entry.retention
    rule = rule_for(entry)
    if rule is None:
        return entry.retention
    return datamap.Retention(years=rule.years, after=rule.after, field=rule.date_field)


def rule_for(entry: datamap.PersonalData):
    """The schedule's rule row for a map entry, or None before the schedule has one."""
    from tmo.retention_models import RetentionRule

    try:
        return RetentionRule.objects.filter(model_label=entry.model._meta.label_lower).first()
    except DatabaseError:
        # No tables yet (checks before the first migrate). Any other failure (the connection
        # dropped) is raised: falling back to the map's default would apply the wrong period.
        if RetentionRule._meta.db_table in connection.introspection.table_names():
            raise
        return None


def retention_status(entry: datamap.PersonalData, row: models.Model) -> RetentionStatus:
    rule = schedule_for(entry)
    if rule is None or not rule.field:
        return RetentionStatus()
    return status_from(path_value(row, rule.field), rule.years)


def status_from(value, years: int) -> RetentionStatus:
    if value is None:
        return RetentionStatus(running=True)
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return RetentionStatus(ends_on=add_years(value, years))


def path_value(row: models.Model, path: str):
    """The value at `path` ("end_date", "request__completed_on") from `row`; None where a link on
    the way is empty, since the event the period counts from cannot have happened yet."""
    value = row
    for part in path.split("__"):
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:
            return None
        if value is None:
            return None
    return value


def _key(row: models.Model) -> tuple[str, str]:
    return (row._meta.label_lower, str(row.pk))


def _describe(model, count: int) -> str:
    name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
    return "%d %s" % (count, name)


def _carried_away(collector: Collector, chosen: set[tuple[str, str]]) -> dict:
    """Personal-data rows the deletion would take with it that were not chosen, by model."""
    extra: dict = {}
    for model, instances in collector.data.items():
        entry = datamap.entry_for(model)
        if entry is None or not entry.is_personal:
            continue
        others = [row for row in instances if _key(row) not in chosen]
        if others:
            extra[model] = extra.get(model, 0) + len(others)
    for queryset in collector.fast_deletes:
        entry = datamap.entry_for(queryset.model)
        if entry is None or not entry.is_personal:
            continue
        label = queryset.model._meta.label_lower
        others = [
            pk for pk in queryset.values_list("pk", flat=True) if (label, str(pk)) not in chosen
        ]
        if others:
            extra[queryset.model] = extra.get(queryset.model, 0) + len(others)
    return extra


@transaction.atomic
def dispose(rows: list[models.Model]) -> int:
    """Delete `rows` and, once the transaction commits, the encrypted files they own.

    Deletion runs through Django's collector, so the audit log records every row deleted. Nothing
    is deleted if a row is still needed by another (a protected reference) or if deleting would
    also remove personal data that was not chosen: each such case is a ValidationError saying
    which records stand in the way."""
    if not rows:
        return 0
    chosen = {_key(row) for row in rows}
    by_model: dict = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    collector = Collector(using=DEFAULT_DB_ALIAS)
    try:
        for group in by_model.values():
            collector.collect(group)
    except (ProtectedError, RestrictedError) as error:
        blockers = (
            error.protected_objects
            if isinstance(error, ProtectedError)
            else error.restricted_objects
        )
        counts: dict = {}
        for blocker in blockers:
            counts[type(blocker)] = counts.get(type(blocker), 0) + 1
        raise ValidationError(
            "Still needed by %s, which must be kept or dealt with first."
            % ", ".join(_describe(model, count) for model, count in counts.items())
        ) from error
    extra = _carried_away(collector, chosen)
    if extra:
        raise ValidationError(
            "Deleting these would also delete %s not chosen. Choose those too, or keep these."
            % ", ".join(_describe(model, count) for model, count in extra.items())
        )
    files = []
    for row in rows:
        entry = datamap.entry_for(type(row))
        for name in entry.encrypted_files if entry else ():
            if getattr(row, name, ""):
                files.append(getattr(row, name))
    deleted, _ = collector.delete()

    def remove_files():
        for storage_name in files:
            filestore.delete(storage_name)

    transaction.on_commit(remove_files)
    return deleted


# --- the schedule ----------------------------------------------------------------------------

DELETE = "delete"
ANONYMISE = "anonymise"

# What happens at the end of each kind of record's period, where the general rule below is not
# the right one, and why. The years, the event and the date field come from the map.
SEED_ACTIONS = {
    # Kept as rows for the register's figures and the audit trail; the details go.
    "sar.subjectaccessrequest": (
        ANONYMISE,
        ("requester_name", "extension_reason"),
        "The request stays, without the requester's details, so the yearly figures still add up.",
    ),
    "disclosures.disclosurerequest": (
        ANONYMISE,
        ("requester_name", "identity_check", "safety_override_reason"),
        "The request stays in the disclosure register's figures without the details.",
    ),
    "records.authorisedrepresentative": (
        ANONYMISE,
        ("name", "organisation", "evidence", "scope_notes"),
        "Rights requests made through the representative point at this row.",
    ),
    "records.tenancy": (
        ANONYMISE,
        ("access_notes",),
        "The tenancy stays for the home's history and the rent figures; household members go on "
        "their own dates.",
    ),
    "records.person": (
        ANONYMISE,
        (),
        "Many records point at the register entry: its details are blanked instead.",
    ),
    # Rows other rows point at, but whose dependants are always due first.
    "access.emergencyaccess": (
        DELETE,
        (),
        "Its attempts are due first, counted from the same day or earlier.",
    ),
    "sar.bundle": (DELETE, (), "Its items and downloads go in the same review, first."),
    "sar.saritem": (DELETE, (), "Its redactions go in the same review, first."),
    "records.contractor": (
        ANONYMISE,
        (),
        "Bids, contacts and work orders point at the contractor: the notes are blanked instead.",
    ),
}
# Models whose rows are never proposed for disposal: the accounts a row names are staff, not
# the people the records are about, so links to them do not make a row worth keeping.
_IGNORED_TARGETS = {"auth.user", "contenttypes.contenttype"}


def _pointing_at(model) -> Iterator[models.ForeignKey]:
    """Every foreign key (or one-to-one) of any model that points at `model`, hidden ones too."""
    for other in apps.get_models():
        for field in other._meta.concrete_fields:
            if field.is_relation and field.related_model is model and other is not model:
                yield field


def _has_dependants(model) -> bool:
    """Whether other rows point at this model's rows in a way that stops or spreads a delete."""
    return any(
        field.remote_field.on_delete in {models.PROTECT, models.RESTRICT, models.CASCADE}
        for field in _pointing_at(model)
    )


def default_rule(entry: datamap.PersonalData) -> dict:
    """The seed for a kind of record: the map's years, event and field, and the action above or,
    for a model not listed there, anonymise when other rows depend on its rows, else delete."""
    label = entry.model._meta.label_lower
    retention = entry.retention or datamap.Retention(years=6, after="the record is closed")
    field = retention.field if valid_date_path(entry.model, retention.field) else ""
    subject = "" in entry.subject_paths
    action, extra, notes = SEED_ACTIONS.get(
        label,
        (ANONYMISE if subject or _has_dependants(entry.model) else DELETE, (), ""),
    )
    blankable = {f.name for f in blankable_fields(entry.model)}
    return {
        "years": retention.years,
        "after": retention.after,
        "date_field": field,
        "action": action,
        "extra_fields": [name for name in extra if name in blankable],
        "notes": notes,
    }


def ensure_schedule() -> dict:
    """Every kind of personal record in the map has a rule: new ones get their seed. Returns the
    rules by model label."""
    from tmo.retention_models import RetentionRule

    rules = {rule.model_label: rule for rule in RetentionRule.objects.select_related("changed_by")}
    for entry in datamap.personal_entries():
        label = entry.model._meta.label_lower
        if label not in rules:
            rules[label] = RetentionRule.objects.create(model_label=label, **default_rule(entry))
    return rules


def seed_schedule(rule_model, using=DEFAULT_DB_ALIAS) -> int:
    """For the migration: the seed rules, written with the migration's historical model."""
    made = 0
    existing = set(rule_model.objects.using(using).values_list("model_label", flat=True))
    for entry in datamap.personal_entries():
        label = entry.model._meta.label_lower
        if label not in existing:
            rule_model.objects.using(using).create(model_label=label, **default_rule(entry))
            made += 1
    return made


def entry_for_label(label: str) -> datamap.PersonalData | None:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return datamap.entry_for(model)


def _resolve(model, path: str):
    """The model field at the end of `path`, following forward foreign keys; None if none."""
    if not path:
        return None
    field = None
    current = model
    parts = path.split("__")
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if index < len(parts) - 1:
            if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                return None
            if field.auto_created and not field.concrete:
                return None  # reverse relations are not followed: a row has many of them
            current = field.related_model
    return field


def valid_date_path(model, path: str) -> bool:
    return isinstance(_resolve(model, path), models.DateField | models.DateTimeField)


def date_choices(model, depth: int = 2) -> list[tuple[str, str]]:
    """The dates a rule for `model` could count from: its own date fields, then those of the rows
    its foreign keys point at (two steps), labelled for people ("Request: completed on")."""
    choices = []

    def walk(current, prefix: str, label: str, level: int):
        for field in current._meta.concrete_fields:
            if isinstance(field, EncryptedField):
                continue
            name = prefix + field.name
            if isinstance(field, models.DateField | models.DateTimeField):
                text = str(field.verbose_name)
                choices.append((name, "%s%s" % (label, text if label else text.capitalize())))
        if level >= depth:
            return
        for field in current._meta.concrete_fields:
            if not field.is_relation or field.related_model._meta.label_lower in _IGNORED_TARGETS:
                continue
            walk(
                field.related_model,
                prefix + field.name + "__",
                "%s%s: " % (label, str(field.verbose_name).capitalize()),
                level + 1,
            )

    walk(model, "", "", 0)
    return choices


def date_label(model, path: str) -> str:
    return dict(date_choices(model)).get(path, path)


# --- anonymising ------------------------------------------------------------------------------


def _is_text(field) -> bool:
    return isinstance(field, models.CharField | models.TextField) and not isinstance(
        field, BlindIndexField
    )


def blankable_fields(model) -> list:
    """Fields an anonymised row can have blanked: text without fixed choices, not unique."""
    return [
        f
        for f in model._meta.concrete_fields
        if _is_text(f)
        and not f.primary_key
        and not f.is_relation
        and not f.choices
        and not f.unique
    ]


def covered_fields(entry: datamap.PersonalData) -> set[str]:
    """The fields the map and encryption say are personal, which anonymising always blanks: the
    masked and sensitive fields, safety-protected details and, for the register of people, every
    detail that names or reaches the person."""
    model = entry.model
    names = set(entry.masked_fields()) | set(entry.sensitive_fields)
    names |= {
        name
        for name in entry.safety_protected_fields
        if not model._meta.get_field(name).is_relation
    }
    if "" in entry.subject_paths:
        names |= {
            f.name
            for f in model._meta.concrete_fields
            if _is_text(f)
            and not f.is_relation
            and not f.choices
            and f.name not in entry.internal_fields
        }
    return names


def anonymised_fields(entry: datamap.PersonalData, extra: Iterable[str] = ()) -> list[str]:
    model = entry.model
    names = covered_fields(entry) | set(extra)
    blankable = []
    for name in sorted(names):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.is_relation or field.primary_key or field.unique:
            continue
        if _blank_value(field) is _KEEP:
            continue
        blankable.append(name)
    return blankable


_KEEP = object()


def _blank_value(field):
    """What a field holds once blanked, or _KEEP for a field that cannot be blank (a required
    date or number: not personal on its own, and kept for the figures)."""
    if isinstance(field, EncryptedField):
        return None if field.null else field.to_python(None)
    if field.null:
        return None
    if _is_text(field):
        return ""
    if isinstance(field, models.JSONField):
        return field.get_default()
    return _KEEP


def anonymise(row: models.Model, *, extra_fields: Iterable[str] = ()) -> tuple[list[str], int]:
    """Blank the row's personal details in place and remove the files it owns (once the
    transaction commits). Returns the names of the fields blanked and the number of files.

    The update goes straight to the table, so the audit log's entry for it (written by the
    caller) names the fields, and no old value is copied into a change entry."""
    entry = datamap.entry_for(type(row))
    names = anonymised_fields(entry, extra_fields)
    values = {}
    for name in names:
        values[name] = _blank_value(type(row)._meta.get_field(name))
    # A blind index over a blanked field would still match the old value.
    for field in type(row)._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source in values:
            values[field.attname] = ""
    files = [getattr(row, name) for name in entry.encrypted_files if getattr(row, name, "")]
    for name in entry.encrypted_files:
        model_field = type(row)._meta.get_field(name)
        if not model_field.unique and name not in values:
            values[name] = ""
    if values:
        type(row)._default_manager.filter(pk=row.pk).update(**values)

    def remove_files():
        for storage_name in files:
            filestore.delete(storage_name)

    transaction.on_commit(remove_files)
    return names, len(files)


def owned_files(row: models.Model) -> list[str]:
    entry = datamap.entry_for(type(row))
    return [
        getattr(row, name)
        for name in (entry.encrypted_files if entry else ())
        if getattr(row, name, "")
    ]


# --- what is due --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRow:
    model_label: str
    object_id: str
    ends_on: datetime.date

    @property
    def key(self) -> tuple[str, str]:
        return (self.model_label, self.object_id)


def due_rows(entry: datamap.PersonalData, rule, today: datetime.date) -> Iterator[DueRow]:
    """Rows of one kind whose period under `rule` ended before `today`. Nothing for a rule with no
    date field: those rows are reviewed by hand."""
    model = entry.model
    path = rule.date_field
    field = _resolve(model, path) if path else None
    if not isinstance(field, models.DateField | models.DateTimeField):
        return
    # The database narrows the rows (with a day's slack for leap days and time zones); the exact
    # rule is then the same one retention_status applies.
    latest = add_years(today, -rule.years) + datetime.timedelta(days=1)
    if isinstance(field, models.DateTimeField):
        latest = timezone.make_aware(datetime.datetime.combine(latest, datetime.time.min))
    rows = (
        model._default_manager.filter(**{path + "__lt": latest})
        .order_by("pk")
        .values_list("pk", path)
    )
    label = model._meta.label_lower
    for pk, value in rows.iterator():
        status = status_from(value, rule.years)
        if status.expired(today):
            yield DueRow(model_label=label, object_id=str(pk), ends_on=status.ends_on)


def held_keys(today: datetime.date | None = None) -> set[tuple[str, str]]:
    """Every row under a live legal hold. A hold on a person's register entry holds every row
    the map finds about them."""
    from tmo.retention_models import LegalHold

    today = today or timezone.localdate()
    holds = list(
        LegalHold.objects.filter(LegalHold.live_filter(today)).values_list(
            "model_label", "object_id"
        )
    )
    keys = set(holds)
    subjects = {
        entry.model._meta.label_lower: entry.model
        for entry in datamap.personal_entries()
        if "" in entry.subject_paths
    }
    for label, object_id in holds:
        subject_model = subjects.get(label)
        if subject_model is None:
            continue
        person = subject_model._default_manager.filter(pk=object_id).first()
        if person is None:
            continue
        for entry in datamap.personal_entries():
            if not (entry.subject_paths or entry.subject_generic):
                continue
            about = entry.rows_about(person).values_list("pk", flat=True)
            keys |= {(entry.model._meta.label_lower, str(pk)) for pk in about}
    return keys


def dependency_order(labels: Iterable[str]) -> list[str]:
    """The labels ordered so that rows pointing at others come first: an item before its
    bundle, a household member before its tenancy, so each is free to go when its turn comes."""
    labels = list(dict.fromkeys(labels))
    wanted = set(labels)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(label: str):
        if label in ordered or label in visiting:
            return
        visiting.add(label)
        for field in _pointing_at(apps.get_model(label)):
            child = field.model._meta.label_lower
            if child in wanted:
                visit(child)
        visiting.discard(label)
        ordered.append(label)

    for label in sorted(labels):
        visit(label)
    return ordered


# --- sign-in logs ------------------------------------------------------------------------------


def sweep_axes_logs(now: datetime.datetime | None = None) -> int:
    """Delete django-axes' attempt and log rows older than AXES_LOG_RETENTION_DAYS. They hold
    usernames and addresses of sign-ins, kept only long enough to spot attacks."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    days = getattr(settings, "AXES_LOG_RETENTION_DAYS", 90)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    removed = 0
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        _, counts = model.objects.filter(attempt_time__lt=cutoff).delete()
        removed += counts.get(model._meta.label, 0)
    return removed
