"""The subject access bundle end to end: collect, review, sign off, build, download, expire.

The bundle for a seeded tenant must hold every row the personal-data map finds about them, and
none of the third parties' names, safe addresses or NI numbers planted in their records."""

import datetime
import io
import json
import re
import zipfile

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from access.roles import Role
from records.models import Marker
from sar import collection, tasks
from sar.models import Bundle, BundleDownload, SarItem, SarRedaction
from sar.services import bundles as services
from tests.factories import (
    ContactRecordFactory,
    DisclosureDecisionFactory,
    DisclosureRequestFactory,
    MarkerFactory,
    PersonFactory,
    SensitiveInformationFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore, pdf

NEIGHBOUR_NAME = "Brian Neighbourly"
NEIGHBOUR_NI = "QQ998877A"
NEIGHBOUR_PHONE = "07700 900123"
SAFE_ADDRESS = "7 Secret Lane"
SAFE_POSTCODE = "N1 9ZZ"
VICTIM_NAME = "Carol Hiddenhurst"
DOCUMENT_BYTES = b"%PDF-1.4 the tenant's own letter"


@pytest.fixture
def world(db, patch):
    from records.models import Document

    tenant = tenant_in_patch(patch, first_name="Alice", last_name="Requesterson")
    neighbour = PersonFactory(
        first_name="Brian", last_name="Neighbourly", ni_number=NEIGHBOUR_NI, phone=NEIGHBOUR_PHONE
    )
    victim = PersonFactory(
        first_name="Carol",
        last_name="Hiddenhurst",
        correspondence_address="%s\nLondon\n%s" % (SAFE_ADDRESS, SAFE_POSTCODE),
    )
    MarkerFactory(person=victim, kind=Marker.Kind.SAFE_ADDRESS, details="Moved to a refuge")
    ContactRecordFactory(
        person=tenant,
        subject="Noise complaint",
        notes="Complained that %s (NI %s, phone %s) plays music late. Spoke to %s who now lives "
        "at %s, %s."
        % (NEIGHBOUR_NAME, NEIGHBOUR_NI, NEIGHBOUR_PHONE, VICTIM_NAME, SAFE_ADDRESS, SAFE_POSTCODE),
    )
    ContactRecordFactory(person=tenant, subject="Reported a leaking tap")
    MarkerFactory(person=tenant, kind=Marker.Kind.NO_VOICEMAIL)
    SensitiveInformationFactory(person=tenant)
    document = Document.objects.create(
        person=tenant,
        title="Letter about the tap",
        original_filename="tap-letter.pdf",
        content_type="application/pdf",
        size=len(DOCUMENT_BYTES),
    )
    filestore.write_encrypted(document.storage_name, DOCUMENT_BYTES)
    secret = DisclosureDecisionFactory(
        request=DisclosureRequestFactory(person=tenant),
        person_told="not_told_crime",
        necessity="Needed to trace the suspect in operation Kestrel.",
    )
    told = DisclosureDecisionFactory(
        request=DisclosureRequestFactory(person=tenant), person_told="told"
    )
    sar = SubjectAccessRequestFactory(person=tenant)
    return {
        "tenant": tenant,
        "neighbour": neighbour,
        "victim": victim,
        "document": document,
        "secret_decision": secret,
        "told_decision": told,
        "sar": sar,
        "handler": user_with_role(Role.SENIOR_OFFICER),
        "signer": user_with_role(Role.DATA_PROTECTION_LEAD),
    }


def review_everything(bundle, handler):
    for item in bundle.items.filter(decision=SarItem.Decision.PENDING):
        services.item_decide(item=item, decided_by=handler, decision=SarItem.Decision.INCLUDED)
    for red in SarRedaction.objects.filter(item__bundle=bundle, status="proposed"):
        services.redaction_decide(redaction=red, decided_by=handler, accept=True)
    return services.review_complete(bundle=bundle, reviewed_by=handler)


def built_bundle(world, django_capture_on_commit_callbacks):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    review_everything(bundle, world["handler"])
    with django_capture_on_commit_callbacks(execute=True):
        services.bundle_sign_off(bundle=bundle, signed_off_by=world["signer"])
    bundle.refresh_from_db()
    return bundle


def open_zip(bundle, user):
    data = services.bundle_open(bundle=bundle, downloaded_by=user, remote_addr="192.0.2.10")
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_bundle_holds_every_record_about_the_tenant_and_nothing_about_anyone_else(
    world, django_capture_on_commit_callbacks
):
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    assert bundle.status == Bundle.Status.READY and bundle.progress == 100
    archive = open_zip(bundle, world["signer"])
    names = set(archive.namelist())
    assert {"your-data.pdf", "your-data.json", "your-data.csv", "index.csv"} <= names
    portable = json.loads(archive.read("your-data.json"))
    found = {(i["model"], i["reference"]) for i in portable["items"]}
    found |= {(i["model"], i["reference"]) for i in portable["withheld"]}

    # Checked against the map: every row it finds about the tenant, from every app, is there.
    expected = set()
    apps_seen = set()
    for entry in collection.collectable_entries():
        for row in entry.rows_about(world["tenant"]):
            expected.add((entry.model._meta.label_lower, str(row.pk)))
            apps_seen.add(entry.model._meta.app_label)
    assert expected and expected <= found
    assert {"records", "disclosures", "sar"} <= apps_seen

    # The tenant's own document, decrypted into the (encrypted) zip.
    documents = [n for n in names if n.startswith("documents/")]
    assert [archive.read(n) for n in documents] == [DOCUMENT_BYTES]
    assert filestore.read_token(bundle.storage_name) != archive.fp.getvalue()

    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(archive.read("your-data.pdf"))).pages
    )
    texts = {
        "json": archive.read("your-data.json").decode(),
        "csv": archive.read("your-data.csv").decode("utf-8-sig"),
        "pdf": pdf_text,
    }
    for where, text in texts.items():
        for secret in (
            NEIGHBOUR_NAME,
            NEIGHBOUR_NI,
            NEIGHBOUR_PHONE,
            VICTIM_NAME,
            SAFE_ADDRESS,
            SAFE_POSTCODE,
            "Hiddenhurst",
            "Neighbourly",
        ):
            assert secret not in text, "%s shows %r" % (where, secret)
        assert "Requesterson" in text
    assert "[redacted: third-party information]" in texts["json"]
    assert "redacted: third-party" in " ".join(pdf_text.split())
    assert "Information Commissioner" in pdf_text


