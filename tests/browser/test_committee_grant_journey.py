"""An officer asks for committee access to a tenant's record, a senior officer approves it, the
committee member reads the papers, and after revocation sees nothing."""

import pytest

from access.roles import Role
from tests.browser.conftest import PASSWORD, shot
from tests.factories import PatchFactory, UserFactory, tenant_in_patch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_officer_asks_senior_approves_member_reads_then_loses_the_papers(
    live_server, sign_in, axe_audit
):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    UserFactory(username="sam", first_name="Sam", last_name="Senior", roles=[Role.SENIOR_OFFICER])
    UserFactory(
        username="cara", first_name="Cara", last_name="Member", roles=[Role.COMMITTEE_MEMBER]
    )
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")
    tenant_in_patch(patch, first_name="Nadia", last_name="Neighbour")

    # The officer asks for access to the tenant's record for one decision.
    page = sign_in("olivia")
    page.goto(live_server.url + "/access/committee/")
    page.get_by_role("link", name="Ask for committee access").click()
    page.get_by_label("Decision or agenda item").fill("Item 4: management transfer request")
    page.get_by_label("Why the committee needs these records").fill(
        "The committee decides management transfers and needs to know who is asking."
    )
    page.get_by_label("Kind of record").select_option("records.person")
    page.get_by_label("Record number").fill(str(tenant.pk))
    page.get_by_role("button", name="Add this record").click()
    page.get_by_role("button", name="Remove Grace Okonjo").wait_for()
    page.get_by_label("Cara Member").check()
    shot(page, "committee-grant-request.png")
    page.get_by_role("button", name="Send the request", exact=True).last.click()
    page.get_by_text("Your request has been sent").wait_for()

    # A senior officer approves it, re-entering their password.
    senior = sign_in("sam")
    senior.goto(live_server.url + "/access/committee/")
    senior.get_by_role("link", name="Item 4: management transfer request").first.click()
    senior.get_by_role("link", name="Decide this request").click()
    senior.get_by_label("Approve").check()
    senior.get_by_label("Reason for your decision").fill("Essential for item 4.")
    senior.get_by_label("Your password").fill(PASSWORD)
    senior.get_by_role("button", name="Record the decision").click()
    senior.get_by_text("The request is now approved.").wait_for()
    shot(senior, "committee-grant-approved.png")

    # The member sees the papers, marked confidential, and only the granted person.
    member = sign_in("cara")
    member.get_by_role("link", name="Read your papers for meeting").click()
    main = member.locator("main")
    main.get_by_text("Grace Okonjo").wait_for()
    assert "CONFIDENTIAL" in main.inner_text()
    assert "Neighbour" not in main.inner_text()
    shot(member, "committee-papers.png")

    # The senior officer revokes it; on the member's next request the papers are gone.
    senior.get_by_role("link", name="Revoke this access").click()
    senior.get_by_label("Why the access is being revoked").fill("Item withdrawn.")
    senior.get_by_role("button", name="Revoke access now").click()
    senior.get_by_text("The committee access has been revoked").wait_for()

    member.reload()
    main = member.locator("main")
    main.get_by_text("You have no papers").wait_for()
    assert "Okonjo" not in main.inner_text()
    shot(member, "committee-papers-after-revocation.png")
    response = member.goto(live_server.url + "/people/%d/" % tenant.pk)
    axe_audit.finish()
    assert response.status in {403, 404}
    assert "Okonjo" not in member.content()
