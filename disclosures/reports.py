"""The disclosure register and the committee's anonymised figures.

The register lists every request with the person's name, so it is for the senior officers and the
data protection lead only, and each export of it is audited. The monthly figures are counts and
times only, with small numbers suppressed, so the committee may see them too.

Time to decide is counted in working days: days after the request was received up to and including
the day it was decided, leaving out weekends and bank holidays in England.
"""

import datetime
import functools
import statistics
from dataclasses import dataclass, field

import holidays
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from disclosures.models import Basis, DisclosureDecision, DisclosureRequest, RequesterType
from records.models import Person
from records.policies import listed_markers, unshown_encrypted
from tmo.audit import record_event
from tmo.reports import Cell, csv_text, hide_complements, is_small

Outcome = DisclosureDecision.Outcome

# The register's outcomes: a decision's outcome, or no decision yet.
OUTCOME_CHOICES = [
    ("released", "Released"),
    ("partial", "Partly released"),
    ("refused", "Refused"),
    ("waiting", "Waiting for a decision"),
]
OUTCOME_LABELS = dict(OUTCOME_CHOICES)
OUTCOME_OF_DECISION = {
    Outcome.RELEASE: "released",
    Outcome.PARTIAL: "partial",
    Outcome.REFUSE: "refused",
}
DECISION_OF_OUTCOME = {value: key for key, value in OUTCOME_OF_DECISION.items()}
# The bases in a word or two, for the register's narrow column; exports carry the full wording.
BASIS_SHORT = {
    Basis.CRIME_TAXATION: "Crime and taxation (Sch. 2 para 2)",
    Basis.LEGAL_PROCEEDINGS: "Legal proceedings (Sch. 2 para 5)",
    Basis.TENANCY_AGREEMENT: "Tenancy agreement",
    Basis.LEGAL_OBLIGATION: "Legal obligation",
    Basis.VITAL_INTERESTS: "Vital interests",
    Basis.CONSENT: "Consent",
    Basis.SHARING_AGREEMENT: "Data sharing agreement",
}

FIGURES_MONTHS = 12


# --- working days -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end`: a request received on a Friday and
    decided on the Monday took one working day; decided the day it came in, none."""
    days = 0
    day = start + datetime.timedelta(days=1)
    while day <= end:
        days += is_working_day(day)
        day += datetime.timedelta(days=1)
    return days


# --- the register -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    requester_type: str = ""
    outcome: str = ""
    basis: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def apply(self, requests):
        if self.requester_type:
            requests = requests.filter(requester_type=self.requester_type)
        if self.basis:
            requests = requests.filter(basis=self.basis)
        if self.outcome == "waiting":
            requests = requests.filter(decision__isnull=True)
        elif self.outcome in DECISION_OF_OUTCOME:
            requests = requests.filter(decision__outcome=DECISION_OF_OUTCOME[self.outcome])
        if self.date_from:
            requests = requests.filter(received_on__gte=self.date_from)
        if self.date_to:
            requests = requests.filter(received_on__lte=self.date_to)
        return requests

    def as_audit(self) -> dict:
        """The filters in force, as plain JSON for the audit entry."""
        return {
            "requester_type": self.requester_type,
            "outcome": self.outcome,
            "basis": self.basis,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }

    def describe(self) -> list[str]:
        """The filters in words, for the top of an export."""
        words = []
        if self.requester_type:
            words.append("Requester type: %s" % RequesterType(self.requester_type).label)
        if self.outcome:
            words.append("Outcome: %s" % OUTCOME_LABELS[self.outcome])
        if self.basis:
            words.append("Basis: %s" % Basis(self.basis).label)
        if self.date_from:
            words.append("Received from %s" % self.date_from.strftime("%-d %B %Y"))
        if self.date_to:
            words.append("Received up to %s" % self.date_to.strftime("%-d %B %Y"))
        return words


def register_requests(user, filters: RegisterFilters):
    """The requests the user may see that match the filters, with everything a row shows loaded
    in the same query (and markers in one more), so the register's query count is fixed."""
    return filters.apply(
        DisclosureRequest.objects.visible_to(user)
        .select_related("person", "decision__decided_by")
        # A row (and the exports made of rows) shows no encrypted detail: none is decrypted.
        .defer(
            *unshown_encrypted(DisclosureRequest),
            *unshown_encrypted(DisclosureDecision, prefix="decision__"),
            *unshown_encrypted(Person, prefix="person__"),
        )
        .prefetch_related(Prefetch("person__markers", queryset=listed_markers()))
    )


