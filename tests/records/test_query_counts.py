"""The register's list and detail pages run a fixed number of queries, however many rows they
show (see tests/query_counts.py)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.urls import reverse

from access.roles import Role
from records.models import Document, HouseholdMember, Marker
from tests.factories import (
    AuthorisedRepresentativeFactory,
    ContactRecordFactory,
    ContractorBidFactory,
    ContractorContactFactory,
    ContractorFactory,
    HouseholdMemberFactory,
    JobApplicationFactory,
    MarkerFactory,
    PersonFactory,
    PropertyFactory,
    SensitiveInformationFactory,
    StaffRecordFactory,
    TenancyFactory,
    tenant_in_patch,
    user_with_role,
)
from tests.query_counts import assert_constant_queries

pytestmark = pytest.mark.django_db

counter = itertools.count()


def add_document(person, contact=None, **kwargs):
    return Document.objects.create(
        person=person,
        contact_record=contact,
        title="Letter %d" % next(counter),
        original_filename="letter.pdf",
        content_type="application/pdf",
        size=10,
        **kwargs,
    )


def test_person_search(client, patch, signed_in_officer, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            person = tenant_in_patch(patch, first_name="Quillon")
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)

    _, response = assert_constant_queries(
        client, reverse("person_search"), add, django_assert_num_queries, data={"q": "quillon"}
    )
    body = response.content.decode()
    assert "25 people found" in body
    assert body.count("Needs an interpreter") == 25
    assert_undecrypted(response.context["page"].object_list)


def assert_undecrypted(people, shown=()):
    """A list leaves unread (and so undecrypted) the encrypted details it does not show."""
    from records.models import Person
    from tmo.fields import encrypted_fields

    unshown = {f.attname for f in encrypted_fields(Person)} - set(shown)
    for person in people:
        assert unshown <= person.get_deferred_fields()
        for marker in person.markers.all():
            assert "details" in marker.get_deferred_fields()


def test_reconfirmation_list(client, patch, signed_in_officer, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            person = tenant_in_patch(patch, email_confirmed_on=datetime.date(2000, 1, 1))
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)

    _, response = assert_constant_queries(
        client, reverse("reconfirmation_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("Needs an interpreter") == 25
    assert_undecrypted(
        response.context["page"].object_list, shown=("email", "phone", "correspondence_address")
    )


@pytest.mark.parametrize("role", [Role.HOUSING_OFFICER, Role.DATA_PROTECTION_LEAD])
def test_person_detail(client, patch, officer, role, login_as, django_assert_num_queries):
    person = tenant_in_patch(patch)
    if role == Role.HOUSING_OFFICER:
        client.force_login(officer)
    else:
        login_as(role)
    tenancy = person.household_memberships.get().tenancy

    def add(n):
        for _ in range(n):
            contact = ContactRecordFactory(person=person, tenancy=tenancy, recorded_by=officer)
            add_document(person, contact, uploaded_by=officer)
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)
            SensitiveInformationFactory(person=person, recorded_by=officer)
            AuthorisedRepresentativeFactory(person=person)
            HouseholdMemberFactory(
                person=person, tenancy=TenancyFactory(property__patch=patch), end_date=None
            )

    _, response = assert_constant_queries(
        client, reverse("person_detail", args=[person.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Letter ") >= 25


def test_person_timeline(client, patch, signed_in_officer, django_assert_num_queries):
    person = tenant_in_patch(patch)

    def add(n):
        for _ in range(n):
            contact = ContactRecordFactory(person=person, recorded_by=signed_in_officer)
            add_document(person, contact, uploaded_by=signed_in_officer)

    _, response = assert_constant_queries(
        client, reverse("person_timeline", args=[person.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Reported a leaking tap") == 25


def test_contact_record_detail(client, patch, signed_in_officer, django_assert_num_queries):
    person = tenant_in_patch(patch)
    contact = ContactRecordFactory(person=person, recorded_by=signed_in_officer)

    def add(n):
        for _ in range(n):
            add_document(person, contact, uploaded_by=signed_in_officer)
            MarkerFactory(person=person)

    _, response = assert_constant_queries(
        client, reverse("contact_record_detail", args=[contact.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Letter ") == 25


def test_tenancy_list(client, patch, signed_in_officer, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            tenancy = TenancyFactory(property__patch=patch)
            tenant = HouseholdMemberFactory(tenancy=tenancy).person
            HouseholdMemberFactory(tenancy=tenancy, relationship=HouseholdMember.Relationship.CHILD)
            MarkerFactory(person=tenant, kind=Marker.Kind.INTERPRETER)

    _, response = assert_constant_queries(
        client, reverse("tenancy_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("Needs an interpreter") == 25
    assert_undecrypted(
        member.person for tenancy in response.context["page_obj"] for member in tenancy.household
    )


def test_tenancy_detail(client, patch, signed_in_officer, django_assert_num_queries):
    tenancy = TenancyFactory(property__patch=patch)
    HouseholdMemberFactory(tenancy=tenancy)

    def add(n):
        for _ in range(n):
            member = HouseholdMemberFactory(
                tenancy=tenancy, relationship=HouseholdMember.Relationship.CHILD
            )
            MarkerFactory(person=member.person, kind=Marker.Kind.INTERPRETER)
            ContactRecordFactory(person=member.person, tenancy=tenancy)

    _, response = assert_constant_queries(
        client, reverse("tenancy_detail", args=[tenancy.pk]), add, django_assert_num_queries
    )
    assert "Needs an interpreter" in response.content.decode()


def test_property_detail(client, patch, signed_in_officer, django_assert_num_queries):
    home = PropertyFactory(patch=patch)

    def add(n):
        for _ in range(n):
            tenancy = TenancyFactory(property=home, end_date=datetime.date(2020, 1, 1))
            member = HouseholdMemberFactory(tenancy=tenancy)
            MarkerFactory(person=member.person, kind=Marker.Kind.INTERPRETER)

    assert_constant_queries(
        client, reverse("property_detail", args=[home.pk]), add, django_assert_num_queries
    )


def test_hr_home(client, login_as, django_assert_num_queries):
    login_as(Role.HR_OFFICER)

    def add(n):
        for _ in range(n):
            MarkerFactory(person=StaffRecordFactory().person)
            MarkerFactory(person=JobApplicationFactory().person)

    _, response = assert_constant_queries(
        client, reverse("hr_home"), add, django_assert_num_queries
    )
    staff = list(response.context["staff_page"])
    applications = list(response.context["applications_page"])
    assert len(staff) == len(applications) == 25
    assert_undecrypted(row.person for row in staff + applications)
    assert all({"salary", "hr_notes"} <= row.get_deferred_fields() for row in staff)
    assert all("interview_notes" in row.get_deferred_fields() for row in applications)


@pytest.mark.parametrize("factory", [StaffRecordFactory, JobApplicationFactory])
def test_hr_record_detail(client, login_as, factory, django_assert_num_queries):
    login_as(Role.HR_OFFICER)
    record = factory()
    name = "staff_record_detail" if factory is StaffRecordFactory else "job_application_detail"

    def add(n):
        for _ in range(n):
            MarkerFactory(person=record.person)

    assert_constant_queries(client, reverse(name, args=[record.pk]), add, django_assert_num_queries)


def test_contractor_list(client, login_as, django_assert_num_queries):
    login_as(Role.CONTRACTS_OFFICER)

    def add(n):
        for _ in range(n):
            contractor = ContractorFactory()
            ContractorBidFactory(contractor=contractor)
            ContractorContactFactory(contractor=contractor)

    assert_constant_queries(client, reverse("contractor_list"), add, django_assert_num_queries)


def test_contractor_detail(client, login_as, django_assert_num_queries):
    login_as(Role.CONTRACTS_OFFICER)
    contractor = ContractorFactory()

    def add(n):
        for _ in range(n):
            contact = ContractorContactFactory(contractor=contractor)
            MarkerFactory(person=contact.person)
            ContractorBidFactory(contractor=contractor)

    _, response = assert_constant_queries(
        client, reverse("contractor_detail", args=[contractor.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Kitchen replacements 2027") >= 25


@pytest.mark.parametrize(
    "role", [Role.HOUSING_OFFICER, Role.REPAIRS_OFFICER, Role.FINANCE_OFFICER, Role.HR_OFFICER]
)
def test_linked_rows_checked_row_by_row_are_those_of_people_in_scope(patch, role):
    """Linked records' scope is written as a per-row EXISTS (access.policy.row_by_row) for
    speed; it must pick the same rows as the plain "person in the person's scope" rule."""
    from records.models import ContactRecord, Person

    user = user_with_role(role)
    patch.officers.add(user)
    former = TenancyFactory(property__patch=patch, end_date=datetime.date(2020, 1, 1))
    people = [
        tenant_in_patch(patch),
        HouseholdMemberFactory(tenancy=former).person,
        tenant_in_patch(PropertyFactory().patch),
        StaffRecordFactory().person,
    ]
    for person in people:
        ContactRecordFactory(person=person)

    in_scope = set(Person.objects.in_scope(user).values_list("pk", flat=True))
    expected = set(ContactRecord.objects.filter(person__in=in_scope).values_list("pk", flat=True))
    assert set(ContactRecord.objects.visible_to(user).values_list("pk", flat=True)) == expected
    assert expected  # each role reaches somebody here


def _search_by_joining_every_household(term):
    """The search as it was first written (one join of people to all their households), kept
    here as the reference the faster query must agree with."""
    from django.db.models import Q

    from records.models import Person, Property
    from records.policies import COMPACT_POSTCODE

    term = " ".join(COMPACT_POSTCODE.sub(r"\1 \2", word) for word in term.split())
    query = Q()
    for word in term.split():
        query &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(
                household_memberships__tenancy__property__in=Property.objects.filter(
                    Q(address_line_1__icontains=word)
                    | Q(address_line_2__icontains=word)
                    | Q(postcode__icontains=word)
                )
            )
        )
    return set(Person.objects.filter(query).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "term",
    [
        "ada",
        "canal",
        "ada canal",
        "canal wharf",
        "12 canal",
        "lovelace wharf",
        "ada lovelace canal",
        "se1",
        "se10ab",
        "SE1 0AB",
        "weaver ada",
        "nobody",
    ],
)
def test_the_search_finds_what_joining_every_household_found(term):
    """One home must hold every address word a name does not: "canal wharf" finds the tenant of
    12 Canal Street, Wharf Lane, not someone who once lived on Canal Street and now on Wharf
    Road."""
    from records.models import Person

    first = PropertyFactory(address_line_1="12 Canal Street", address_line_2="", postcode="SE1 0AB")
    second = PropertyFactory(address_line_1="3 Wharf Road", address_line_2="", postcode="N1 9XX")
    both = PropertyFactory(address_line_1="7 Canal Street", address_line_2="Wharf Lane")
    moved = PersonFactory(first_name="Ada", last_name="Lovelace")
    HouseholdMemberFactory(person=moved, tenancy=TenancyFactory(property=first, end_date=None))
    HouseholdMemberFactory(person=moved, tenancy=TenancyFactory(property=second))
    HouseholdMemberFactory(tenancy=TenancyFactory(property=both))
    HouseholdMemberFactory(
        person=PersonFactory(first_name="Weaver", last_name="Ada"),
        tenancy=TenancyFactory(property=second),
    )
    PersonFactory(first_name="Canal", last_name="Homeless")

    found = set(Person.objects.all().search(term).values_list("pk", flat=True))
    assert found == _search_by_joining_every_household(term)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only"
)
def test_people_search_reads_names_through_the_trigram_indexes(db):
    """At a housing body's scale the search must not test every person: the name part of the
    query is answered from the trigram indexes of records migration 0006."""
    from records.models import Person

    sql, params = Person.objects.search("Abdi").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "person_last_name_trgm" in plan
