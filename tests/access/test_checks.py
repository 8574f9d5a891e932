import pytest
from django.contrib.auth.models import Group, Permission

from access.checks import no_model_wide_view_for_committee_or_admin
from access.roles import Role

pytestmark = pytest.mark.django_db


def test_clean_groups_pass():
    assert no_model_wide_view_for_committee_or_admin(None) == []


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR])
def test_model_wide_view_on_personal_model_fails(role):
    Group.objects.get(name=role).permissions.add(
        Permission.objects.get(codename="view_contactrecord")
    )
    errors = no_model_wide_view_for_committee_or_admin(None)
    assert [e.id for e in errors] == ["access.E001"]
    assert "records.ContactRecord" in errors[0].msg


def test_model_wide_view_on_non_personal_model_is_allowed():
    Group.objects.get(name=Role.COMMITTEE_MEMBER).permissions.add(
        Permission.objects.get(codename="view_property")
    )
    assert no_model_wide_view_for_committee_or_admin(None) == []
