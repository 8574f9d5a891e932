"""Complaints: a requester asks for an internal review of the answer through the portal, someone
other than the handler decides it, and the reply tells them of their right to go to the ICO. Also
the register's audited PDF export."""

import io
import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from access.roles import Role
from sar.models import InternalReview
from sar.services import portal as portal_services
from sar.services import requests as services
from tests.factories import (
    InternalReviewFactory,
    PatchFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual pass phrase 42"
GROUNDS = "You left out the notes from my 2024 visits."
REPLY = "We looked again and found three more visit notes; they are attached."


@pytest.fixture
def mailing(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def officer_and_patch():
    officer = user_with_role(Role.HOUSING_OFFICER)
    return officer, PatchFactory(officers=[officer])


def account_for(officer, person):
    code = portal_services.issue_activation_code(issued_by=officer, person=person)
    return portal_services.activate_with_code(code=code, email=person.email, password=PASSWORD)


@pytest.fixture
def world(officer_and_patch):
    officer, patch = officer_and_patch
    alice = tenant_in_patch(patch, first_name="Alice", last_name="Anders")
    boris = tenant_in_patch(patch, first_name="Boris", last_name="Brightwater")
    handler = user_with_role(Role.SENIOR_OFFICER)
    done = {"status": "completed", "completed_on": timezone.localdate(), "outcome": "Done."}
    return {
        "alice": account_for(officer, alice),
        "boris": account_for(officer, boris),
        "handler": handler,
        "a_request": SubjectAccessRequestFactory(person=alice, handler=handler, **done),
        "a_open": SubjectAccessRequestFactory(person=alice, handler=handler),
        "b_request": SubjectAccessRequestFactory(
            person=boris, handler=handler, details="BORIS-PRIVATE-DETAILS", **done
        ),
    }


def review_url(rights_request):
    return reverse("portal_request_review", args=[rights_request.pk])


def test_a_requester_asks_for_a_review_of_their_own_answered_request(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("portal_request_detail", args=[world["a_request"].pk]))
    assert review_url(world["a_request"]).encode() in page.content
    assert b"0303 123 1113" in page.content

    empty = client.post(review_url(world["a_request"]), {"grounds": "  "})
    assert empty.status_code == 200
    assert b"govuk-error-summary" in empty.content
    assert b"Enter what you disagree with" in empty.content
    assert not InternalReview.objects.exists()

    response = client.post(review_url(world["a_request"]), {"grounds": GROUNDS})
    assert response.status_code == 302
    review = InternalReview.objects.get()
    assert review.request == world["a_request"]
    assert review.grounds == GROUNDS
    assert review.decided_at is None
    page = client.get(reverse("portal_request_detail", args=[world["a_request"].pk]))
    assert GROUNDS.encode() in page.content
    # One review at a time: the button goes and the form sends back to the request.
    assert review_url(world["a_request"]).encode() not in page.content
    again = client.post(review_url(world["a_request"]), {"grounds": "Again"})
    assert again.status_code == 302
    assert InternalReview.objects.count() == 1
    entry = LogEntry.objects.filter(actor=world["alice"]).latest("timestamp")
    assert entry.additional_data["event"] == "sar_review_requested"


def test_an_open_request_cannot_be_reviewed_yet(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("portal_request_detail", args=[world["a_open"].pk]))
    assert review_url(world["a_open"]).encode() not in page.content
    response = client.post(review_url(world["a_open"]), {"grounds": GROUNDS})
    assert response.status_code == 302
    assert not InternalReview.objects.exists()


def test_tenant_a_cannot_reach_or_review_tenant_bs_request(client, world):
    InternalReviewFactory(request=world["b_request"], grounds="BORIS-PRIVATE-GROUNDS")
    client.force_login(world["alice"])
    for method in (client.get, client.post):
        response = method(review_url(world["b_request"]), {"grounds": GROUNDS})
        assert response.status_code == 404
        assert b"BORIS" not in response.content
    missing = client.post(reverse("portal_request_review", args=[999999]), {"grounds": GROUNDS})
    assert missing.status_code == 404
    assert InternalReview.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.internal_review_request(
            account=world["alice"], request=world["b_request"], grounds=GROUNDS
        )


def test_staff_cannot_use_the_portal_review_form(client, world):
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    assert client.get(review_url(world["a_request"])).status_code == 403


def decide_url(rights_request):
    return reverse("sar_request_review", args=[rights_request.pk])


def test_the_handler_cannot_decide_the_review_of_their_own_answer(client, world):
    review = InternalReviewFactory(request=world["a_request"])
    client.force_login(world["handler"])
    page = client.get(reverse("sar_request_detail", args=[world["a_request"].pk]))
    assert review.grounds.encode() in page.content
    assert decide_url(world["a_request"]).encode() not in page.content
    assert b"who did not handle this request" in page.content
    response = client.post(
        decide_url(world["a_request"]), {"review_outcome": "not_upheld", "outcome_details": REPLY}
    )
    assert response.status_code == 400
    assert b"who did not handle the request" in response.content
    review.refresh_from_db()
    assert review.decided_at is None


def test_a_housing_officer_cannot_decide_a_review(client, world):
    InternalReviewFactory(request=world["a_request"])
    officer = user_with_role(Role.HOUSING_OFFICER)
    world["a_request"].handler = officer
    world["a_request"].save()
    client.force_login(officer)
    response = client.post(
        decide_url(world["a_request"]), {"review_outcome": "upheld", "outcome_details": REPLY}
    )
    assert response.status_code == 403
    assert InternalReview.objects.get().decided_at is None


def test_another_senior_officer_decides_and_the_reply_names_the_ico(client, world, mailing):
    review = InternalReviewFactory(request=world["a_request"], grounds=GROUNDS)
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    page = client.get(reverse("sar_request_detail", args=[world["a_request"].pk]))
    assert decide_url(world["a_request"]).encode() in page.content

    bad = client.post(decide_url(world["a_request"]), {"review_outcome": "", "outcome_details": ""})
    assert bad.status_code == 400
    assert b"Choose the outcome of the review" in bad.content
    assert b"Enter the reply to the requester" in bad.content

    mail.outbox.clear()
    with mailing():
        response = client.post(
            decide_url(world["a_request"]), {"review_outcome": "partly", "outcome_details": REPLY}
        )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.reviewer == dpo
    assert review.outcome == InternalReview.Outcome.PARTLY
    assert review.outcome_details == REPLY
    assert review.decided_at is not None
    # The email says only that a reply is waiting.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world["a_request"].requester_email]
    assert REPLY not in mail.outbox[0].body and "visit notes" not in mail.outbox[0].subject
    entry = LogEntry.objects.filter(actor=dpo).latest("timestamp")
    assert entry.additional_data["event"] == "sar_review_decided"

    # A decided review is not decided twice.
    again = client.post(
        decide_url(world["a_request"]), {"review_outcome": "upheld", "outcome_details": "x"}
    )
    assert again.status_code == 400
    assert InternalReview.objects.get().outcome == "partly"

    client.force_login(world["alice"])
    page = client.get(reverse("portal_request_detail", args=[world["a_request"].pk]))
    text = page.content.decode()
    assert REPLY in text
    assert "Partly upheld" in text
    assert "Information Commissioner" in text
    assert "ico.org.uk" in text
    assert "0303 123 1113" in text
    assert services.ICO_COMPLAINT_TEXT.replace("'", "&#x27;") in text
    # Another review may now be asked for.
    assert review_url(world["a_request"]) in text


def test_a_review_is_recorded_in_the_data_map_about_the_person(world):
    from tmo.datamap import personal_entries

    review = InternalReviewFactory(request=world["a_request"])
    entry = next(e for e in personal_entries() if e.model is InternalReview)
    assert list(entry.rows_about(world["a_request"].person)) == [review]
    assert not entry.rows_about(world["b_request"].person).exists()


# The register as PDF


def test_register_pdf_is_for_register_roles_audited_and_readable(client):
    SubjectAccessRequestFactory(requester_name="Olive Ontime", kind="access")
    SubjectAccessRequestFactory(requester_name="Edgar Eraser", kind="erasure")
    url = reverse("sar_register_pdf")
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(url).status_code == 403
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    assert client.get(url).status_code == 403

    lead = user_with_role(Role.SENIOR_OFFICER)
    client.force_login(lead)
    response = client.get(url, {"kind": "erasure"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rights request register" in text
    assert "Edgar Eraser" in text
    assert "Olive Ontime" not in text
    entry = LogEntry.objects.filter(actor=lead).latest("timestamp")
    assert entry.additional_data["event"] == "sar_register_exported"
    assert entry.additional_data["format"] == "pdf"
    assert entry.additional_data["count"] == 1

    bad = client.get(url, {"date_from_0": "40", "date_from_1": "1", "date_from_2": "2026"})
    assert bad["Content-Type"].startswith("text/html")
    assert re.search(rb"govuk-error-summary", bad.content)
    assert LogEntry.objects.filter(additional_data__event="sar_register_exported").count() == 1
