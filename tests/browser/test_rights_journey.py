"""The data protection lead carries an erasure request through to the records in a real browser:
the erasure page proposes what the retention rules allow, the lead erases the old complaint with a
reason and their password, and closes the request from what was done; a restriction then shows
on the person's page."""

import datetime

import pytest
from django.utils import timezone

from access.roles import Role
from records.models import ContactRecord
from sar.models import SubjectAccessRequest
from tests.browser.conftest import PASSWORD, shot
from tests.factories import (
    ContactRecordFactory,
    PatchFactory,
    SubjectAccessRequestFactory,
    UserFactory,
    tenant_in_patch,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_erase_what_may_go_then_restrict(live_server, sign_in, axe_audit):
    UserFactory(
        username="dana", first_name="Dana", last_name="Lead", roles=[Role.DATA_PROTECTION_LEAD]
    )
    patch = PatchFactory()
    tenant = tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")
    old = ContactRecordFactory(person=tenant, subject="Noise complaint from 2017")
    ContactRecord.objects.filter(pk=old.pk).update(
        occurred_at=timezone.now() - datetime.timedelta(days=8 * 366)
    )
    ContactRecordFactory(person=tenant, subject="Asked about the rent increase")
    erasure = SubjectAccessRequestFactory(person=tenant, kind="erasure")

    dpo = sign_in("dana")
    dpo.goto(live_server.url + "/rights/requests/%d/" % erasure.pk)
    dpo.get_by_role("link", name="Choose what is erased and what is kept").click()
    dpo.get_by_role("heading", name="Erase records about Grace Okonjo").wait_for()
    old_row = dpo.locator("tr", has_text="Noise complaint from 2017")
    recent_row = dpo.locator("tr", has_text="Asked about the rent increase")
    # The retention rule has run out for the old complaint, so it is proposed; the recent one
    # is left to the lead's judgement and not ticked.
    assert old_row.get_by_role("checkbox").is_checked()
    assert not recent_row.get_by_role("checkbox").is_checked()
    assert "retention period ended" in old_row.text_content()
    shot(dpo, "rights-erase.png")

    # A wrong password erases nothing and says so.
    dpo.get_by_label("Your reasons").fill("The complaint is long closed and no longer needed.")
    dpo.get_by_label("Your password").fill("not my password")
    dpo.get_by_role("button", name="Erase the ticked records").click()
    dpo.get_by_text("The password is not right").first.wait_for()
    assert ContactRecord.objects.filter(pk=old.pk).exists()

    dpo.get_by_label("Your password").fill(PASSWORD)
    dpo.get_by_role("button", name="Erase the ticked records").click()
    dpo.get_by_text("What was erased and what was kept").wait_for()
    assert not ContactRecord.objects.filter(pk=old.pk).exists()
    done = dpo.locator("table", has_text="What was done")
    assert "Erased" in done.text_content() and "Kept: not erased" in done.text_content()

    # Closing the request starts from what was done.
    outcome = dpo.get_by_label("What was done, and the reasons for any refusal")
    assert "We erased 1 record about you." in outcome.input_value()
    shot(dpo, "rights-request-done.png")

    # A restriction request on the same person: the marker shows on their page.
    restriction = SubjectAccessRequestFactory(person=tenant, kind="restriction")
    dpo.goto(live_server.url + "/rights/requests/%d/" % restriction.pk)
    dpo.get_by_role("link", name="Restrict processing").click()
    dpo.get_by_label("Why is processing restricted, and until when?").fill(
        "While we check the disputed rent account."
    )
    dpo.get_by_role("button", name="Restrict processing").click()
    dpo.get_by_text("Processing is restricted").first.wait_for()
    dpo.goto(live_server.url + "/people/%d/" % tenant.pk)
    axe_audit.finish()
    assert dpo.get_by_text("Processing restricted: keep the record").first.is_visible()
    assert SubjectAccessRequest.objects.get(pk=restriction.pk).rights_actions.count() == 1
