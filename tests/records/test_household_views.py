import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records.models import HouseholdMember, Marker, Tenancy
from records.views.households import bedrooms_needed
from tests.factories import (
    ContactRecordFactory,
    HouseholdMemberFactory,
    HousingApplicationFactory,
    MarkerFactory,
    PatchFactory,
    PersonFactory,
    PropertyFactory,
    TenancyFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db
Relationship = HouseholdMember.Relationship


def years_ago(years: int, days: int = 30) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


@pytest.fixture
def household(patch):
    """A current tenancy in the officer's patch: tenant, partner and two children, 2 bedrooms."""
    tenancy = TenancyFactory(
        reference="T-HOME",
        property=PropertyFactory(patch=patch, bedrooms=2, address_line_1="7 Canal Walk"),
        access_notes="Key safe by the front door; dog in the kitchen.",
    )
    tenant = HouseholdMemberFactory(
        tenancy=tenancy, person__first_name="Grace", person__last_name="Adeyemi"
    ).person
    HouseholdMemberFactory(
        tenancy=tenancy,
        relationship=Relationship.PARTNER,
        person__first_name="Samuel",
        person__last_name="Adeyemi",
    )
    HouseholdMemberFactory(
        tenancy=tenancy,
        relationship=Relationship.CHILD,
        person__first_name="Tobi",
        person__last_name="Adeyemi",
        person__date_of_birth=years_ago(12),
    )
    HouseholdMemberFactory(
        tenancy=tenancy,
        relationship=Relationship.CHILD,
        person__first_name="Ayo",
        person__last_name="Adeyemi",
        person__date_of_birth=years_ago(23),
    )
    MarkerFactory(person=tenant, kind=Marker.Kind.STAFF_SAFETY, details="Visit in pairs.")
    return tenancy


@pytest.fixture
def other_household():
    """A tenancy in a patch the officer does not look after."""
    tenancy = TenancyFactory(reference="T-AWAY", property__address_line_1="99 Distant Road")
    HouseholdMemberFactory(
        tenancy=tenancy, person__first_name="Wilhelmina", person__last_name="Farquharson"
    )
    return tenancy


# The tenancy list


def test_housing_officer_lists_only_tenancies_in_their_patch(
    client, officer, household, other_household
):
    partner = household.members.get(relationship=Relationship.PARTNER).person
    MarkerFactory(person=partner, kind=Marker.Kind.SAFE_ADDRESS)
    client.force_login(officer)
    response = client.get(reverse("tenancy_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "T-HOME" in body
    assert "1 other member of the household has warnings." in body
    assert "Grace Adeyemi" in body
    assert "Staff safety warning" in body
    assert "T-AWAY" not in body
    assert "Farquharson" not in body
    assert "99 Distant Road" not in body


def test_tenancy_list_filters_by_status_patch_and_address(client, officer, patch, household):
    former = TenancyFactory(
        reference="T-GONE",
        property=PropertyFactory(patch=patch, address_line_1="1 Old Lane"),
        end_date=datetime.date(2020, 1, 1),
    )
    second_patch = PatchFactory(officers=[officer])
    TenancyFactory(reference="T-ELSE", property=PropertyFactory(patch=second_patch))
    client.force_login(officer)

    body = client.get(reverse("tenancy_list")).content.decode()
    assert "T-HOME" in body and "T-ELSE" in body and "T-GONE" not in body

    body = client.get(reverse("tenancy_list"), {"status": "former"}).content.decode()
    assert "T-GONE" in body and "T-HOME" not in body

    body = client.get(reverse("tenancy_list"), {"patch": second_patch.pk}).content.decode()
    assert "T-ELSE" in body and "T-HOME" not in body

    body = client.get(
        reverse("tenancy_list"), {"q": "canal walk", "status": "all"}
    ).content.decode()
    assert "T-HOME" in body and "T-ELSE" not in body and former.reference not in body


def test_tenancy_list_queries_do_not_grow_with_rows(
    client, patch, signed_in_officer, queries_do_not_grow
):
    def add_tenancies(count):
        for _ in range(count):
            tenancy = TenancyFactory(property__patch=patch)
            tenant = HouseholdMemberFactory(tenancy=tenancy).person
            HouseholdMemberFactory(tenancy=tenancy, relationship=Relationship.CHILD)
            MarkerFactory(person=tenant, kind=Marker.Kind.INTERPRETER)

    response = queries_do_not_grow(client, reverse("tenancy_list"), add_tenancies)
    assert response.status_code == 200
    assert response.content.decode().count("Needs an interpreter") == 20


def test_tenancy_list_paginates_at_25(client, officer, patch):
    for _ in range(27):
        TenancyFactory(property__patch=patch)
    client.force_login(officer)
    row_link = re.compile(r'href="/tenancies/\d+/"')
    first = client.get(reverse("tenancy_list")).content.decode()
    assert len(row_link.findall(first)) == 25
    assert 'rel="next"' in first
    second = client.get(reverse("tenancy_list"), {"page": 2}).content.decode()
    assert len(row_link.findall(second)) == 2
    assert 'rel="prev"' in second


@pytest.mark.parametrize(
    "role", [Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR, Role.HR_OFFICER]
)
def test_roles_without_housing_work_are_refused_the_list(client, household, role, login_as):
    login_as(role)
    response = client.get(reverse("tenancy_list"))
    assert response.status_code == 403
    assert "Adeyemi" not in response.content.decode()


# The household page


def test_household_page_shows_members_ages_markers_and_access_notes(client, officer, household):
    client.force_login(officer)
    response = client.get(reverse("tenancy_detail", args=[household.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("Grace Adeyemi", "Samuel Adeyemi", "Tobi Adeyemi", "Ayo Adeyemi"):
        assert name in body
    assert "Key safe by the front door" in body
    assert "Warnings for this household" in body
    assert "Staff safety warning" in body
    assert "Visit in pairs." in body
    assert '<dd class="govuk-summary-list__value">12</dd>' in body
    assert '<dd class="govuk-summary-list__value">23</dd>' in body
    # Tenant and partner share; the 23-year-old needs a room; the 12-year-old needs one.
    assert "needs at least 3 bedrooms and the home has 2" in body
    member = household.members.get(person__first_name="Tobi")
    assert reverse("person_detail", args=[member.person_id]) in body


def test_household_page_is_audited_once(client, officer, household, access_entries):
    client.force_login(officer)
    client.get(reverse("tenancy_detail", args=[household.pk]))
    entries = access_entries(household)
    assert entries.count() == 1
    assert entries.get().actor == officer


def test_household_page_in_another_patch_is_404_and_names_no_one(
    client, officer, other_household, access_entries
):
    client.force_login(officer)
    response = client.get(reverse("tenancy_detail", args=[other_household.pk]))
    body = response.content.decode()
    assert response.status_code == 404
    assert "Wilhelmina" not in body
    assert "Farquharson" not in body
    assert "99 Distant Road" not in body
    assert not access_entries(other_household).exists()


def test_repairs_officer_sees_the_household_but_no_ages(client, patch, household):
    repairs = user_with_role(Role.REPAIRS_OFFICER)
    patch.officers.add(repairs)
    client.force_login(repairs)
    response = client.get(reverse("tenancy_detail", args=[household.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Tobi Adeyemi" in body
    assert "Key safe by the front door" in body
    assert '<dt class="govuk-summary-list__key">Age</dt>' not in body
    assert '<dd class="govuk-summary-list__value">12</dd>' not in body
    assert "bedrooms and the home has" not in body
    assert "bedroom standard" not in body
    # Children are still flagged, from their relationship alone.
    assert ">Child</strong>" in body


def test_repairs_officer_gets_404_for_a_former_tenancy(client, patch):
    repairs = user_with_role(Role.REPAIRS_OFFICER)
    patch.officers.add(repairs)
    former = TenancyFactory(property__patch=patch, end_date=datetime.date(2019, 3, 31))
    HouseholdMemberFactory(tenancy=former, person__last_name="Longgone")
    client.force_login(repairs)
    response = client.get(reverse("tenancy_detail", args=[former.pk]))
    assert response.status_code == 404
    assert "Longgone" not in response.content.decode()


def test_household_page_lists_recent_contact_for_the_tenancy(client, officer, household):
    tenant = household.members.get(relationship=Relationship.TENANT).person
    ContactRecordFactory(person=tenant, tenancy=household, subject="Damp in back bedroom")
    ContactRecordFactory(person=tenant, subject="Unrelated call")
    client.force_login(officer)
    body = client.get(reverse("tenancy_detail", args=[household.pk])).content.decode()
    assert "Damp in back bedroom" in body
    assert "Unrelated call" not in body


def test_household_page_does_not_list_former_members_as_living_there(client, officer, household):
    HouseholdMemberFactory(
        tenancy=household,
        relationship=Relationship.LODGER,
        person__first_name="Former",
        person__last_name="Lodger",
        end_date=datetime.date(2021, 6, 30),
    )
    client.force_login(officer)
    body = client.get(reverse("tenancy_detail", args=[household.pk])).content.decode()
    assert "People who used to live here" in body
    assert "Former Lodger" in body
    # The former lodger does not count towards the bedrooms needed.
    assert "needs at least 3 bedrooms" in body


# The bedroom standard


def member(relationship, age=None):
    dob = years_ago(age) if age is not None else None
    return HouseholdMember(relationship=relationship, person=PersonFactory.build(date_of_birth=dob))


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        ([(Relationship.TENANT, 40)], (1, 0)),
        ([(Relationship.TENANT, 40), (Relationship.PARTNER, 38)], (1, 0)),
        ([(Relationship.TENANT, 40), (Relationship.JOINT_TENANT, 41)], (1, 0)),
        # Two under-10s share.
        ([(Relationship.TENANT, 30), (Relationship.CHILD, 3), (Relationship.CHILD, 6)], (2, 0)),
        # A 10 to 20 year old pairs with an under-10 when no other teenager is there.
        ([(Relationship.TENANT, 30), (Relationship.CHILD, 14), (Relationship.CHILD, 6)], (2, 0)),
        # Three teenagers: a pair, and one alone.
        (
            [(Relationship.TENANT, 45)] + [(Relationship.CHILD, age) for age in (12, 15, 17)],
            (3, 0),
        ),
        # Adults of 21 or over, lodgers and carers each need a room.
        (
            [
                (Relationship.TENANT, 60),
                (Relationship.CHILD, 25),
                (Relationship.LODGER, 19),
                (Relationship.CARER, 50),
            ],
            (4, 0),
        ),
        # A child with no date of birth is counted as under 10 and reported.
        ([(Relationship.TENANT, 30), (Relationship.CHILD, None)], (2, 1)),
    ],
)
def test_bedrooms_needed(people, expected):
    members = [member(relationship, age) for relationship, age in people]
    assert bedrooms_needed(members, timezone.localdate()) == expected


# Adding someone to the household


def test_add_member_search_lists_only_people_the_officer_may_see(
    client, officer, patch, household, other_household
):
    neighbour = HouseholdMemberFactory(
        tenancy__property__patch=patch, person__first_name="Nadia", person__last_name="Quill"
    ).person
    HouseholdMemberFactory(person__first_name="Nadia", person__last_name="Quillfar")
    client.force_login(officer)
    response = client.get(reverse("household_member_add", args=[household.pk]), {"q": "Nadia"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nadia Quill" in body
    assert 'value="%s"' % neighbour.pk in body
    assert "Quillfar" not in body


def test_add_member_adds_a_visible_person(client, officer, household):
    baby = PersonFactory(first_name="Kemi", last_name="Adeyemi", date_of_birth=years_ago(0, 60))
    HousingApplicationFactory(person=baby, assigned_officer=officer)
    client.force_login(officer)
    today = timezone.localdate()
    response = client.post(
        reverse("household_member_add", args=[household.pk]),
        {
            "q": "Kemi",
            "person": baby.pk,
            "relationship": Relationship.CHILD,
            "start_date_day": today.day,
            "start_date_month": today.month,
            "start_date_year": today.year,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tenancy_detail", args=[household.pk])
    added = household.members.get(person=baby)
    assert added.relationship == Relationship.CHILD
    assert added.start_date == today


def test_add_member_refuses_a_person_outside_the_officers_scope(
    client, officer, household, other_household
):
    stranger = other_household.members.get().person
    client.force_login(officer)
    response = client.post(
        reverse("household_member_add", args=[household.pk]),
        {
            "person": stranger.pk,
            "relationship": Relationship.LODGER,
            "start_date_day": "1",
            "start_date_month": "2",
            "start_date_year": "2024",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "Select a person from the search results" in body
    assert "Farquharson" not in body
    assert not household.members.filter(person=stranger).exists()


def test_add_member_shows_errors_and_saves_nothing_on_bad_input(client, officer, household):
    person = PersonFactory()
    HousingApplicationFactory(person=person, assigned_officer=officer)
    client.force_login(officer)
    before = HouseholdMember.objects.count()
    response = client.post(
        reverse("household_member_add", args=[household.pk]),
        {
            "person": person.pk,
            "start_date_day": "31",
            "start_date_month": "2",
            "start_date_year": "2024",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in body
    assert "Select how the person is related to the tenant" in body
    assert "Date they joined the household must be a real date" in body
    assert 'href="#id_relationship"' in body
    assert 'href="#id_start_date"' in body
    assert HouseholdMember.objects.count() == before


def test_add_member_reports_someone_already_in_the_household(client, officer, household):
    existing = household.members.get(relationship=Relationship.PARTNER).person
    client.force_login(officer)
    before = HouseholdMember.objects.count()
    response = client.post(
        reverse("household_member_add", args=[household.pk]),
        {
            "person": existing.pk,
            "relationship": Relationship.PARTNER,
            "start_date_day": "1",
            "start_date_month": "1",
            "start_date_year": "2020",
        },
    )
    assert response.status_code == 200
    assert "Samuel Adeyemi is already in this household." in response.content.decode()
    assert HouseholdMember.objects.count() == before


def test_add_member_to_a_tenancy_outside_scope_is_404(client, officer, other_household):
    client.force_login(officer)
    response = client.get(reverse("household_member_add", args=[other_household.pk]))
    assert response.status_code == 404


# The property page


def test_property_page_shows_facts_and_visible_tenancies(client, officer, household):
    home = household.property
    TenancyFactory(property=home, reference="T-EARLIER", end_date=datetime.date(2014, 12, 31))
    client.force_login(officer)
    body = client.get(reverse("property_detail", args=[home.pk])).content.decode()
    assert "7 Canal Walk" in body
    assert "T-HOME" in body and "T-EARLIER" in body
    assert "Grace Adeyemi" in body


def test_property_page_shows_no_household_to_hr(client, household, login_as):
    login_as(Role.HR_OFFICER)
    response = client.get(reverse("property_detail", args=[household.property.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "7 Canal Walk" in body
    assert "Adeyemi" not in body
    assert "T-HOME" not in body


def test_property_page_is_refused_to_the_committee(client, household, login_as):
    login_as(Role.COMMITTEE_MEMBER)
    response = client.get(reverse("property_detail", args=[household.property.pk]))
    assert response.status_code == 403


def test_tenancy_of_another_patch_is_not_on_the_property_page(client, officer, other_household):
    client.force_login(officer)
    body = client.get(
        reverse("property_detail", args=[other_household.property.pk])
    ).content.decode()
    assert "Farquharson" not in body
    assert Tenancy.objects.visible_to(officer).count() == 0