def test_a_disclosure_the_tenant_was_not_told_of_is_withheld_with_its_reason(
    world, django_capture_on_commit_callbacks
):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    secret = bundle.items.get(
        model_label="disclosures.disclosuredecision", object_id=str(world["secret_decision"].pk)
    )
    assert secret.decision == SarItem.Decision.WITHHELD and secret.withheld_by_map
    assert secret.exemption == SarItem.Exemption.CRIME_TAXATION
    with pytest.raises(ValidationError):
        services.item_decide(item=secret, decided_by=world["handler"], decision="included")
    secret_request = bundle.items.get(
        model_label="disclosures.disclosurerequest",
        object_id=str(world["secret_decision"].request_id),
    )
    assert secret_request.decision == SarItem.Decision.WITHHELD
    told = bundle.items.get(
        model_label="disclosures.disclosuredecision", object_id=str(world["told_decision"].pk)
    )
    assert told.decision == SarItem.Decision.PENDING

    review_everything(bundle, world["handler"])
    with django_capture_on_commit_callbacks(execute=True):
        services.bundle_sign_off(bundle=bundle, signed_off_by=world["signer"])
    archive = open_zip(Bundle.objects.get(pk=bundle.pk), world["signer"])
    portable = json.loads(archive.read("your-data.json"))
    withheld = {(w["model"], w["reference"]): w for w in portable["withheld"]}
    entry = withheld[("disclosures.disclosuredecision", str(world["secret_decision"].pk))]
    assert "Sch. 2 Part 1 para 2" in entry["reason"]
    assert ("disclosures.disclosuredecision", str(world["secret_decision"].pk)) not in {
        (i["model"], i["reference"]) for i in portable["items"]
    }
    index = archive.read("index.csv").decode("utf-8-sig")
    assert "Withheld" in index and "Sch. 2 Part 1 para 2" in index
    # What the police asked for is not in the bundle.
    assert world["secret_decision"].necessity not in archive.read("your-data.json").decode()


def test_the_reviewer_cannot_sign_off_their_own_work(world):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    review_everything(bundle, world["handler"])
    with pytest.raises(ValidationError, match="Nobody signs off their own work"):
        services.bundle_sign_off(bundle=bundle, signed_off_by=world["handler"])
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.AWAITING_SIGN_OFF and bundle.signed_off_by is None


def test_sign_off_page_refuses_the_reviewer_and_needs_the_password(
    world, client, django_capture_on_commit_callbacks
):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    review_everything(bundle, world["handler"])
    url = reverse("sar_bundle_sign_off", args=[bundle.pk])
    client.force_login(world["handler"])
    response = client.post(url, {"confirm": "on", "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert "Nobody signs off their own work" in response.content.decode()

    client.force_login(world["signer"])
    response = client.post(url, {"confirm": "on", "password": "wrong"})
    assert response.status_code == 400 and "password is not right" in response.content.decode()
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.AWAITING_SIGN_OFF
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "on", "password": "correct horse battery staple"})
    assert response.status_code == 302
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.READY and bundle.signed_off_by == world["signer"]
    world["sar"].refresh_from_db()
    assert world["sar"].status == "completed" and world["sar"].completed_on is not None


