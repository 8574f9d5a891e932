"""A housing officer signs in, finds a tenant, records a contact and sees it on the timeline."""

import pytest

from access.roles import Role
from tests.browser.conftest import shot, sign_in_through_pages
from tests.factories import PatchFactory, UserFactory, tenant_in_patch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_officer_records_a_contact_and_sees_it_on_the_timeline(live_server, page, axe_audit):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")

    sign_in_through_pages(page, live_server.url, "olivia")

    page.get_by_role("link", name="People").first.click()
    page.get_by_label("Search").first.fill("Okonjo")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Grace Okonjo").first.click()
    assert page.url.endswith("/people/%d/" % tenant.pk)

    page.goto(live_server.url + "/people/%d/contacts/new/" % tenant.pk)
    page.get_by_label("Subject").fill("Reported black mould in the back bedroom")
    page.get_by_label("Notes").fill("Mould behind the wardrobe; child has a cough.")
    page.get_by_role("button", name="Save contact record").click()

    body = page.locator("main")
    body.get_by_text("Reported black mould in the back bedroom").first.wait_for()
    shot(page, "housing-officer-timeline.png")
    axe_audit.finish()
    assert tenant.contact_records.filter(subject__startswith="Reported black mould").count() == 1