@dataclass(frozen=True)
class RegisterRow:
    pk: int
    reference: str
    received_on: datetime.date
    requester_type: str
    organisation: str
    person_name: str
    person_markers: list = field(default_factory=list)
    decided_on: datetime.date | None = None
    decided_by: str = ""
    outcome: str = "waiting"
    outcome_label: str = OUTCOME_LABELS["waiting"]
    status: str = ""
    basis: str = ""
    basis_short: str = ""
    working_days: int | None = None


def _decision_of(request: DisclosureRequest) -> DisclosureDecision | None:
    try:
        return request.decision
    except DisclosureDecision.DoesNotExist:
        return None


def register_row(request: DisclosureRequest) -> RegisterRow:
    decision = _decision_of(request)
    decided_on = timezone.localdate(decision.decided_at) if decision else None
    outcome = OUTCOME_OF_DECISION.get(decision.outcome, "waiting") if decision else "waiting"
    decided_by = ""
    if decision:
        name = decision.decided_by.get_full_name() or decision.decided_by.get_username()
        decided_by = "%s, %s" % (name, decision.decider_position)
    return RegisterRow(
        pk=request.pk,
        reference=request.reference,
        received_on=request.received_on,
        requester_type=request.get_requester_type_display(),
        organisation=request.requester_organisation,
        person_name=request.person.full_name,
        person_markers=request.person.active_markers(),
        decided_on=decided_on,
        decided_by=decided_by,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[outcome],
        status=request.get_status_display(),
        basis=request.get_basis_display(),
        basis_short=BASIS_SHORT.get(request.basis, request.get_basis_display()),
        working_days=working_days_between(request.received_on, decided_on) if decided_on else None,
    )


CSV_COLUMNS = (
    "Reference",
    "Received",
    "Requester type",
    "Organisation",
    "Person",
    "Basis",
    "Outcome",
    "Status",
    "Decided",
    "Decided by",
    "Working days to decide",
)


def register_csv(rows: list[RegisterRow]) -> str:
    return csv_text(
        CSV_COLUMNS,
        (
            (
                row.reference,
                row.received_on.isoformat(),
                row.requester_type,
                row.organisation,
                row.person_name,
                row.basis,
                row.outcome_label,
                row.status,
                row.decided_on.isoformat() if row.decided_on else "",
                row.decided_by,
                "" if row.working_days is None else row.working_days,
            )
            for row in rows
        ),
    )


def register_pdf(rows: list[RegisterRow], *, filters: RegisterFilters, exported_by) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "disclosures/register_pdf.html",
        {
            "rows": rows,
            "filters": filters.describe(),
            "exported_by": exported_by.get_full_name() or exported_by.get_username(),
            "exported_at": timezone.localtime(),
        },
    )
    return HTML(string=html).write_pdf()


@transaction.atomic
def register_export_record(
    *, exported_by, export_format: str, filters: RegisterFilters, rows: list[RegisterRow]
):
    """One audit entry per export, on the account of the officer who exported, naming the format,
    the filters, how many requests and which. One entry, not a read entry on each request: an
    export is one act, and the references say exactly what left the system in it."""
    return record_event(
        actor=exported_by,
        obj=exported_by,
        event="disclosure_register_exported",
        format=export_format,
        filters=filters.as_audit(),
        count=len(rows),
        references=[row.reference for row in rows],
    )


# --- anonymised monthly figures -----------------------------------------------------------------


