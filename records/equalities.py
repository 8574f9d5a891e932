"""Equality monitoring: recording a person's voluntary answers, and the committee's figures.

The answers are special category data (UK GDPR Art. 9), held under the equality of opportunity
condition (DPA 2018 Sch. 1 para 8). One person's answers are read only by the roles that record
them (records.policies.EQUALITIES_ROLES). Everyone else, the committee included, sees counts:
current tenants and people with an open application, by answer, with every count from 1 to 4
hidden and, where a hidden count could be worked out from a total, the next smallest one too.
No figure names a person or a home.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access.roles import roles_of
from records.models import EqualityMonitoring, HouseholdMember, HousingApplication, Person
from records.policies import EQUALITIES_ROLES
from tmo.audit import record_event
from tmo.reports import Cell, csv_text, hide_complements, suppress

# --- recording ------------------------------------------------------------------------------------


def may_record(user) -> bool:
    return bool(roles_of(user) & EQUALITIES_ROLES)


@transaction.atomic
def equality_answers_save(
    *, recorded_by, person: Person, answers: EqualityMonitoring
) -> EqualityMonitoring:
    """Record or correct a person's answers, as they gave them; the person is fetched through the
    policy by the caller."""
    if not may_record(recorded_by):
        raise PermissionDenied(
            "Only housing officers and the data protection lead record equality monitoring answers."
        )
    is_new = answers.pk is None
    if is_new and EqualityMonitoring.objects.filter(person=person).exists():
        raise ValidationError(
            "Answers for %s were recorded while you had this page open. Go back to their page "
            "and change those instead." % person.full_name
        )
    answers.person = person
    answers.recorded_by = recorded_by
    answers.recorded_on = timezone.localdate()
    answers.full_clean()
    answers.save()
    # Which questions were answered is itself telling, so the event names none of them.
    record_event(
        actor=recorded_by,
        obj=answers,
        event="equality_answers_recorded" if is_new else "equality_answers_changed",
    )
    return answers


# --- the committee's figures ----------------------------------------------------------------------

NOT_RECORDED = "not_recorded"
NOT_RECORDED_LABEL = "No answers recorded"
NO_DATE_OF_BIRTH = "no_date_of_birth"
GROUPS = (("tenants", "Current tenants"), ("applicants", "Applicants"))
OPEN_APPLICATIONS = (
    HousingApplication.Status.RECEIVED,
    HousingApplication.Status.ASSESSING,
    HousingApplication.Status.ACTIVE,
    HousingApplication.Status.OFFERED,
)
# Lower bound of each band; the last runs on without end.
AGE_BANDS = (0, 16, 25, 35, 45, 55, 65, 75)


@dataclass
class FiguresTable:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    totals: list[Cell]


def _band_label(index: int) -> str:
    low = AGE_BANDS[index]
    if index == 0:
        return "Under %d" % AGE_BANDS[1]
    if index == len(AGE_BANDS) - 1:
        return "%d and over" % low
    return "%d to %d" % (low, AGE_BANDS[index + 1] - 1)


def age_band(born: datetime.date | None, today: datetime.date) -> str:
    if born is None:
        return NO_DATE_OF_BIRTH
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    index = max(i for i, low in enumerate(AGE_BANDS) if age >= low) if age >= 0 else 0
    return str(index)


def ethnic_group(value: str) -> str:
    """The broad ONS group of a detailed answer ("White: Irish" is in "White").

    Only the broad groups are published: publishing the detail as well would let a hidden
    detailed count be worked out from its group's total."""
    label = str(EqualityMonitoring.Ethnicity(value).label)
    return label.split(":")[0]


def _ethnic_groups() -> list[tuple[str, str]]:
    groups = []
    for value in EqualityMonitoring.Ethnicity.values:
        group = ethnic_group(value)
        if (group, group) not in groups:
            groups.append((group, group))
    return groups


def _questions():
    """(key, title, categories, how a person's answer becomes a category) for each question
    asked; the categories are every possible answer, so the layout never depends on the data."""
    model = EqualityMonitoring
    asked = [
        ("ethnicity", "Ethnic group", _ethnic_groups(), lambda a: ethnic_group(a.ethnicity)),
        ("first_language", "First language", model.Language.choices, None),
        ("gender", "Gender", model.Gender.choices, None),
        ("disability", "Disability", model.Disability.choices, None),
        ("religion", "Religion or belief", model.Religion.choices, None),
        ("sexual_orientation", "Sexual orientation", model.SexualOrientation.choices, None),
    ]
    for key, title, choices, answer in asked:
        yield (
            key,
            title,
            [(value, str(label)) for value, label in choices],
            answer or (lambda a, key=key: getattr(a, key)),
        )


