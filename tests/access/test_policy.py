"""The Person policy: which people each role sees, with no superuser or global-permission bypass."""

import contextlib
import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from access.models import CommitteeGrantItem, EmergencyAccess
from access.policy import (
    about_one_person,
    get_visible_or_404,
    policy_read_once,
    row_by_row,
    without_emergency_access,
)
from access.roles import Role
from records.models import ContactRecord, Person, SensitiveInformation, StaffRecord, Tenancy
from tests.factories import (
    ContactRecordFactory,
    ContractorContactFactory,
    EmergencyAccessFactory,
    HousingApplicationFactory,
    JobApplicationFactory,
    LiveCommitteeGrantFactory,
    PatchFactory,
    PersonFactory,
    SensitiveInformationFactory,
    StaffRecordFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(patch_and_officer):
    patch, officer = patch_and_officer
    other_patch = PatchFactory()
    return {
        "patch": patch,
        "officer": officer,
        "own": tenant_in_patch(patch),
        "other": tenant_in_patch(other_patch),
        "unassigned": PersonFactory(),
        "staff": StaffRecordFactory().person,
        "job_applicant": JobApplicationFactory().person,
        "contractor_contact": ContractorContactFactory().person,
    }


def visible(user):
    return set(Person.objects.visible_to(user))


def test_housing_officer_sees_own_patch_only(world):
    assert visible(world["officer"]) == {world["own"]}


def test_housing_officer_sees_assigned_applicants(world):
    applicant = HousingApplicationFactory(assigned_officer=world["officer"]).person
    HousingApplicationFactory()  # someone else's
    assert visible(world["officer"]) == {world["own"], applicant}


def test_object_grant_adds_exactly_that_person(world):
    assign_perm("records.view_person", world["officer"], world["unassigned"])
    assert visible(world["officer"]) == {world["own"], world["unassigned"]}


def test_repairs_officer_sees_current_tenants_of_patch(world):
    repairs = user_with_role(Role.REPAIRS_OFFICER)
    world["patch"].officers.add(repairs)
    former = tenant_in_patch(world["patch"])
    Tenancy.objects.filter(members__person=former).update(end_date="2020-01-01")
    assert visible(repairs) == {world["own"]}


def test_finance_sees_all_tenants_but_not_hr_or_contractors(world):
    assert visible(user_with_role(Role.FINANCE_OFFICER)) == {world["own"], world["other"]}


def test_hr_sees_only_staff_and_job_applicants(world):
    assert visible(user_with_role(Role.HR_OFFICER)) == {world["staff"], world["job_applicant"]}


def test_contracts_sees_only_contractor_contacts(world):
    assert visible(user_with_role(Role.CONTRACTS_OFFICER)) == {world["contractor_contact"]}


def test_senior_officer_sees_residents_not_hr(world):
    assert visible(user_with_role(Role.SENIOR_OFFICER)) == {world["own"], world["other"]}


def test_data_protection_lead_sees_everyone(world):
    assert visible(user_with_role(Role.DATA_PROTECTION_LEAD)) == set(Person.objects.all())


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR, Role.TENANT])
def test_no_record_roles_see_nothing(world, role):
    user = user_with_role(role)
    assert visible(user) == set()
    assert not ContactRecord.objects.visible_to(user).exists()
    assert not Tenancy.objects.visible_to(user).exists()


def test_superuser_gets_no_bypass(world):
    boss = UserFactory(is_superuser=True, is_staff=True)
    assert visible(boss) == set()
    assert not StaffRecord.objects.visible_to(boss).exists()


def test_model_wide_permission_grants_nothing(world):
    user = user_with_role(Role.COMMITTEE_MEMBER)
    user.user_permissions.add(Permission.objects.get(codename="view_person"))
    assert visible(user) == set()


def test_inactive_and_anonymous_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    world["officer"].is_active = False
    assert visible(world["officer"]) == set()
    assert visible(AnonymousUser()) == set()


