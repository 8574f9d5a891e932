"""The unusual-access check: reads of records that look out of the ordinary, raised for review.

Run for one day (local time) over the audit log's ACCESS entries by staff and committee members:

- volume: a user who opened far more distinct records than usual, more than VOLUME_FACTOR times
  the median of their daily counts over the BASELINE_DAYS before (days with no reads count as
  0; days before the account existed do not count) and at least VOLUME_MINIMUM;
- scope: reads of records outside the user's working scope as each model's own policy says it
  now, left without emergency access (`without_emergency_access`); reads the user made under an
  emergency access or a committee grant that covered them at the time are expected and left out.

Each finding is a Breach of kind "unusual access", for review by the DPO, with its entries. A
finding is unique per user, day and kind, so running the check again raises nothing new.
"""

import datetime
import statistics
from collections import defaultdict

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Value
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone

from access.compliance import may_read_records
from access.models import (
    Breach,
    CommitteeAccessRequest,
    EmergencyAccess,
    UnusualAccessFinding,
)
from access.policy import without_emergency_access
from access.roles import STAFF_ROLES, Role, roles_of
from tmo.audit import record_event

VOLUME_FACTOR = 3
VOLUME_MINIMUM = 30
BASELINE_DAYS = 28
# The entry ids kept on a finding; the count says how many there were in all.
ENTRIES_KEPT = 1000
CHECKED_ROLES = STAFF_ROLES | {Role.COMMITTEE_MEMBER}

Kind = UnusualAccessFinding.Kind


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def _reads():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor__isnull=False)


def _record_key():
    return Concat(
        Cast("content_type_id", output_field=CharField()),
        Value(":"),
        "object_pk",
        output_field=CharField(),
    )


def daily_counts(start: datetime.datetime, end: datetime.datetime) -> dict[int, dict]:
    """actor id -> {local date: distinct records opened}, between `start` and `end`."""
    rows = (
        _reads()
        .filter(timestamp__gte=start, timestamp__lt=end)
        .annotate(day=TruncDate("timestamp", tzinfo=timezone.get_current_timezone()))
        .values("actor_id", "day")
        .annotate(records=Count(_record_key(), distinct=True))
        .order_by()
    )
    counts: dict[int, dict] = defaultdict(dict)
    for row in rows:
        counts[row["actor_id"]][row["day"]] = row["records"]
    return counts


def baseline(user, day: datetime.date, history: dict) -> float:
    """The median of the user's daily counts over the BASELINE_DAYS before `day`."""
    first = day - datetime.timedelta(days=BASELINE_DAYS)
    joined = timezone.localtime(user.date_joined).date()
    days = [
        first + datetime.timedelta(days=offset)
        for offset in range(BASELINE_DAYS)
        if first + datetime.timedelta(days=offset) >= joined
    ]
    if not days:
        return 0.0
    return float(statistics.median(history.get(one, 0) for one in days))


def _expected_entry_ids(user, start, end) -> set[int]:
    """Reads the user made under an emergency access or a committee grant covering them then."""
    from access.services.emergency import reads_covered_by
    from access.services.grants import reads_under

    expected: set[int] = set()
    accesses = EmergencyAccess.objects.filter(
        user=user, started_at__lt=end, expires_at__gt=start
    ).select_related("content_type")
    for access in accesses:
        expected |= set(reads_covered_by(access, until=end).values_list("pk", flat=True))
    grants = CommitteeAccessRequest.objects.filter(members=user, decided_at__lt=end).exclude(
        status=CommitteeAccessRequest.Status.REFUSED
    )
    for grant in grants:
        expected |= set(reads_under(grant).filter(actor=user).values_list("pk", flat=True))
    return expected


def out_of_scope_entries(user, start, end) -> list[LogEntry]:
    """The user's reads in the window of records outside their working scope, left without
    emergency access, and not covered by an emergency access or a grant at the time."""
    entries = list(
        _reads()
        .filter(actor=user, timestamp__gte=start, timestamp__lt=end)
        .select_related("content_type")
        .order_by("timestamp", "pk")
    )
    by_type: dict[int, list[LogEntry]] = defaultdict(list)
    for entry in entries:
        by_type[entry.content_type_id].append(entry)
    outside = []
    with without_emergency_access():
        for rows in by_type.values():
            model = rows[0].content_type.model_class()
            if model is None:
                continue
            queryset = model._default_manager.all()
            if not hasattr(queryset, "in_scope"):
                continue  # no object policy: nothing to be outside of
            ids = {}
            for entry in rows:
                try:
                    ids[entry.pk] = model._meta.pk.to_python(entry.object_pk)
                except ValidationError:
                    ids[entry.pk] = None
            wanted = {value for value in ids.values() if value is not None}
            inside = set(queryset.in_scope(user).filter(pk__in=wanted).values_list("pk", flat=True))
            outside += [entry for entry in rows if ids[entry.pk] not in inside]
    if not outside:
        return []
    expected = _expected_entry_ids(user, start, end)
    return [entry for entry in outside if entry.pk not in expected]


