"""Equality monitoring: voluntary answers recorded from the person page, seen one by one only by
the roles that record them, and reported to the committee as anonymised counts with small numbers
and their complements hidden."""

import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records import equalities
from records.models import EqualityMonitoring, HouseholdMember, HousingApplication
from tests.factories import (
    EqualityMonitoringFactory,
    HouseholdMemberFactory,
    HousingApplicationFactory,
    PersonFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import datamap
from tmo.reports import SUPPRESSED

E = EqualityMonitoring
ANSWERS = {
    "ethnicity": E.Ethnicity.WHITE_GYPSY_TRAVELLER,
    "first_language": E.Language.SOMALI,
    "gender": E.Gender.NON_BINARY,
    "disability": E.Disability.YES_A_LITTLE,
    "religion": E.Religion.SIKH,
    "sexual_orientation": E.SexualOrientation.BISEXUAL,
}
# Labels unusual enough that finding one on a page means an answer was shown.
ANSWER_LABELS = [
    "Gypsy or Irish Traveller",
    "Somali",
    "Non-binary",
    "limited a little",
    "Sikh",
    "Bisexual",
]


def answers_for(person, **overrides):
    return EqualityMonitoringFactory(person=person, **{**ANSWERS, **overrides})


def test_the_map_holds_the_answers_as_special_category_data_with_the_equality_condition():
    entry = datamap.entry_for(EqualityMonitoring)
    assert entry.category == datamap.Category.SPECIAL
    assert "DPA 2018 Sch. 1 para 8" in entry.condition
    assert set(entry.masked_fields()) >= set(E.ANSWER_FIELDS)
    # No age is stored: it is worked out from the date of birth when the figures are drawn.
    assert "age" not in {f.name for f in E._meta.fields}


def test_a_housing_officer_records_the_answers_from_the_person_page(officer_client, officer, patch):
    tenant = tenant_in_patch(patch)
    page = officer_client.get(reverse("person_detail", args=[tenant.pk]))
    assert "Record equality monitoring answers" in page.content.decode()

    url = reverse("equality_answers", args=[tenant.pk])
    form = officer_client.get(url)
    assert "Prefer not to say" in form.content.decode()
    response = officer_client.post(url, ANSWERS)
    assert response.status_code == 302
    answers = E.objects.get(person=tenant)
    assert {name: getattr(answers, name) for name in ANSWERS} == ANSWERS
    assert answers.recorded_by == officer
    assert LogEntry.objects.filter(
        object_pk=str(answers.pk), additional_data__event="equality_answers_recorded"
    ).exists()

    body = officer_client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
    for label in ANSWER_LABELS:
        assert label in body

    # Changing them replaces them: still one row per person.
    officer_client.post(url, {**ANSWERS, "religion": E.Religion.PREFER_NOT_TO_SAY})
    assert E.objects.filter(person=tenant).count() == 1
    assert E.objects.get(person=tenant).religion == E.Religion.PREFER_NOT_TO_SAY


def test_every_question_needs_an_answer_and_bad_input_saves_nothing(officer_client, patch):
    tenant = tenant_in_patch(patch)
    url = reverse("equality_answers", args=[tenant.pk])
    missing = officer_client.post(url, {**ANSWERS, "gender": ""})
    assert missing.status_code == 200
    assert "Select an answer, or ‘Prefer not to say’" in missing.content.decode()
    invented = officer_client.post(url, {**ANSWERS, "ethnicity": "martian"})
    assert "Select an answer, or ‘Prefer not to say’" in invented.content.decode()
    assert not E.objects.filter(person=tenant).exists()


@pytest.mark.parametrize(
    "role", [Role.FINANCE_OFFICER, Role.SENIOR_OFFICER, Role.REPAIRS_OFFICER, Role.HR_OFFICER]
)
def test_a_role_without_the_right_sees_no_answers_anywhere(client, patch, role):
    tenant = tenant_in_patch(patch)
    answers_for(tenant)
    user = user_with_role(role)
    if role == Role.REPAIRS_OFFICER:
        patch.officers.add(user)
    if role == Role.HR_OFFICER:
        from tests.factories import StaffRecordFactory

        StaffRecordFactory(person=tenant)
    client.force_login(user)

    page = client.get(reverse("person_detail", args=[tenant.pk]))
    assert page.status_code == 200  # they may see the person...
    body = page.content.decode()
    assert "Equality monitoring" not in body  # ...but not that there are answers, nor what
    for label in ANSWER_LABELS:
        assert label not in body
    assert client.get(reverse("equality_answers", args=[tenant.pk])).status_code == 403
    assert not E.objects.visible_to(user).exists()


def test_a_housing_officer_reaches_only_the_people_of_their_own_patch(client, patch):
    from tests.factories import PatchFactory

    elsewhere = tenant_in_patch(PatchFactory())
    answers_for(elsewhere)
    officer = user_with_role(Role.HOUSING_OFFICER)
    patch.officers.add(officer)
    client.force_login(officer)
    assert client.get(reverse("equality_answers", args=[elsewhere.pk])).status_code == 404
    assert client.post(reverse("equality_answers", args=[elsewhere.pk]), ANSWERS).status_code == (
        404
    )
    assert E.objects.get(person=elsewhere).gender == ANSWERS["gender"]


def _tenants(count, **answers):
    people = []
    for _ in range(count):
        member = HouseholdMemberFactory()
        if answers:
            answers_for(member.person, **answers)
        people.append(member.person)
    return people


def _table(figures, key):
    return next(table for table in figures["tables"] if table.key == key)


def _row(table, label):
    return next(cells for row_label, cells in table.rows if row_label == label)


def _hidden_counts_per_column(table):
    for column in range(len(table.columns)):
        cells = [cells[column] for _label, cells in table.rows] + [table.totals[column]]
        yield sum(1 for cell in cells if cell.suppressed)


@pytest.mark.django_db
def test_figures_hide_small_counts_and_the_counts_that_would_give_them_away():
    _tenants(9, gender=E.Gender.WOMAN)
    _tenants(3, gender=E.Gender.MAN)
    figures = equalities.equality_figures()
    gender = _table(figures, "gender")
    tenants = 0  # column of current tenants

    assert _row(gender, "Man")[tenants].suppressed  # 3: too few to show
    # 9 is not small, but with the total of 12 shown it would give the 3 away.
    assert _row(gender, "Woman")[tenants].suppressed
    assert str(_row(gender, "Woman")[tenants]) == SUPPRESSED
    assert gender.totals[tenants].value == 12 and not gender.totals[tenants].suppressed
    # Zeros are shown: "none" says nothing about anyone.
    assert str(_row(gender, "Non-binary")[tenants]) == "0"
    for table in figures["tables"]:
        assert all(hidden != 1 for hidden in _hidden_counts_per_column(table)), table.key

    csv = equalities.figures_csv(figures)
    assert '"Gender","Man","%s","0"' % SUPPRESSED in csv
    assert '"Gender","Total","12","0"' in csv


@pytest.mark.django_db
def test_no_answers_recorded_is_hidden_alike_in_every_table():
    """Six tenants gave no answers. In the gender table that count is hidden to protect a lone
    man; shown in any other table it would give his count away, so it is hidden in all."""
    _tenants(9, gender=E.Gender.WOMAN, religion=E.Religion.CHRISTIAN)
    _tenants(1, gender=E.Gender.MAN, religion=E.Religion.CHRISTIAN)
    _tenants(6)
    figures = equalities.equality_figures()
    assert _row(_table(figures, "gender"), equalities.NOT_RECORDED_LABEL)[0].suppressed
    answer_tables = [table for table in figures["tables"] if table.key != "age_band"]
    for table in answer_tables:
        assert _row(table, equalities.NOT_RECORDED_LABEL)[0].suppressed, table.key
        assert all(hidden != 1 for hidden in _hidden_counts_per_column(table)), table.key
    assert _row(_table(figures, "religion"), "Christian")[0].suppressed


@pytest.mark.django_db
def test_who_is_counted_and_how_age_is_banded():
    today = timezone.localdate()
    adult = PersonFactory(date_of_birth=today - datetime.timedelta(days=30 * 365 + 30))
    HouseholdMemberFactory(person=adult)
    child = PersonFactory(date_of_birth=today - datetime.timedelta(days=8 * 365 + 30))
    HouseholdMemberFactory(person=child, relationship=HouseholdMember.Relationship.CHILD)
    former = HouseholdMemberFactory(end_date=today - datetime.timedelta(days=1)).person
    applicant = HousingApplicationFactory().person
    housed = HousingApplicationFactory(status=HousingApplication.Status.HOUSED).person

    people = equalities.populations(today)
    assert adult.pk in people["tenants"]
    assert child.pk not in people["tenants"]  # household members are not tenants
    assert former.pk not in people["tenants"]
    assert applicant.pk in people["applicants"] and housed.pk not in people["applicants"]

    assert equalities.age_band(adult.date_of_birth, today) == "2"  # 25 to 34
    assert equalities._band_label(2) == "25 to 34"
    assert equalities.age_band(None, today) == equalities.NO_DATE_OF_BIRTH
    assert equalities.ethnic_group(E.Ethnicity.WHITE_ROMA) == "White"


def test_committee_member_sees_the_figures_but_no_person(client, patch):
    people = [tenant_in_patch(patch, first_name="Ottoline") for _ in range(6)]
    for person in people:
        answers_for(person)
    member = user_with_role(Role.COMMITTEE_MEMBER)
    client.force_login(member)

    page = client.get(reverse("equality_figures"))
    csv = client.get(reverse("equality_figures_csv"))
    assert page.status_code == csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    for body in (page.content.decode(), csv.content.decode()):
        assert "Ottoline" not in body
        for person in people:
            assert person.last_name not in body
            assert person.ni_number not in body
    assert "Equality monitoring figures" in page.content.decode()
    assert '"Ethnic group","White","6","0"' in csv.content.decode()

    assert client.get(reverse("equality_answers", args=[people[0].pk])).status_code == 403
    assert client.get(reverse("person_detail", args=[people[0].pk])).status_code == 403
    # Not even a committee grant puts one person's answers before the committee.
    assert not E.objects.visible_to(member).exists()


@pytest.mark.parametrize(
    "role,status",
    [
        (Role.SENIOR_OFFICER, 200),
        (Role.DATA_PROTECTION_LEAD, 200),
        (Role.HOUSING_OFFICER, 403),
        (Role.TENANT, 403),
    ],
)
def test_who_may_see_the_figures(client, db, role, status):
    client.force_login(user_with_role(role))
    assert client.get(reverse("equality_figures")).status_code == status


def test_the_demo_has_answers_for_most_current_tenants(db):
    call_command("seed_demo", homes=20, stdout=io.StringIO())
    tenants = equalities.populations(timezone.localdate())["tenants"]
    answered = E.objects.filter(person_id__in=tenants).count()
    assert len(tenants) >= 12
    assert len(tenants) * 0.7 <= answered < len(tenants)
    assert equalities.equality_figures()["tables"]