def test_group_object_grant_applies_to_members(world):
    committee = user_with_role(Role.COMMITTEE_MEMBER)
    assign_perm("records.view_person", Group.objects.get(name=Role.COMMITTEE_MEMBER), world["own"])
    assert visible(committee) == {world["own"]}


def test_object_twin_is_404_outside_scope(world):
    officer = world["officer"]
    assert get_visible_or_404(Person, officer, pk=world["own"].pk) == world["own"]
    with pytest.raises(Http404):
        get_visible_or_404(Person, officer, pk=world["other"].pk)
    with pytest.raises(Http404):
        get_visible_or_404(Person, officer, pk=999999)


def test_linked_rows_follow_the_person(world):
    mine = ContactRecordFactory(person=world["own"])
    ContactRecordFactory(person=world["other"])
    assert list(ContactRecord.objects.visible_to(world["officer"])) == [mine]


def test_sensitive_information_only_for_roles_that_need_it(world):
    SensitiveInformationFactory(person=world["own"])
    finance = user_with_role(Role.FINANCE_OFFICER)
    assert Person.objects.visible_to(finance).filter(pk=world["own"].pk).exists()
    assert not SensitiveInformation.objects.visible_to(finance).exists()
    assert SensitiveInformation.objects.visible_to(world["officer"]).count() == 1


def test_within_a_request_grants_are_read_once_for_every_model(world, django_assert_num_queries):
    """Grants read once per request (policy_read_once) rather than built into every query as
    subqueries: the second and later models cost no extra query for them."""
    officer = world["officer"]
    ContactRecordFactory(person=world["own"])
    with policy_read_once():
        list(Person.objects.visible_to(officer))  # warms roles, compliance and the grants
        with django_assert_num_queries(1):
            assert set(
                ContactRecord.objects.visible_to(officer).values_list("person", flat=True)
            ) == {world["own"].pk}


def test_within_a_request_a_grant_made_or_removed_is_seen_at_once(world):
    """What was read once is read afresh after any write that could change it, so a page that
    grants and then lists (or revokes and then lists) never shows the old scope."""
    officer, unassigned = world["officer"], world["unassigned"]
    with policy_read_once():
        assert visible(officer) == {world["own"]}
        assign_perm("records.view_person", officer, unassigned)
        assert visible(officer) == {world["own"], unassigned}
        EmergencyAccess.objects.create(
            user=officer,
            content_type=ContentType.objects.get_for_model(Person),
            object_id=world["other"].pk,
            reason="Police at the door asking for the next of kin",
            expires_at=timezone.now() + datetime.timedelta(hours=1),
        )
        assert visible(officer) == {world["own"], unassigned, world["other"]}
        remove_perm("records.view_person", officer, unassigned)
        assert visible(officer) == {world["own"], world["other"]}


def test_outside_a_request_grants_are_read_at_every_call(world):
    officer = world["officer"]
    assert visible(officer) == {world["own"]}
    access = EmergencyAccess.objects.create(
        user=officer,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=world["other"].pk,
        reason="Police at the door asking for the next of kin",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert visible(officer) == {world["own"], world["other"]}
    EmergencyAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now())
    assert visible(officer) == {world["own"]}


def test_a_person_reached_two_ways_is_listed_once(world):
    officer, own = world["officer"], world["own"]
    HousingApplicationFactory(person=own, assigned_officer=officer)
    assert list(Person.objects.visible_to(officer)) == [own]
    assert list(Person.objects.visible_to(officer).search(own.last_name)) == [own]


def test_a_roles_sources_of_people_are_one_union_in_a_list_and_checked_by_row_for_one(world):
    """The shape PostgreSQL can join to a search: with an OR of two IN subqueries it read every
    person on the register to find the few a search matched (docs/benchmarks.md)."""
    officer = world["officer"]
    listed = str(Person.objects.visible_to(officer).query)
    assert listed.count('"records_person"."id" IN (') == 1
    assert "UNION ALL" in listed and " OR " not in listed
    # The officer's patches come from the officers table, not a join through the patch table.
    assert 'JOIN "records_patch" ' not in listed
    with row_by_row():
        one = str(Person.objects.visible_to(officer).query)
    assert one.count("EXISTS") == 2 and "UNION" not in one