def suppress(table: list[list[int]]) -> list[list[Cell]]:
    """Counts with their totals, small numbers hidden so that no hidden count can be worked back.

    `table` is the inner counts (a row per month, a column per category). The result adds a total
    to each row and a totals row, and hides every count from 1 to 4 (primary suppression). Then,
    while any row or column (with its total) has exactly one hidden cell, the smallest other
    non-zero cell in it is hidden too (secondary suppression), so a hidden count is never the
    total less the shown ones. Zeros are shown: "none" tells nothing about anyone.
    """
    columns = len(table[0]) if table else 0
    grid = [[*row, sum(row)] for row in table]
    grid.append([sum(row[c] for row in grid) for c in range(columns + 1)])
    cells = [[Cell(value, is_small(value)) for value in row] for row in grid]
    # Rows before columns: the order the register's figures have always been suppressed in.
    hide_complements(
        [list(row) for row in cells] + [[row[c] for row in cells] for c in range(columns + 1)]
    )
    return cells


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _months_back(first: datetime.date, count: int) -> list[datetime.date]:
    """The first days of `count` months ending with `first`'s month, oldest first."""
    months = [first]
    for _ in range(count - 1):
        previous = months[-1] - datetime.timedelta(days=1)
        months.append(previous.replace(day=1))
    return months[::-1]


def _time_cells(days: list[int], decided: Cell) -> dict:
    """How many were decided and, unless that count is hidden, the median and average time."""
    if decided.suppressed or not days:
        return {"decided": decided, "median": None, "average": None}
    return {
        "decided": decided,
        "median": statistics.median(days),
        "average": round(statistics.fmean(days), 1),
    }


def monthly_figures(today: datetime.date | None = None) -> dict:
    """Requests received in each of the last 12 months (this month so far included): counts by
    requester type and by outcome, and the time taken to decide those decided. No names, no
    references: only counts, with small numbers suppressed. One query."""
    today = today or timezone.localdate()
    months = _months_back(_month_start(today), FIGURES_MONTHS)
    rows = (
        DisclosureRequest.objects.filter(received_on__gte=months[0], received_on__lte=today)
        .values_list("received_on", "requester_type", "decision__outcome", "decision__decided_at")
        .order_by()
    )
    index = {month: i for i, month in enumerate(months)}
    types = list(RequesterType)
    outcomes = [value for value, _label in OUTCOME_CHOICES]
    by_type = [[0] * len(types) for _ in months]
    by_outcome = [[0] * len(outcomes) for _ in months]
    days = [[] for _ in months]
    for received_on, requester_type, decision_outcome, decided_at in rows:
        m = index[_month_start(received_on)]
        if requester_type in RequesterType.values:
            by_type[m][types.index(requester_type)] += 1
        outcome = OUTCOME_OF_DECISION.get(decision_outcome, "waiting")
        by_outcome[m][outcomes.index(outcome)] += 1
        if decided_at is not None:
            days[m].append(working_days_between(received_on, timezone.localdate(decided_at)))
    # Categories nobody used in the year are left out: a column of noughts says nothing.
    used_types = [c for c in range(len(types)) if any(row[c] for row in by_type)]
    type_cells = suppress([[row[c] for c in used_types] for row in by_type])
    outcome_cells = suppress(by_outcome)
    labels = [
        month.strftime("%B %Y") + (" (so far)" if month == months[-1] else "") for month in months
    ]
    every_day = [d for month_days in days for d in month_days]
    # The decided counts with their total are a one-column table of their own.
    decided = [row[0] for row in suppress([[len(d)] for d in days])]
    return {
        "months": labels,
        "by_type": {
            "columns": [types[c].label for c in used_types],
            "rows": list(zip(labels, type_cells[:-1], strict=True)),
            "totals": type_cells[-1],
        },
        "by_outcome": {
            "columns": [OUTCOME_LABELS[o] for o in outcomes],
            "rows": list(zip(labels, outcome_cells[:-1], strict=True)),
            "totals": outcome_cells[-1],
        },
        "time_to_decide": {
            "rows": [
                (label, _time_cells(d, count))
                for label, d, count in zip(labels, days, decided[:-1], strict=True)
            ],
            "totals": _time_cells(every_day, decided[-1]),
        },
    }
