"""A committee member, given access to one tenant's record for a meeting, signs in, reads their
papers from the home page, and opens the meeting's page; they see the granted tenant only, marked
confidential, and no other record."""

import pytest

from access.roles import Role
from access.services import grants
from tests.browser.conftest import shot
from tests.factories import MeetingFactory, PatchFactory, UserFactory, tenant_in_patch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_member_reads_their_papers_and_the_meeting(live_server, sign_in, axe_audit):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    senior = UserFactory(username="sam", roles=[Role.SENIOR_OFFICER])
    member = UserFactory(
        username="cara", first_name="Cara", last_name="Member", roles=[Role.COMMITTEE_MEMBER]
    )
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")
    tenant_in_patch(patch, first_name="Nadia", last_name="Neighbour")
    meeting = MeetingFactory(title="Management committee, December")
    meeting.attendees.add(member)
    request = grants.committee_access_request(
        requested_by=officer,
        decision="Item 4: management transfer request",
        reason="The committee decides transfers and must know who is asking.",
        members=[member],
        items=[("records.person", tenant.pk)],
        meeting=meeting,
    )
    grants.committee_access_approve(decided_by=senior, request=request, reason="Item 4.")

    page = sign_in("cara")
    page.get_by_role("link", name="Read your papers for meeting").wait_for()
    shot(page, "committee-member-home.png")
    page.get_by_role("link", name="Read your papers for meeting").click()
    main = page.locator("main")
    main.get_by_text("Grace Okonjo").first.wait_for()
    papers = main.inner_text()
    shot(page, "committee-member-papers.png")

    page.goto(live_server.url + "/access/meetings/")
    page.get_by_role("link", name="Management committee, December").click()
    page.get_by_role("heading", name="Management committee, December").wait_for()
    meeting_page = page.locator("main").inner_text()
    shot(page, "committee-member-meeting.png")

    axe_audit.finish()
    assert "CONFIDENTIAL" in papers
    assert "Neighbour" not in papers
    assert "Neighbour" not in meeting_page