# --- one person's linked rows (the person page) ---------------------------------------------------


def committee_grant(member, person):
    grant = LiveCommitteeGrantFactory()
    grant.members.add(member)
    CommitteeGrantItem.objects.create(
        request=grant,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=person.pk,
    )
    return grant


@pytest.mark.parametrize("read_once", [True, False], ids=["in a request", "outside one"])
def test_about_one_person_lists_that_persons_rows_and_no_one_elses(world, read_once):
    officer, own = world["officer"], world["own"]
    neighbour = tenant_in_patch(world["patch"])
    mine = ContactRecordFactory(person=own)
    ContactRecordFactory(person=neighbour)
    ContactRecordFactory(person=world["other"])
    with policy_read_once() if read_once else contextlib.nullcontext():
        fetched = get_visible_or_404(Person, officer, pk=own.pk)
        with about_one_person(fetched):
            # Not filtered by person on purpose: the scope alone must leave the others out.
            assert list(ContactRecord.objects.visible_to(officer)) == [mine]
        # A person handed in without the policy's fetch is asked about in the database.
        with about_one_person(Person.objects.get(pk=world["other"].pk)):
            assert not ContactRecord.objects.visible_to(officer).exists()
        with about_one_person(Person.objects.get(pk=neighbour.pk)):
            assert ContactRecord.objects.visible_to(officer).get().person == neighbour


def test_about_one_person_fetched_for_someone_else_is_asked_again(world):
    """The fetch vouches only for the user it was made for."""
    own = world["own"]
    ContactRecordFactory(person=own)
    stranger = user_with_role(Role.HOUSING_OFFICER)
    with policy_read_once():
        fetched = get_visible_or_404(Person, world["officer"], pk=own.pk)
        with about_one_person(fetched):
            assert not ContactRecord.objects.visible_to(stranger).exists()


def test_about_one_person_seen_by_committee_grant_shows_none_of_their_rows(world):
    """A committee grant names the person alone: fetched through it, the person's linked rows stay
    out of reach, as they do in every list."""
    own = world["own"]
    ContactRecordFactory(person=own)
    member = user_with_role(Role.COMMITTEE_MEMBER)
    committee_grant(member, own)
    with policy_read_once():
        fetched = get_visible_or_404(Person, member, pk=own.pk)
        with about_one_person(fetched):
            assert not ContactRecord.objects.visible_to(member).exists()
    assert not ContactRecord.objects.visible_to(member).exists()


def test_about_one_person_opened_in_an_emergency_follows_the_emergency_access(world):
    other = world["other"]
    record = ContactRecordFactory(person=other)
    officer = world["officer"]
    EmergencyAccessFactory(user=officer, target=other)
    with policy_read_once():
        fetched = get_visible_or_404(Person, officer, pk=other.pk)
        with about_one_person(fetched):
            assert list(ContactRecord.objects.visible_to(officer)) == [record]
            with without_emergency_access():
                assert not ContactRecord.objects.visible_to(officer).exists()


def test_the_first_policy_of_a_request_reads_every_kind_of_grant_in_one_query(
    world, django_assert_num_queries
):
    officer = world["officer"]
    assign_perm("records.view_person", officer, world["unassigned"])
    EmergencyAccessFactory(user=officer, target=world["other"])
    everyone = {world["own"], world["unassigned"], world["other"]}
    assert visible(officer) == everyone  # outside a request; warms the roles and compliance
    with policy_read_once():
        with django_assert_num_queries(2):  # the grants, then the people
            assert visible(officer) == everyone
        with django_assert_num_queries(1):
            assert visible(officer) == everyone
