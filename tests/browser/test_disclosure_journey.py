"""An officer logs a police request for a tenant's phone number and date of birth; a senior officer
releases the phone number only, re-entering their password, sends it and downloads the pack, which
holds the phone number and not the date of birth."""

import datetime
import io

import pytest
from pypdf import PdfReader

from access.roles import Role
from disclosures.models import DisclosureDecision, DisclosureRequest
from tests.browser.conftest import ARTIFACTS, PASSWORD, shot
from tests.factories import PatchFactory, UserFactory, tenant_in_patch

PHONE = "07700 900456"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.assurance
def test_police_request_partial_release_and_pack(live_server, sign_in, axe_audit):
    officer = UserFactory(username="olivia", roles=[Role.HOUSING_OFFICER])
    UserFactory(username="sam", first_name="Sam", last_name="Senior", roles=[Role.SENIOR_OFFICER])
    patch = PatchFactory(officers=[officer])
    tenant = tenant_in_patch(
        patch,
        first_name="Grace",
        last_name="Okonjo",
        phone=PHONE,
        date_of_birth=datetime.date(1979, 3, 14),
    )

    # The officer logs the police request from the tenant's page.
    page = sign_in("olivia")
    page.goto(live_server.url + "/people/%d/" % tenant.pk)
    page.get_by_role("link", name="Log a disclosure request about this person").click()
    page.get_by_role("heading", name="About Grace Okonjo").wait_for()
    page.get_by_label("Type of requester").select_option("police")
    page.get_by_label("Organisation", exact=True).fill("Metropolitan Police Service")
    page.get_by_label("Named contact").fill("DC Sam Holloway, Lambeth CID")
    page.get_by_label("Their contact details").fill("sam.holloway@met.police.example")
    page.get_by_label("How you checked who they are").fill(
        "Called back on the station's published switchboard number"
    )
    page.get_by_label("Person: phone", exact=True).check()
    page.get_by_label("Person: date of birth", exact=True).check()
    page.get_by_label("The request in their words").fill(
        "Current phone number and date of birth for Grace Okonjo."
    )
    page.get_by_label("Why they say they need it").fill("Tracing a witness to a burglary.")
    page.get_by_label("Crime and taxation").check()
    page.get_by_label("Urgent (within 2 working days)").check()
    shot(page, "disclosure-log.png")
    page.get_by_role("button", name="Log the request").click()
    page.get_by_text("A senior officer or the data protection lead will decide it").wait_for()
    disclosure = DisclosureRequest.objects.get()
    assert disclosure.logged_by == officer
    assert sorted(disclosure.requested_items) == [
        "records.person.date_of_birth",
        "records.person.phone",
    ]

    # A senior officer releases the phone number only, with their password.
    senior = sign_in("sam")
    senior.goto(live_server.url + "/disclosures/requests/")
    senior.get_by_role("link", name=disclosure.reference).first.click()
    senior.get_by_role("link", name="Decide this request").click()
    senior.get_by_label("Release the items ticked below").check()
    senior.get_by_label("Person: phone", exact=True).check()
    senior.get_by_label("Why each released item is necessary").fill(
        "The police need to reach the witness; her date of birth is not needed for that."
    )
    senior.get_by_label("Reasons for your decision").fill(
        "Not disclosing would prejudice the investigation; the date of birth is not necessary."
    )
    senior.get_by_label("Your position").fill("Housing services manager")
    senior.get_by_label("Your password").fill(PASSWORD)
    shot(senior, "disclosure-decide.png")
    senior.get_by_role("button", name="Record the decision").click()
    senior.get_by_text("Your decision is recorded").wait_for()
    decision = DisclosureDecision.objects.get()
    assert decision.released_items == ["records.person.phone"]

    # They confirm the recipient, generate the pack and download it.
    senior.get_by_role("link", name="Confirm the recipient and send").click()
    recipient = senior.get_by_label("Send to")
    assert "DC Sam Holloway" in recipient.input_value()
    senior.get_by_label("I have checked these are the right recipient").check()
    senior.get_by_label("Your password").fill(PASSWORD)
    senior.get_by_role("button", name="Generate the pack").click()
    senior.get_by_text("Exactly what the pack held").wait_for()
    shot(senior, "disclosure-sent.png")
    with senior.expect_download() as download_info:
        senior.get_by_role("link", name="Download the pack (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "disclosure-%s.pdf" % disclosure.reference
    ARTIFACTS.mkdir(exist_ok=True)
    pack_path = ARTIFACTS / "disclosure-pack.pdf"
    download.save_as(str(pack_path))
    axe_audit.finish()
    data = pack_path.read_bytes()
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "".join(PHONE.split()) in "".join(text.split())
    assert "14 March 1979" not in text
    assert "1979-03-14" not in text
