"""Disposal: the sweep lists exactly the rows past their date and not on hold; the DPO holds,
excludes and approves with their password; disposal deletes or anonymises row by row (a blocked row
stops nothing else), removes the files, and leaves a certificate with no personal content and an
audit trail that only grew."""

import datetime
import io
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from access.roles import Role
from access.services import retention as services
from records import services as records_services
from records.models import (
    AuthorisedRepresentative,
    ContactRecord,
    Document,
    HouseholdMember,
    Person,
    Tenancy,
)
from sar.models import Bundle, ClockStop, SarItem, SarRedaction, SubjectAccessRequest
from tests.factories import (
    AuthorisedRepresentativeFactory,
    ContactRecordFactory,
    DisposalCertificateFactory,
    HouseholdMemberFactory,
    PatchFactory,
    PersonFactory,
    SarRedactionFactory,
    SubjectAccessRequestFactory,
    TenancyFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore, retention
from tmo.retention_models import (
    DisposalCandidate,
    DisposalCertificate,
    DisposalReview,
    LegalHold,
    RetentionRule,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = timezone.localdate()
Status = DisposalCandidate.Status


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def years_ago(years: int) -> datetime.date:
    return retention.add_years(TODAY, -years) - datetime.timedelta(days=30)


def set_rule(dpo, label: str, **values) -> RetentionRule:
    rule = retention.ensure_schedule()[label]
    fields = {
        "years": rule.years,
        "after": rule.after,
        "date_field": rule.date_field,
        "action": rule.action,
        "extra_fields": rule.extra_fields,
        "notes": rule.notes,
    }
    fields.update(values)
    return services.update_rule(changed_by=dpo, rule=rule, **fields)


def key(row) -> tuple[str, str]:
    return (row._meta.label_lower, str(row.pk))


def proposed(review) -> set:
    return {c.key for c in review.candidates.filter(status=Status.PROPOSED)}


@pytest.fixture
def world():
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    patch = PatchFactory()
    ada = tenant_in_patch(patch, first_name="Ada", last_name="Quistorp", phone="07700 900111")
    old = ContactRecordFactory(
        person=ada, subject="CANARY-OLD-SUBJECT", notes="CANARY-OLD-NOTES about the damp"
    )
    held = ContactRecordFactory(person=ada, subject="CANARY-HELD-SUBJECT")
    recent = ContactRecordFactory(person=ada, subject="Asked about rent")
    ContactRecord.objects.filter(pk__in=[old.pk, held.pk]).update(occurred_at=ago(8 * 366))
    # A tenancy that ended seven years ago, with a household member who left with it.
    former = PersonFactory(first_name="Bertil", last_name="Formerly")
    ended = TenancyFactory(end_date=years_ago(7), access_notes="CANARY-KEYSAFE 4321")
    member = HouseholdMemberFactory(tenancy=ended, person=former, end_date=years_ago(7))
    # Documents are reviewed by hand until the DPO names a date for them.
    set_rule(dpo, "records.document", date_field="uploaded_at")
    document = records_services.document_upload(
        uploaded_by=dpo,
        person=ada,
        upload=SimpleUploadedFile("canary-letter.pdf", PDF),
        title="CANARY-DOCUMENT-TITLE",
        kind=Document.Kind.OTHER,
    )
    Document.objects.filter(pk=document.pk).update(uploaded_at=ago(7 * 366))
    # An authority that expired long ago, still named by an open rights request: set to be
    # deleted, it is blocked by the request and reported, and the rest still goes.
    set_rule(dpo, "records.authorisedrepresentative", action="delete")
    representative = AuthorisedRepresentativeFactory(
        person=ada, name="Jo Canaryadvocate", valid_from=years_ago(9), expires_on=years_ago(7)
    )
    SubjectAccessRequestFactory(person=ada, representative=representative)
    LegalHold.objects.create(
        model_label="records.contactrecord",
        object_id=str(held.pk),
        reason="Disrepair claim HQ-1",
        placed_by=dpo,
    )
    return {
        "dpo": dpo,
        "ada": ada,
        "old": old,
        "held": held,
        "recent": recent,
        "former": former,
        "ended": ended,
        "member": member,
        "document": document,
        "representative": representative,
        "canaries": [
            "Quistorp",
            "Formerly",
            "Bertil",
            "Canaryadvocate",
            "CANARY-OLD-SUBJECT",
            "CANARY-OLD-NOTES",
            "CANARY-KEYSAFE",
            "CANARY-DOCUMENT-TITLE",
            "canary-letter",
            "07700 900111",
            ada.ni_number,
        ],
    }


def approve(client, world, review, password=PASSWORD):
    client.force_login(world["dpo"])
    return client.post(reverse("disposal_review_approve", args=[review.pk]), {"password": password})


class TestSweep:
    def test_lists_exactly_the_rows_past_their_date_and_not_on_hold(self, world):
        result = services.sweep()
        assert proposed(result.review) == {
            key(world["old"]),
            key(world["document"]),
            key(world["ended"]),
            key(world["member"]),
            key(world["representative"]),
        }
        assert not result.review.candidates.filter(
            model_label="records.contactrecord", object_id=str(world["held"].pk)
        ).exists()
        assert result.held == 1
        old = result.review.candidates.get(
            object_id=str(world["old"].pk), model_label="records.contactrecord"
        )
        assert old.due_on == retention.add_years(timezone.localdate(ago(8 * 366)), 6)
        assert (
            result.review.candidates.get(
                object_id=str(world["ended"].pk), model_label="records.tenancy"
            ).action
            == "anonymise"
        )

    def test_a_second_sweep_keeps_the_decisions_and_adds_nothing_twice(self, world):
        review = services.sweep().review
        candidate = review.candidates.get(model_label="records.contactrecord")
        services.exclude_candidates(
            decided_by=world["dpo"], review=review, candidate_ids=[candidate.pk], reason="Check"
        )
        again = services.sweep()
        assert again.review == review
        assert again.added == 0
        candidate.refresh_from_db()
        assert candidate.status == Status.EXCLUDED
        assert review.candidates.count() == 5

    def test_a_hold_on_a_person_holds_everything_about_them(self, world):
        services.place_hold(
            placed_by=world["dpo"],
            model_label="records.person",
            object_id=str(world["ada"].pk),
            reason="Claim against us by the tenant",
        )
        result = services.sweep()
        assert proposed(result.review) == {key(world["ended"]), key(world["member"])}

    def test_a_hold_placed_on_a_waiting_row_marks_it_held(self, world, client):
        review = services.sweep().review
        candidate = review.candidates.get(model_label="records.contactrecord")
        client.force_login(world["dpo"])
        response = client.post(
            reverse("disposal_candidate_hold", args=[candidate.pk]),
            {"reason": "Ombudsman complaint OMB-77", "ends_on": ""},
        )
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.status == Status.HELD
        assert LogEntry.objects.filter(additional_data__event="legal_hold_placed").exists()

    def test_the_daily_job_sweeps_and_says_so_without_personal_data(self, world, settings):
        from tmo import daily

        assert "access.services.retention.daily_sweep" in settings.DAILY_JOBS
        summary = daily.run_jobs()["access.services.retention.daily_sweep"]
        assert "Disposal review #" in summary and "5 rows to review" in summary
        assert "sign-in log entries removed" in summary
        for canary in world["canaries"]:
            assert canary not in summary

    def test_the_command_runs_the_sweep(self, world):
        out = io.StringIO()
        call_command("retention_sweep", stdout=out)
        assert "5 rows to review" in out.getvalue()


class TestDisposal:
    def test_removes_exactly_the_approved_rows_and_their_files(
        self, world, client, django_capture_on_commit_callbacks
    ):
        review = services.sweep().review
        path = filestore.document_path(world["document"].storage_name)
        assert path.exists()
        entries_before = set(LogEntry.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            response = approve(client, world, review)
        assert response.status_code == 302
        assert not ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert not Document.objects.filter(pk=world["document"].pk).exists()
        assert not path.exists()
        assert not HouseholdMember.objects.filter(pk=world["member"].pk).exists()
        # Kept: the held row, the recent one, the people themselves.
        assert ContactRecord.objects.filter(pk=world["held"].pk).exists()
        assert ContactRecord.objects.filter(pk=world["recent"].pk).exists()
        assert Person.objects.filter(pk__in=[world["ada"].pk, world["former"].pk]).count() == 2
        # Anonymised: the tenancy stays for the figures, without the access notes.
        tenancy = Tenancy.objects.get(pk=world["ended"].pk)
        assert tenancy.access_notes == ""
        assert tenancy.weekly_rent == Decimal("112.50")
        # Blocked, reported, and nothing else stopped by it.
        assert AuthorisedRepresentative.objects.filter(pk=world["representative"].pk).exists()
        blocked = review.candidates.get(model_label="records.authorisedrepresentative")
        assert blocked.status == Status.BLOCKED
        assert "subject access request" in blocked.note
        review.refresh_from_db()
        assert review.status == DisposalReview.Status.COMPLETED
        # The audit trail only grew: every entry before is still there, and each deletion added
        # a DELETE entry on the approver's name.
        assert entries_before <= set(LogEntry.objects.values_list("pk", flat=True))
        deletion = LogEntry.objects.get(
            action=LogEntry.Action.DELETE,
            content_type__model="contactrecord",
            object_pk=str(world["old"].pk),
        )
        assert deletion.actor == world["dpo"]
        assert LogEntry.objects.filter(
            additional_data__event="retention_anonymised", object_pk=str(world["ended"].pk)
        ).exists()

    def test_leaves_a_certificate_with_counts_and_no_personal_content(
        self, world, client, django_capture_on_commit_callbacks
    ):
        review = services.sweep().review
        with django_capture_on_commit_callbacks(execute=True):
            approve(client, world, review)
        certificate = DisposalCertificate.objects.get(review=review)
        assert certificate.approved_by == world["dpo"]
        assert (certificate.total_deleted, certificate.total_anonymised) == (3, 1)
        assert certificate.total_blocked == 1
        assert certificate.files_removed == 1
        lines = {line["model_label"]: line for line in certificate.lines}
        assert lines["records.contactrecord"]["deleted"] == 1
        assert lines["records.tenancy"]["anonymised"] == 1
        assert (
            "subject access request"
            in lines["records.authorisedrepresentative"]["blocked_reasons"][0]["reason"]
        )
        page = client.get(reverse("disposal_certificate_detail", args=[certificate.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert certificate.number in body and "Contact record" in body
        pdf = client.get(reverse("disposal_certificate_pdf", args=[certificate.pk]))
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert certificate.number in text and "Contact record" in text
        stored = str(certificate.lines)
        for canary in world["canaries"]:
            assert canary not in body
            assert canary not in text
            assert canary not in stored
        assert LogEntry.objects.filter(
            additional_data__event="disposal_certificate_exported"
        ).exists()

    def test_excluded_and_held_rows_survive(
        self, world, client, django_capture_on_commit_callbacks
    ):
        review = services.sweep().review
        document = review.candidates.get(model_label="records.document")
        client.force_login(world["dpo"])
        response = client.post(
            reverse("disposal_review_detail", args=[review.pk]),
            {
                "action": "exclude",
                "exclude-candidates": [document.pk],
                "exclude-reason": "Needed for the open complaint",
            },
        )
        assert response.status_code == 302
        old = review.candidates.get(model_label="records.contactrecord")
        services.place_hold(
            placed_by=world["dpo"],
            model_label=old.model_label,
            object_id=old.object_id,
            reason="Claim",
        )
        with django_capture_on_commit_callbacks(execute=True):
            approve(client, world, review)
        assert Document.objects.filter(pk=world["document"].pk).exists()
        assert filestore.document_path(world["document"].storage_name).exists()
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert not HouseholdMember.objects.filter(pk=world["member"].pk).exists()
        certificate = DisposalCertificate.objects.get(review=review)
        lines = {line["model_label"]: line for line in certificate.lines}
        assert lines["records.document"]["excluded"] == 1
        assert lines["records.contactrecord"]["held"] == 1

    def test_a_hold_placed_after_approval_still_keeps_the_row(self, world):
        review = services.sweep().review
        services.approve_review(approved_by=world["dpo"], review=review)
        LegalHold.objects.create(
            model_label="records.contactrecord",
            object_id=str(world["old"].pk),
            reason="Late claim",
            placed_by=world["dpo"],
        )
        services.dispose_review(review.pk)
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert review.candidates.get(model_label="records.contactrecord").status == Status.HELD

    def test_the_wrong_password_approves_nothing(
        self, world, client, django_capture_on_commit_callbacks
    ):
        review = services.sweep().review
        with django_capture_on_commit_callbacks(execute=True):
            response = approve(client, world, review, password="not my password")
        assert response.status_code == 200
        assert "The password is not right" in response.content.decode()
        review.refresh_from_db()
        assert review.is_open
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert not DisposalCertificate.objects.exists()

    def test_a_request_and_its_pieces_go_in_order(self, world, django_capture_on_commit_callbacks):
        redaction = SarRedactionFactory(
            item__bundle__request__status="completed",
            item__bundle__request__completed_on=years_ago(3),
            item__bundle__request__requester_name="Cara Canaryrequester",
        )
        request = redaction.item.request
        stop = ClockStop.objects.create(
            request=request,
            stopped_on=years_ago(4),
            reason="Asked which tenancy",
            stopped_by=world["dpo"],
        )
        review = services.sweep().review
        assert {
            key(redaction),
            key(redaction.item),
            key(redaction.item.bundle),
            key(stop),
            key(request),
        } <= proposed(review)
        with django_capture_on_commit_callbacks(execute=True):
            services.approve_review(approved_by=world["dpo"], review=review)
        assert not SarRedaction.objects.filter(pk=redaction.pk).exists()
        assert not SarItem.objects.filter(pk=redaction.item_id).exists()
        assert not Bundle.objects.filter(pk=redaction.item.bundle_id).exists()
        assert not ClockStop.objects.filter(pk=stop.pk).exists()
        kept = SubjectAccessRequest.objects.get(pk=request.pk)
        assert kept.requester_name == "" and kept.details == "" and kept.requester_email == ""
        assert kept.kind == "access" and kept.completed_on == years_ago(3)
        assert (
            not review.candidates.filter(status=Status.BLOCKED)
            .exclude(model_label="records.authorisedrepresentative")
            .exists()
        )

    def test_anonymised_rows_are_not_proposed_again(
        self, world, client, django_capture_on_commit_callbacks
    ):
        review = services.sweep().review
        with django_capture_on_commit_callbacks(execute=True):
            approve(client, world, review)
        again = services.sweep().review
        assert again != review
        # Only the blocked row comes back, to be dealt with once the request has gone.
        assert proposed(again) == {key(world["representative"])}

    def test_a_stalled_approval_is_started_again_by_the_daily_job(self, world):
        review = services.sweep().review
        DisposalReview.objects.filter(pk=review.pk).update(
            status=DisposalReview.Status.APPROVED,
            approved_by=world["dpo"],
            approved_at=timezone.now() - datetime.timedelta(hours=7),
        )
        summary = services.daily_sweep()
        assert "1 approved disposal started again" in summary
        review.refresh_from_db()
        assert review.status == DisposalReview.Status.COMPLETED
        assert not ContactRecord.objects.filter(pk=world["old"].pk).exists()

    def test_verify_audit_passes_after_a_disposal(self, world, django_capture_on_commit_callbacks):
        pytest.importorskip("tmo.auditchain")
        review = services.sweep().review
        with django_capture_on_commit_callbacks(execute=True):
            services.approve_review(approved_by=world["dpo"], review=review)
        out = io.StringIO()
        call_command("verify_audit", stdout=out)
        assert "intact" in out.getvalue()


class TestAnonymise:
    def test_a_person_keeps_no_personal_values(self):
        person = PersonFactory(
            first_name="Dora",
            last_name="Canaryperson",
            email="dora@mail.example",
            phone="07700 900222",
            ni_number="QQ123456C",
            correspondence_address="1 Hidden Lane",
            date_of_birth=datetime.date(1970, 1, 2),
        )
        count = LogEntry.objects.count()
        names, files = retention.anonymise(person)
        stored = Person.objects.get(pk=person.pk)
        for name in ("first_name", "last_name", "email", "phone", "ni_number"):
            assert getattr(stored, name) == "", name
        assert stored.correspondence_address == ""
        assert stored.date_of_birth is None
        assert (stored.email_index, stored.phone_index, stored.ni_number_index) == ("", "", "")
        assert files == 0 and "last_name" in names
        # Blanked in place: no change entry copies the old values into the audit log.
        assert LogEntry.objects.count() == count


class TestSignInLogs:
    def test_the_daily_sweep_removes_axes_rows_past_their_days(self, settings):
        settings.AXES_LOG_RETENTION_DAYS = 90
        rows = []
        for model in (AccessAttempt, AccessLog, AccessFailureLog):
            for days in (120, 10):
                extra = {"failures_since_start": 1} if model is AccessAttempt else {}
                row = model.objects.create(
                    username="someone%d" % days, ip_address="192.0.2.1", user_agent="t", **extra
                )
                model.objects.filter(pk=row.pk).update(attempt_time=ago(days))
                rows.append((model, row.pk, days))
        summary = services.daily_sweep()
        assert "3 sign-in log entries removed" in summary
        for model, pk, days in rows:
            assert model.objects.filter(pk=pk).exists() == (days == 10)


class TestPages:
    def test_the_dpo_walks_the_review_pages(self, world, client):
        review = services.sweep().review
        client.force_login(world["dpo"])
        listing = client.get(reverse("disposal_review_list"))
        assert listing.status_code == 200
        assert "Disposal review #%d" % review.pk in listing.content.decode()
        detail = client.get(reverse("disposal_review_detail", args=[review.pk]))
        body = detail.content.decode()
        assert detail.status_code == 200
        assert "Contact record" in body and "Tenancy" in body
        assert str(world["old"].pk) in body
        for canary in world["canaries"]:
            assert canary not in body
        candidate = review.candidates.first()
        hold = LegalHold.objects.get()
        for url in (
            reverse("disposal_review_approve", args=[review.pk]),
            reverse("disposal_candidate_hold", args=[candidate.pk]),
            reverse("legal_hold_list"),
            reverse("legal_hold_lift", args=[hold.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            for canary in world["canaries"]:
                assert canary not in response.content.decode(), url

    def test_the_dpo_home_page_shows_rows_waiting(self, world, client):
        review = services.sweep().review
        client.force_login(world["dpo"])
        body = client.get(reverse("dashboard")).content.decode()
        assert "Records past their retention date" in body
        assert reverse("disposal_review_detail", args=[review.pk]) in body

    def test_the_sweep_can_be_run_from_the_page(self, world, client):
        client.force_login(world["dpo"])
        response = client.post(reverse("disposal_sweep_now"))
        review = DisposalReview.objects.get()
        assert response["Location"] == reverse("disposal_review_detail", args=[review.pk])

    def test_placing_and_lifting_a_hold_from_the_holds_page(self, world, client):
        client.force_login(world["dpo"])
        response = client.post(
            reverse("legal_hold_list"),
            {
                "model_label": "records.contactrecord",
                "object_id": str(world["recent"].pk),
                "reason": "Claim HQ-2",
            },
        )
        assert response.status_code == 302
        hold = LegalHold.objects.get(object_id=str(world["recent"].pk))
        missing = client.post(
            reverse("legal_hold_list"),
            {"model_label": "records.contactrecord", "object_id": "999999", "reason": "x"},
        )
        assert "No record of that kind has that number" in missing.content.decode()
        lift = client.post(reverse("legal_hold_lift", args=[hold.pk]), {"reason": "Settled"})
        assert lift.status_code == 302
        hold.refresh_from_db()
        assert hold.lifted_by == world["dpo"] and not hold.is_live()

    @pytest.mark.parametrize(
        "role",
        [Role.SENIOR_OFFICER, Role.HOUSING_OFFICER, Role.HR_OFFICER, Role.COMMITTEE_MEMBER],
    )
    def test_only_the_dpo_reviews_holds_and_approves(self, world, client, role):
        review = services.sweep().review
        candidate = review.candidates.first()
        hold = LegalHold.objects.get()
        client.force_login(user_with_role(role))
        urls = [
            reverse("disposal_review_list"),
            reverse("disposal_review_detail", args=[review.pk]),
            reverse("disposal_review_approve", args=[review.pk]),
            reverse("disposal_candidate_hold", args=[candidate.pk]),
            reverse("legal_hold_list"),
            reverse("legal_hold_lift", args=[hold.pk]),
        ]
        for url in urls:
            response = client.get(url)
            assert response.status_code in {403, 404}, url
            body = response.content.decode()
            assert "Disposal review #%d" % review.pk not in body
            assert "Disrepair claim" not in body
        response = client.post(
            reverse("disposal_review_approve", args=[review.pk]), {"password": PASSWORD}
        )
        assert response.status_code == 403
        review.refresh_from_db()
        assert review.is_open

    @pytest.mark.parametrize(
        "role,allowed",
        [
            (Role.DATA_PROTECTION_LEAD, True),
            (Role.SENIOR_OFFICER, True),
            (Role.HOUSING_OFFICER, False),
            (Role.COMMITTEE_MEMBER, False),
            (Role.SYSTEM_ADMINISTRATOR, False),
        ],
    )
    def test_senior_officers_also_read_the_certificates(self, client, role, allowed):
        certificate = DisposalCertificateFactory()
        client.force_login(user_with_role(role))
        for url in (
            reverse("disposal_certificate_list"),
            reverse("disposal_certificate_detail", args=[certificate.pk]),
            reverse("disposal_certificate_pdf", args=[certificate.pk]),
            reverse("retention_schedule"),
        ):
            response = client.get(url)
            assert response.status_code == (200 if allowed else 403), url
            if not allowed:
                assert certificate.number.encode() not in response.content


def test_an_action_the_review_page_never_offers_is_refused_and_nothing_changes(client, world):
    review = services.sweep().review
    before = list(review.candidates.values_list("pk", "status"))
    client.force_login(world["dpo"])
    url = reverse("disposal_review_detail", args=[review.pk])
    for action in ("delete", "\x00", ""):
        candidates = [pk for pk, _ in before]
        response = client.post(url, {"action": action, "exclude-candidates": candidates})
        assert response.status_code == 400
        assert response.content.strip()
    assert list(review.candidates.values_list("pk", "status")) == before