def test_a_safety_protected_detail_cannot_be_left_in(world):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    mandatory = SarRedaction.objects.filter(item__bundle=bundle, mandatory=True)
    assert any(SAFE_ADDRESS in r.text for r in mandatory)
    assert all(r.status == SarRedaction.Status.ACCEPTED for r in mandatory)
    with pytest.raises(ValidationError):
        services.redaction_decide(redaction=mandatory[0], decided_by=world["handler"], accept=False)


def test_a_failed_build_is_retried_and_never_offered_half_built(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    real_render = pdf.html_to_pdf
    seen = []

    def flaky(html):
        seen.append(Bundle.objects.get().status)
        if len(seen) == 1:
            # The first attempt dies mid-build: nothing may be offered in the meantime.
            assert services.bundle_for_requester(request=world["sar"]) is None
            raise OSError("disk full")
        return real_render(html)

    monkeypatch.setattr(pdf, "html_to_pdf", flaky)
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    # The second attempt lays out every part (letter, items, index), each while still building.
    assert len(seen) > 2 and set(seen) == {Bundle.Status.BUILDING}
    assert bundle.status == Bundle.Status.READY and bundle.attempts == 2
    assert services.bundle_for_requester(request=world["sar"]) == bundle


def test_a_build_that_keeps_failing_stops_and_leaves_no_file(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html):
        raise OSError("disk full")

    monkeypatch.setattr(pdf, "html_to_pdf", broken)
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    assert bundle.status == Bundle.Status.FAILED
    assert bundle.attempts == Bundle.MAX_ATTEMPTS and bundle.storage_name == ""
    assert bundle.last_error == "OSError"
    assert services.bundle_for_requester(request=world["sar"]) is None
    with pytest.raises(ValidationError):
        services.bundle_open(bundle=bundle, downloaded_by=world["signer"], remote_addr=None)


def test_a_missing_document_fails_the_build_rather_than_leaving_it_out(
    world, django_capture_on_commit_callbacks
):
    filestore.delete(world["document"].storage_name)
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    assert bundle.status == Bundle.Status.FAILED and bundle.last_error == "FileNotFoundError"


def test_every_download_is_recorded_and_the_staff_download_is_the_zip(
    world, client, django_capture_on_commit_callbacks
):
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    client.force_login(world["signer"])
    response = client.get(reverse("sar_bundle_download", args=[bundle.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    services.bundle_open(bundle=bundle, downloaded_by=None, remote_addr="198.51.100.7")
    downloads = list(BundleDownload.objects.filter(bundle=bundle).order_by("downloaded_at"))
    assert [(d.downloaded_by, d.remote_addr) for d in downloads] == [
        (world["signer"], "127.0.0.1"),
        (None, "198.51.100.7"),
    ]
    # The requester's own download (no staff account) once made the progress page a 500.
    response = client.get(reverse("sar_bundle_progress", args=[bundle.pk]))
    assert response.status_code == 200
    assert "by the requester from 198.51.100.7" in " ".join(response.content.decode().split())


def test_an_expired_bundle_is_deleted_and_refused(world, django_capture_on_commit_callbacks):
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    path = filestore.document_path(bundle.storage_name)
    assert path.exists()
    assert bundle.expires_at.date() == timezone.localdate() + datetime.timedelta(days=30)
    later = bundle.expires_at + datetime.timedelta(seconds=1)
    assert services.bundles_expire(now=later) == 1
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.EXPIRED and not path.exists()
    assert services.bundle_for_requester(request=world["sar"]) is None
    with pytest.raises(ValidationError):
        services.bundle_open(bundle=bundle, downloaded_by=world["signer"], remote_addr=None)
    assert not BundleDownload.objects.exists()


def test_review_pages_show_the_items_with_redactions_marked(world, client):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    client.force_login(world["handler"])
    body = client.get(reverse("sar_bundle_review", args=[bundle.pk])).content.decode()
    assert "Noise complaint" in body and "Always redacted" in body
    # The safe address is only ever shown redacted in the preview of what leaves.
    assert "[redacted: third-party information]" in body

    item = bundle.items.filter(decision="pending").first()
    url = reverse("sar_bundle_item_decide", args=[item.pk])
    prefix = "item-%d-" % item.pk
    response = client.post(
        url, {prefix + "decision": "withheld", prefix + "exemption": "third_party"}
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert "Record the factors considered" in response.content.decode()
    item.refresh_from_db()
    assert item.decision == "pending"
    response = client.post(
        url,
        {
            prefix + "decision": "withheld",
            prefix + "exemption": "third_party",
            prefix + "reason": "Mostly about the neighbour; no consent; not reasonable.",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == "withheld" and item.decided_by == world["handler"]


def test_every_item_not_yet_decided_can_be_included_at_once_once_read(world, client):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    withheld = bundle.items.filter(decision="pending").first()
    services.item_decide(
        item=withheld,
        decided_by=world["handler"],
        decision="withheld",
        exemption="third_party",
        reason="About the neighbour; no consent.",
    )
    pending = set(bundle.items.filter(decision="pending").values_list("pk", flat=True))
    held_by_map = set(bundle.items.filter(withheld_by_map=True).values_list("pk", flat=True))
    assert pending
    client.force_login(world["handler"])
    url = reverse("sar_bundle_include_pending", args=[bundle.pk])
    assert (
        "Include %d item" % len(pending)
        in client.get(reverse("sar_bundle_review", args=[bundle.pk])).content.decode()
    )

    # Not confirmed: told why, and nothing decided.
    response = client.post(url, {})
    assert response.status_code == 400
    assert "Confirm that you have read every item not yet decided" in response.content.decode()
    assert bundle.items.filter(decision="pending").count() == len(pending)

    response = client.post(url, {"read": "on"})
    assert response.status_code == 302
    assert not bundle.items.filter(decision="pending").exists()
    assert (
        set(
            bundle.items.filter(decision="included", decided_by=world["handler"]).values_list(
                "pk", flat=True
            )
        )
        == pending
    )
    withheld.refresh_from_db()
    assert withheld.decision == "withheld"
    assert set(bundle.items.filter(decision="withheld").values_list("pk", flat=True)) == (
        held_by_map | {withheld.pk}
    )
    event = LogEntry.objects.get(additional_data__event="sar_items_included")
    assert sorted(event.additional_data["items"]) == sorted(pending)
    # Nothing is left to include, and proposed redactions still wait for a decision.
    assert client.post(url, {"read": "on"}).status_code == 400
    with pytest.raises(ValidationError):
        services.review_complete(bundle=bundle, reviewed_by=world["handler"])


def test_pages_are_out_of_reach_outside_the_request_scope(world, client):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    client.force_login(user_with_role(Role.HOUSING_OFFICER))  # staff, not handling it
    for name in ("sar_bundle_review", "sar_bundle_progress"):
        assert client.get(reverse(name, args=[bundle.pk])).status_code == 404
    item = bundle.items.first()
    assert client.post(reverse("sar_bundle_item_decide", args=[item.pk])).status_code == 404
    url = reverse("sar_bundle_include_pending", args=[bundle.pk])
    assert client.post(url, {"read": "on"}).status_code == 404
    assert bundle.items.filter(decision="pending").exists()
    assert client.get(reverse("sar_bundle_start", args=[world["sar"].pk])).status_code == 404
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    assert client.get(reverse("sar_bundle_review", args=[bundle.pk])).status_code == 403
    assert client.get(reverse("sar_bundle_download", args=[bundle.pk])).status_code == 403
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(reverse("sar_bundle_sign_off", args=[bundle.pk])).status_code == 403


def test_progress_page_refreshes_itself_while_building(world, client):
    bundle = services.bundle_collect(request=world["sar"], collected_by=world["handler"])
    Bundle.objects.filter(pk=bundle.pk).update(status=Bundle.Status.BUILDING, progress=40)
    client.force_login(world["handler"])
    response = client.get(reverse("sar_bundle_progress", args=[bundle.pk]))
    assert response["Refresh"] == "3"
    assert "40% built" in response.content.decode()
    assert "<script" not in response.content.decode().split("</header>")[1].split("<footer")[0]


def test_a_heavy_bundle_is_laid_out_in_parts_numbered_on_and_joined(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    """Laid out a few items at a time (so memory stays bounded), the PDF still holds every item
    once, in order, with its pages numbered straight through, each saying how many there are."""
    monkeypatch.setattr(tasks, "PDF_PART_ITEMS", 2)
    bundle = built_bundle(world, django_capture_on_commit_callbacks)
    portable = json.loads(open_zip(bundle, world["signer"]).read("your-data.json"))
    assert len(portable["items"]) > 4  # several parts
    reader = PdfReader(io.BytesIO(open_zip(bundle, world["signer"]).read("your-data.pdf")))
    pages = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(pages, start=1):
        assert "Page %d of %d" % (number, len(pages)) in text
    text = "\n".join(pages)
    headings = [int(match) for match in re.findall(r"^(\d+)\. .+ \(reference ", text, re.MULTILINE)]
    # Each released item once, in order (withheld items are numbered too, in the index only).
    assert headings == sorted(set(headings)) and len(headings) == len(portable["items"])
    assert text.count("Your information") >= 1 and text.count("Index of every item") == 1
    assert text.count("Signed off by") == 1
