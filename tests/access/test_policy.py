"""The Person policy: which people each role sees, with no superuser or global-permission bypass."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from access.models import EmergencyAccess
from access.policy import get_visible_or_404, policy_read_once
from access.roles import Role
from records.models import ContactRecord, Person, SensitiveInformation, StaffRecord, Tenancy
from tests.factories import (
    ContactRecordFactory,
    ContractorContactFactory,
    HousingApplicationFactory,
    JobApplicationFactory,
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
