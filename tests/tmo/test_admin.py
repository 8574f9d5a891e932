import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access.roles import Role, roles_of
from records.models import Person, StaffRecord
from tests.factories import (
    ContactRecordFactory,
    MarkerFactory,
    PatchFactory,
    StaffRecordFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    return user_with_role(Role.SYSTEM_ADMINISTRATOR, username="sysadmin")


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def tenant():
    return tenant_in_patch(PatchFactory(), first_name="Ottoline", last_name="Vasquez-Brennan")


def change_url(obj):
    return reverse(
        "admin:%s_%s_change" % (obj._meta.app_label, obj._meta.model_name), args=[obj.pk]
    )


def user_form_data(user, **overrides):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
    }
    data.update(overrides)
    return data


# Who may use the admin at all


def test_administrator_sees_the_user_list_with_roles(admin_client):
    housing = user_with_role(Role.HOUSING_OFFICER, username="hannah.housing")
    response = admin_client.get(reverse("admin:auth_user_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert housing.username in body
    assert "Housing officer" in body


def test_user_list_queries_do_not_grow_with_users(admin_client, queries_do_not_grow):
    def add(count):
        for _ in range(count):
            user_with_role(Role.REPAIRS_OFFICER)

    queries_do_not_grow(admin_client, reverse("admin:auth_user_changelist"), add)


@pytest.mark.parametrize("role", [Role.DATA_PROTECTION_LEAD, Role.HOUSING_OFFICER])
def test_staff_without_the_administrator_role_cannot_use_the_admin(client, role):
    client.force_login(UserFactory(roles=[role], is_staff=True))
    response = client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_superuser_flag_alone_does_not_open_the_admin(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


# The admin is not a back door into records


def test_person_changelist_is_empty_for_the_administrator(admin_client, tenant):
    response = admin_client.get(reverse("admin:records_person_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Ottoline" not in body
    assert "Vasquez-Brennan" not in body
    assert "0 people" in body


def test_person_change_page_hides_the_person_from_the_administrator(
    admin_client, tenant, access_entries
):
    response = admin_client.get(change_url(tenant), follow=True)
    body = response.content.decode()
    assert response.redirect_chain[0][1] == 302
    assert "Ottoline" not in body
    assert "Vasquez-Brennan" not in body
    assert tenant.ni_number not in body
    assert not access_entries(tenant).exists()


def test_admin_search_does_not_find_people_for_the_administrator(admin_client, tenant):
    response = admin_client.get(reverse("admin:records_person_changelist"), {"q": "Ottoline"})
    assert "Vasquez-Brennan" not in response.content.decode()


def test_staff_record_admin_hides_salary_from_the_administrator(admin_client):
    record = StaffRecordFactory(person__last_name="Salaried", hr_notes="Grievance pending.")
    for url in (reverse("admin:records_staffrecord_changelist"), change_url(record)):
        body = admin_client.get(url, follow=True).content.decode()
        assert "Salaried" not in body
        assert "31,500" not in body and "31500" not in body
        assert "Grievance pending." not in body


def test_record_admins_are_read_only_even_in_scope(client, tenant):
    both = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR, Role.DATA_PROTECTION_LEAD], is_staff=True)
    client.force_login(both)
    response = client.post(change_url(tenant), {"first_name": "Changed", "last_name": "Name"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.first_name == "Ottoline"
    assert client.get(reverse("admin:records_person_add")).status_code == 403
    assert client.get(reverse("admin:records_person_delete", args=[tenant.pk])).status_code in (
        302,
        403,
    )
    assert Person.objects.filter(pk=tenant.pk).exists()


def test_admin_change_page_read_is_audited_once(client, tenant, access_entries):
    both = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR, Role.DATA_PROTECTION_LEAD], is_staff=True)
    client.force_login(both)
    response = client.get(change_url(tenant))
    assert response.status_code == 200
    assert "Vasquez-Brennan" in response.content.decode()
    entries = access_entries(tenant)
    assert entries.count() == 1
    assert entries.get().actor == both


def test_person_admin_follows_the_field_rules(client, tenant):
    """A housing officer who is also an administrator sees in the admin what the staff site
    shows them: no NI number or bank details."""
    both = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR, Role.HOUSING_OFFICER], is_staff=True)
    tenant.household_memberships.get().tenancy.property.patch.officers.add(both)
    client.force_login(both)
    body = client.get(change_url(tenant)).content.decode()
    assert "Vasquez-Brennan" in body
    assert tenant.ni_number not in body
    assert "National Insurance number" not in body


def test_record_changelists_offer_no_filter_listing_people_out_of_scope(client, tenant):
    """A foreign-key list filter would name every person; none is offered."""
    both = UserFactory(roles=[Role.SYSTEM_ADMINISTRATOR, Role.HOUSING_OFFICER], is_staff=True)
    PatchFactory(officers=[both])
    MarkerFactory(person=tenant)
    ContactRecordFactory(person=tenant)
    client.force_login(both)
    for name in ("marker", "householdmember", "contactrecord", "document"):
        response = client.get(reverse("admin:records_%s_changelist" % name))
        assert response.status_code == 200
        assert "Vasquez-Brennan" not in response.content.decode()


# Roles and patches


def test_administrator_can_give_another_user_a_role(admin_client):
    officer = UserFactory(username="new.officer", is_staff=False)
    housing = Group.objects.get(name=Role.HOUSING_OFFICER)
    response = admin_client.post(
        change_url(officer), user_form_data(officer, is_staff="", groups=[housing.pk])
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert Role.HOUSING_OFFICER in roles_of(officer)


def test_administrator_cannot_give_themselves_a_role(admin_client, administrator):
    page = admin_client.get(change_url(administrator)).content.decode()
    assert "You cannot change your own roles" in page
    assert 'name="groups"' not in page

    dpo = Group.objects.get(name=Role.DATA_PROTECTION_LEAD)
    own_group = Group.objects.get(name=Role.SYSTEM_ADMINISTRATOR)
    response = admin_client.post(
        change_url(administrator),
        user_form_data(administrator, groups=[dpo.pk, own_group.pk]),
        follow=True,
    )
    assert "You cannot change your own roles" in response.content.decode()
    administrator.refresh_from_db()
    assert set(administrator.groups.values_list("name", flat=True)) == {Role.SYSTEM_ADMINISTRATOR}


def test_role_groups_cannot_be_renamed_or_deleted(admin_client):
    dpo = Group.objects.get(name=Role.DATA_PROTECTION_LEAD)
    page = admin_client.get(change_url(dpo)).content.decode()
    assert 'name="name"' not in page
    admin_client.post(change_url(dpo), {"name": "renamed"})
    dpo.refresh_from_db()
    assert dpo.name == Role.DATA_PROTECTION_LEAD
    response = admin_client.post(reverse("admin:auth_group_delete", args=[dpo.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Group.objects.filter(name=Role.DATA_PROTECTION_LEAD).exists()


def test_new_group_cannot_take_a_role_name(admin_client):
    response = admin_client.post(
        reverse("admin:auth_group_add"), {"name": Role.DATA_PROTECTION_LEAD}
    )
    assert response.status_code == 200
    assert Group.objects.filter(name=Role.DATA_PROTECTION_LEAD).count() == 1


def test_administrator_assigns_officers_to_a_patch(admin_client):
    patch = PatchFactory(name="Riverside North")
    housing = user_with_role(Role.HOUSING_OFFICER, username="hannah")
    hr = user_with_role(Role.HR_OFFICER, username="harry.hr")
    page = admin_client.get(change_url(patch)).content.decode()
    assert "hannah" in page
    assert "harry.hr" not in page
    response = admin_client.post(
        change_url(patch), {"name": "Riverside North", "officers": [housing.pk]}
    )
    assert response.status_code == 302
    assert list(patch.officers.all()) == [housing]
    # Only housing and repairs officers can be assigned.
    admin_client.post(change_url(patch), {"name": "Riverside North", "officers": [hr.pk]})
    assert list(patch.officers.all()) == [housing]


def test_patch_list_for_the_administrator(admin_client):
    PatchFactory(name="Riverside South", officers=[user_with_role(Role.HOUSING_OFFICER)])
    response = admin_client.get(reverse("admin:records_patch_changelist"))
    assert response.status_code == 200
    assert "Riverside South" in response.content.decode()


def test_staff_record_model_is_still_mapped(admin_client):
    # The admin index lists the register, but every list is empty for the administrator.
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert StaffRecord._meta.verbose_name_plural.capitalize() in response.content.decode()


def test_administrator_resets_a_users_lost_second_factor(admin_client, administrator):
    from auditlog.models import LogEntry
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.models import UserSession

    officer = user_with_role(Role.HOUSING_OFFICER)
    TOTPDevice.objects.create(user=officer, name="Lost phone", confirmed=True)
    UserSession.objects.create(user=officer, session_key="gone-with-the-phone")
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [officer.pk]},
        follow=True,
    )
    assert "will set up a new authenticator app" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not UserSession.objects.filter(user=officer).exists()
    assert LogEntry.objects.filter(
        object_pk=str(officer.pk), additional_data__event="two_factor_reset", actor=administrator
    ).exists()


def test_administrator_cannot_reset_their_own_second_factor(admin_client, administrator):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [administrator.pk]},
        follow=True,
    )
    assert "cannot reset your own two-factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=administrator, confirmed=True).exists()
