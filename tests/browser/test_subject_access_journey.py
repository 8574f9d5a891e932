"""A tenant activates their portal account with the code from their letter, signs in with a
password only, and asks for a copy of their data; the data protection lead finds the request and
reviews the bundle, a senior officer signs it off, and the tenant downloads it from the portal."""

import re
import zipfile

import pytest

from access.roles import Role
from sar.services.portal import issue_activation_code
from tests.browser.conftest import PASSWORD, shot
from tests.factories import PatchFactory, UserFactory, tenant_in_patch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TENANT_PASSWORD = "a long and unusual pass phrase 42"


@pytest.mark.assurance
def test_tenant_asks_staff_review_and_sign_off_tenant_downloads(
    live_server, browser, sign_in, axe_audit
):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    UserFactory(
        username="dana", first_name="Dana", last_name="Lead", roles=[Role.DATA_PROTECTION_LEAD]
    )
    UserFactory(username="sam", first_name="Sam", last_name="Senior", roles=[Role.SENIOR_OFFICER])
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")
    tenant_in_patch(patch, first_name="Nadia", last_name="Neighbour")
    code = issue_activation_code(issued_by=officer, person=tenant)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    axe_audit.watch(context)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)

        # The tenant activates the account with the code from the letter.
        page.goto(live_server.url + "/rights/portal/activate/")
        page.get_by_label("Activation code").fill(code)
        page.get_by_label("Email address").fill("grace@mail.example")
        page.get_by_label("Choose a password").fill(TENANT_PASSWORD)
        page.get_by_label("Enter the password again").fill(TENANT_PASSWORD)
        page.get_by_role("button", name="Set up my account").click()
        page.get_by_role("heading", name="Your data protection requests").wait_for()

        # Signing out and back in takes a password only: tenants have no second factor.
        page.get_by_role("button", name=re.compile("Sign out")).click()
        page.goto(live_server.url + "/access/sign-in/")
        page.get_by_label("Username").fill("grace@mail.example")
        page.get_by_label("Password").fill(TENANT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(live_server.url + "/rights/portal/")

        # A request for a copy of all their data; no proof of identity, being signed in.
        page.get_by_role("link", name="Make a new request").click()
        page.get_by_label("Access: a copy of my data").check()
        page.get_by_label("Tell us about your request").fill("Everything you hold about me.")
        shot(page, "portal-request-new.png")
        page.get_by_role("button", name="Send my request").click()
        page.get_by_text("has been sent").wait_for()
        reference = page.get_by_role("heading", level=1).text_content().split()[-1]
        assert page.get_by_text("In progress").is_visible()
        assert page.get_by_text("Not needed: you made this request").is_visible()
        due = page.locator(".govuk-summary-list__row", has_text="Answer due by")
        assert re.search(r"\d{1,2} \w+ \d{4}", due.text_content())
        assert "Neighbour" not in page.content()
        shot(page, "portal-request-detail.png")

        # The data protection lead finds it among the open requests and collects the data.
        dpo = sign_in("dana")
        dpo.goto(live_server.url + "/rights/requests/")
        dpo.get_by_role("link", name=reference).click()
        dpo.get_by_role("heading", name="Rights request %s" % reference).wait_for()
        assert dpo.get_by_text("Grace Okonjo").first.is_visible()
        request_pk = re.search(r"/rights/requests/(\d+)/", dpo.url).group(1)
        dpo.goto(live_server.url + "/rights/bundles/request/%s/collect/" % request_pk)
        dpo.get_by_role("button", name="Collect the data").click()
        dpo.get_by_role("button", name="Send for sign-off").wait_for()

        # Every item is decided and every proposed redaction accepted, then sent for sign-off.
        items = dpo.locator("summary", has_text="Decide on item").count()
        for number in range(1, items + 1):
            dpo.locator("summary", has_text="Decide on item %d" % number).first.click()
            details = dpo.locator("details", has_text="Decide on item %d" % number).first
            details.get_by_label("Include it (with any redactions)").check()
            with dpo.expect_navigation():
                details.get_by_role("button", name="Save the decision").click()
        # The neighbour-finding proposals: redact each one.
        proposed = dpo.locator("tr", has=dpo.locator("strong.govuk-tag", has_text="Proposed"))
        accept = proposed.locator('button[name="accept"][value="yes"]')
        for _ in range(10):
            if not accept.count():
                break
            with dpo.expect_navigation():
                accept.first.click()
        assert accept.count() == 0
        shot(dpo, "portal-journey-review.png")
        with dpo.expect_navigation():
            dpo.get_by_role("button", name="Send for sign-off").click()
        bundle_pk = re.search(r"/rights/bundles/(\d+)/", dpo.url).group(1)

        # A senior officer who did not review it signs it off; it builds in the background.
        senior = sign_in("sam")
        senior.goto(live_server.url + "/rights/bundles/%s/sign-off/" % bundle_pk)
        senior.get_by_label("I have checked the review").check()
        senior.get_by_label("Your password").fill(PASSWORD)
        senior.get_by_role("button", name="Sign off and build the bundle").click()
        senior.get_by_role("link", name="Download the bundle (recorded)").wait_for()

        # The tenant sees the answer is ready and downloads it.
        page.reload()
        page.get_by_role("link", name="Download your answer").wait_for()
        shot(page, "portal-answer-ready.png")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download your answer").click()
        axe_audit.finish()
        names = zipfile.ZipFile(download_info.value.path()).namelist()
        assert names
        assert "Neighbour" not in " ".join(names)
    finally:
        context.close()
