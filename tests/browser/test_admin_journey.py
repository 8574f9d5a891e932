"""The system administrator signs in with their second factor, opens the administration site,
lists the users, gives an officer the housing officer role through the role picker, and looks
at the roles list; every page is checked with axe-core on the way."""

import pytest
from django.contrib.auth.models import User

from access.roles import Role
from tests.browser.conftest import shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_administrator_lists_users_and_gives_a_role(live_server, sign_in, axe_audit):
    UserFactory(username="ada", roles=[Role.SYSTEM_ADMINISTRATOR], is_staff=True)
    newcomer = UserFactory(username="omar", first_name="Omar", last_name="Newcomer")

    admin = sign_in("ada")
    admin.goto(live_server.url + "/admin/")
    admin.get_by_role("heading", name="Users, roles and settings").wait_for()
    shot(admin, "admin-index.png")

    admin.get_by_role("link", name="Users").first.click()
    admin.get_by_role("link", name="omar").wait_for()
    shot(admin, "admin-users.png")

    admin.get_by_role("link", name="omar").click()
    admin.get_by_role("heading", name="omar").wait_for()
    # The role picker: choose the housing officer role from those available.
    admin.locator("select#id_groups_from").select_option(label=Role.HOUSING_OFFICER.value)
    admin.get_by_role("button", name="Choose selected groups").click()
    assert admin.locator("select#id_groups_to option").all_text_contents() == [
        Role.HOUSING_OFFICER.value
    ]
    shot(admin, "admin-user-change.png")
    admin.get_by_role("button", name="Save", exact=True).click()
    admin.locator(".messagelist").get_by_text("was changed successfully").wait_for()
    shot(admin, "admin-user-saved.png")

    admin.get_by_role("link", name="Groups").first.click()
    admin.get_by_role("link", name=Role.HOUSING_OFFICER.value).first.wait_for()

    axe_audit.finish()
    roles = User.objects.get(pk=newcomer.pk).groups.values_list("name", flat=True)
    assert list(roles) == [Role.HOUSING_OFFICER.value]
