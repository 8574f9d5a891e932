import pytest
from django.core.management import CommandError, call_command

from access.roles import Role, roles_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grants_the_role_and_admin_site_access():
    user = UserFactory(username="alex")
    call_command("grant_role", "alex", Role.SYSTEM_ADMINISTRATOR)
    user.refresh_from_db()
    assert roles_of(user) == {Role.SYSTEM_ADMINISTRATOR}
    assert user.is_staff


def test_unknown_user_is_a_clear_error():
    with pytest.raises(CommandError, match="no user called 'nobody'"):
        call_command("grant_role", "nobody", Role.HOUSING_OFFICER)


def test_unknown_role_is_refused():
    UserFactory(username="alex")
    with pytest.raises(CommandError):
        call_command("grant_role", "alex", "overlord")