def _user_label(user) -> str:
    return "%s (%s)" % (user.get_full_name() or user.get_username(), user.get_username())


@transaction.atomic
def _raise_finding(
    *, user, day, kind: str, records: int, usual: float | None, entry_ids: list[int], now
) -> Breach | None:
    if UnusualAccessFinding.objects.filter(user=user, day=day, kind=kind).exists():
        return None
    when = day.strftime("%d %B %Y")
    if kind == Kind.VOLUME:
        summary = (
            "%s opened %d different records on %s; their usual day is %s (the median of the "
            "%d days before)." % (_user_label(user), records, when, "%g" % usual, BASELINE_DAYS)
        )
    else:
        summary = (
            "%s opened %d record%s on %s outside their usual scope, not under emergency access "
            "or a committee grant."
            % (_user_label(user), records, "" if records == 1 else "s", when)
        )
    breach = Breach.objects.create(
        kind=Breach.Kind.UNUSUAL_ACCESS,
        status=Breach.Status.FOR_REVIEW,
        summary=summary,
        reported_by=None,
        reported_at=now,
        became_aware_at=None,
        how_reported=Breach.HowReported.AUDIT_CHECK,
        concerns_user=user,
    )
    try:
        with transaction.atomic():
            UnusualAccessFinding.objects.create(
                breach=breach,
                user=user,
                day=day,
                kind=kind,
                distinct_records=records,
                baseline=usual,
                entry_ids=entry_ids[:ENTRIES_KEPT],
                entry_count=len(entry_ids),
                raised_at=now,
            )
    except IntegrityError:
        # Another run raised it first: this one's breach goes with the outer transaction.
        transaction.set_rollback(True)
        return None
    record_event(
        actor=None,
        obj=breach,
        event="unusual_access_raised",
        finding=kind,
        user=user.pk,
        day=day.isoformat(),
        records=records,
    )
    return breach


def check_unusual_access(*, day: datetime.date, now=None) -> list[Breach]:
    """Raise a finding for each heavy or out-of-scope reader on `day`; none already raised."""
    now = now or timezone.now()
    start, end = _day_bounds(day)
    history = daily_counts(start - datetime.timedelta(days=BASELINE_DAYS), end)
    readers = [actor_id for actor_id, days in history.items() if days.get(day)]
    raised = []
    for user in get_user_model().objects.filter(pk__in=readers).order_by("pk"):
        if not roles_of(user) & CHECKED_ROLES:
            continue  # residents read only their own requests, through the portal
        records = history[user.pk][day]
        usual = baseline(user, day, history[user.pk])
        if records >= VOLUME_MINIMUM and records > VOLUME_FACTOR * usual:
            ids = list(
                _reads()
                .filter(actor=user, timestamp__gte=start, timestamp__lt=end)
                .order_by("timestamp", "pk")
                .values_list("pk", flat=True)
            )
            breach = _raise_finding(
                user=user,
                day=day,
                kind=Kind.VOLUME,
                records=records,
                usual=usual,
                entry_ids=ids,
                now=now,
            )
            if breach is not None:
                raised.append(breach)
        # A user who may read nothing now (lapsed training) would have every read called
        # outside: their scope cannot be worked out today, so that half waits.
        if not may_read_records(user):
            continue
        outside = out_of_scope_entries(user, start, end)
        if outside:
            distinct = len({(entry.content_type_id, entry.object_pk) for entry in outside})
            breach = _raise_finding(
                user=user,
                day=day,
                kind=Kind.OUT_OF_SCOPE,
                records=distinct,
                usual=None,
                entry_ids=[entry.pk for entry in outside],
                now=now,
            )
            if breach is not None:
                raised.append(breach)
    return raised


def daily_unusual_access_check(now=None) -> str:
    """Daily job: check yesterday (local time)."""
    now = now or timezone.now()
    day = timezone.localtime(now).date() - datetime.timedelta(days=1)
    raised = check_unusual_access(day=day, now=now)
    return "unusual access on %s: %d findings" % (day.isoformat(), len(raised))


def finding_entries(finding: UnusualAccessFinding, limit: int = 200):
    """The finding's audit entries, oldest first, with their content types."""
    return (
        LogEntry.objects.filter(pk__in=finding.entry_ids[:limit])
        .select_related("content_type")
        .order_by("timestamp", "pk")
    )
