"""How long a row is kept, and disposing of rows safely: both read from the personal-data map.

A map entry's `Retention` names the event its period counts from and, where a date field records
that event, the field. From that this module says when a row's period runs out. `dispose` deletes
rows and the encrypted files they own, refusing (and deleting nothing) where the deletion would
carry away personal data about anyone or anything that was not chosen.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone

from tmo import datamap, filestore


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
    """The retention rule in force for a map entry: the map's own default."""
    return entry.retention


def retention_status(entry: datamap.PersonalData, row: models.Model) -> RetentionStatus:
    rule = schedule_for(entry)
    if rule is None or not rule.field:
        return RetentionStatus()
    value = getattr(row, rule.field)
    if value is None:
        return RetentionStatus(running=True)
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return RetentionStatus(ends_on=add_years(value, rule.years))


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