def populations(today: datetime.date) -> dict[str, set[int]]:
    """The people counted: tenants and joint tenants of a current tenancy, and people with an
    application still open. One person can be in both (a tenant asking for a transfer)."""
    current = (Q(end_date__isnull=True) | Q(end_date__gte=today)) & (
        Q(tenancy__end_date__isnull=True) | Q(tenancy__end_date__gte=today)
    )
    tenants = HouseholdMember.objects.filter(
        current,
        relationship__in=HouseholdMember.TENANT_RELATIONSHIPS,
        start_date__lte=today,
        tenancy__start_date__lte=today,
    ).values_list("person_id", flat=True)
    applicants = HousingApplication.objects.filter(status__in=OPEN_APPLICATIONS).values_list(
        "person_id", flat=True
    )
    return {"tenants": set(tenants), "applicants": set(applicants)}


def _table(key, title, categories, category_of, people) -> tuple[FiguresTable, list[list[int]]]:
    index = {value: i for i, (value, _label) in enumerate(categories)}
    counts = [[0] * len(GROUPS) for _ in categories]
    for column, (group, _label) in enumerate(GROUPS):
        for person_id in people[group]:
            counts[index[category_of(person_id)]][column] += 1
    # No row totals: someone can be both a tenant and an applicant, so the columns overlap.
    cells = suppress(counts, row_totals=False)
    table = FiguresTable(
        key=key,
        title=title,
        columns=[label for _group, label in GROUPS],
        rows=[(label, row) for (_value, label), row in zip(categories, cells[:-1], strict=True)],
        totals=cells[-1],
    )
    return table, cells


def _column_lines(cells: list[list[Cell]]) -> list[list[Cell]]:
    return [[row[c] for row in cells] for c in range(len(GROUPS))]


def _hide_shared_row_alike(tables: list[list[list[Cell]]], row: int = -2) -> None:
    """The "no answers recorded" count is the same number in every question's table, so it must
    be hidden in all of them or none: shown in one, it would give away the others' hidden cells."""
    changed = True
    while changed:
        changed = False
        for column in range(len(GROUPS)):
            shared = [cells[row][column] for cells in tables]
            if any(cell.suppressed for cell in shared) and not all(
                cell.suppressed for cell in shared
            ):
                for cell in shared:
                    cell.suppressed = True
                changed = True
        if changed:
            for cells in tables:
                hide_complements(_column_lines(cells))


def equality_figures(today: datetime.date | None = None) -> dict:
    """Counts by answer among current tenants and applicants, one table per question and one
    by age band; no names, no references, small numbers hidden.

    The counts are drawn from every row, not through a user's policy: they are anonymised, and
    the committee members they are for may open no one's record."""
    today = today or timezone.localdate()
    people = populations(today)
    everyone = set().union(*people.values())
    answers = {a.person_id: a for a in EqualityMonitoring.objects.filter(person_id__in=everyone)}
    born = dict(Person.objects.filter(pk__in=everyone).values_list("pk", "date_of_birth"))

    tables, grids = [], []
    for key, title, categories, answer in _questions():

        def category_of(person_id, answer=answer):
            given = answers.get(person_id)
            return answer(given) if given is not None else NOT_RECORDED

        table, cells = _table(
            key, title, [*categories, (NOT_RECORDED, NOT_RECORDED_LABEL)], category_of, people
        )
        tables.append(table)
        grids.append(cells)
    # Each table's last inner row is "no answers recorded"; the totals row follows it.
    _hide_shared_row_alike(grids, row=-2)

    bands = [(str(i), _band_label(i)) for i in range(len(AGE_BANDS))]
    age_table, _cells = _table(
        "age_band",
        "Age band (from the date of birth on the register, on %s)" % today.strftime("%-d %B %Y"),
        [*bands, (NO_DATE_OF_BIRTH, "Date of birth not recorded")],
        lambda person_id: age_band(born.get(person_id), today),
        people,
    )
    return {"drawn_on": today, "tables": [age_table, *tables]}


def figures_csv(figures: dict) -> str:
    header = ["Question", "Answer", *[label for _group, label in GROUPS]]
    rows = []
    for table in figures["tables"]:
        for label, cells in table.rows:
            rows.append([table.title, label, *[str(cell) for cell in cells]])
        rows.append([table.title, "Total", *[str(cell) for cell in table.totals]])
    return csv_text(header, rows)
