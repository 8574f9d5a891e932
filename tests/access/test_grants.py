"""Committee access for a decision: ask, decide, see the papers, and lose them on expiry or revocation."""

import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from access.dashboard import panels_for
from access.models import CommitteeAccessRequest
from access.roles import Role
from access.services import grants
from records import services as records_services
from records.models import ContactRecord, ContractorBid, Document, Person
from tests.factories import (
    ContactRecordFactory,
    ContractorBidFactory,
    MarkerFactory,
    MeetingFactory,
    PatchFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
Status = CommitteeAccessRequest.Status


@pytest.fixture
def world(patch_and_officer):
    patch, officer = patch_and_officer
    granted = tenant_in_patch(patch, first_name="Grainne", last_name="Grantedperson")
    MarkerFactory(person=granted, kind="interpreter")
    return {
        "officer": officer,
        "granted": granted,
        "neighbour": tenant_in_patch(patch, first_name="Nell", last_name="Notgrantedperson"),
        "contact": ContactRecordFactory(person=granted, subject="Complained about the lift"),
        "senior": user_with_role(Role.SENIOR_OFFICER),
        "dpo": user_with_role(Role.DATA_PROTECTION_LEAD),
        "member": user_with_role(Role.COMMITTEE_MEMBER, first_name="Mo", last_name="Member"),
        "other_member": user_with_role(Role.COMMITTEE_MEMBER),
    }


def ask(world, *records, requested_by=None, **kwargs):
    kwargs.setdefault("members", [world["member"]])
    return grants.committee_access_request(
        requested_by=requested_by or world["officer"],
        decision=kwargs.pop("decision", "Item 4: request to transfer"),
        reason="The committee decides transfers on the panel's advice.",
        items=[(obj._meta.label_lower, obj.pk) for obj in records],
        **kwargs,
    )


def approved(world, *records, **kwargs):
    request = ask(world, *records, **kwargs)
    return grants.committee_access_approve(
        decided_by=world["senior"], request=request, reason="Needed for item 4."
    )


def upload(person, by):
    return records_services.document_upload(
        uploaded_by=by,
        person=person,
        upload=SimpleUploadedFile("panel-report.pdf", PDF),
        title="Transfer panel report",
        kind="report",
    )


def papers(client, user):
    client.force_login(user)
    response = client.get(reverse("committee_papers"))
    assert response.status_code == 200
    return response.content.decode()


class TestTheJourney:
    def test_request_approve_and_member_sees_exactly_the_granted_person(self, client, world):
        client.force_login(world["officer"])
        response = client.post(
            reverse("committee_access_new"),
            {
                "decision": "Item 4: request to transfer",
                "reason": "The committee decides transfers.",
                "members": [world["member"].pk],
                "add_kind": "records.person",
                "add_id": str(world["granted"].pk),
                "action": "send",
            },
        )
        request = CommitteeAccessRequest.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("committee_access_detail", args=[request.pk])
        assert request.status == Status.PENDING
        assert request.requested_by == world["officer"]
        assert list(request.members.all()) == [world["member"]]
        assert [i.content_object for i in request.items.all()] == [world["granted"]]
        # Pending is not yet access.
        assert "Grantedperson" not in papers(client, world["member"])

        client.force_login(world["senior"])
        response = client.post(
            reverse("committee_access_decide", args=[request.pk]),
            {"outcome": "approve", "reason": "Essential for item 4.", "password": PASSWORD},
        )
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == Status.APPROVED
        assert request.decided_by == world["senior"]
        assert request.decision_reason == "Essential for item 4."

        member = world["member"]
        assert set(Person.objects.visible_to(member)) == {world["granted"]}
        assert not ContactRecord.objects.visible_to(member).exists()
        body = papers(client, member)
        assert "Grainne Grantedperson" in body
        assert "CONFIDENTIAL" in body
        assert world["granted"].household_memberships.get().tenancy.property.address in body
        assert "Needs an interpreter" in body
        assert "Notgrantedperson" not in body
        assert "Complained about the lift" not in body
        assert world["granted"].email not in body
        assert world["granted"].ni_number not in body

    def test_a_member_not_named_sees_nothing(self, client, world):
        approved(world, world["granted"])
        other = world["other_member"]
        assert not Person.objects.visible_to(other).exists()
        assert "Grantedperson" not in papers(client, other)

    def test_committee_member_without_a_grant_sees_nothing(self, client, world):
        body = papers(client, user_with_role(Role.COMMITTEE_MEMBER))
        assert "You have no papers" in body
        assert "Grantedperson" not in body
        assert "Notgrantedperson" not in body

    def test_staff_cannot_open_the_papers_page(self, client, world):
        client.force_login(world["officer"])
        assert client.get(reverse("committee_papers")).status_code == 403


class TestEnding:
    def _granted_document(self, world):
        document = upload(world["granted"], world["officer"])
        approved(world, world["granted"], document)
        return document

    def _assert_sees_nothing(self, client, world, document):
        member = world["member"]
        assert not Person.objects.visible_to(member).exists()
        assert not Document.objects.visible_to(member).exists()
        body = papers(client, member)
        assert "Grantedperson" not in body
        assert "Transfer panel report" not in body
        for url in (
            reverse("committee_paper_download", args=[document.pk]),
            reverse("person_detail", args=[world["granted"].pk]),
            reverse("document_download", args=[document.pk]),
        ):
            response = client.get(url)
            assert response.status_code in {403, 404}, url
            assert b"Grantedperson" not in response.content
            assert PDF not in response.content
        assert client.get(reverse("committee_paper_download", args=[document.pk])).status_code == (
            404
        )

    def test_member_downloads_a_granted_document(self, client, world, access_entries):
        document = self._granted_document(world)
        client.force_login(world["member"])
        response = client.get(reverse("committee_paper_download", args=[document.pk]))
        assert response.status_code == 200
        assert response.content == PDF
        assert "no-store" in response["Cache-Control"]
        assert access_entries(document).filter(actor=world["member"]).count() == 1

    def test_nothing_after_expiry(self, client, world):
        document = self._granted_document(world)
        assert "Grantedperson" in papers(client, world["member"])
        CommitteeAccessRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(1))
        self._assert_sees_nothing(client, world, document)

    def test_nothing_after_revocation(self, client, world):
        document = self._granted_document(world)
        request = CommitteeAccessRequest.objects.get()
        assert "Grantedperson" in papers(client, world["member"])
        client.force_login(world["dpo"])
        response = client.post(
            reverse("committee_access_revoke", args=[request.pk]),
            {"reason": "The item was withdrawn from the agenda."},
        )
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == Status.REVOKED
        assert request.revoked_by == world["dpo"]
        assert request.revocation_reason == "The item was withdrawn from the agenda."
        self._assert_sees_nothing(client, world, document)

    def test_revocation_needs_a_reason_and_the_right_role(self, client, world):
        request = approved(world, world["granted"])
        client.force_login(world["dpo"])
        response = client.post(reverse("committee_access_revoke", args=[request.pk]), {})
        assert "Enter why the access is being revoked" in response.content.decode()
        client.force_login(world["officer"])
        assert (
            client.post(
                reverse("committee_access_revoke", args=[request.pk]), {"reason": "x"}
            ).status_code
            == 403
        )
        request.refresh_from_db()
        assert request.status == Status.APPROVED


class TestDeciding:
    def test_nobody_approves_their_own_request(self, client, world):
        request = ask(world, world["granted"], requested_by=world["senior"])
        client.force_login(world["senior"])
        url = reverse("committee_access_decide", args=[request.pk])
        assert "you cannot decide it" in client.get(url).content.decode()
        response = client.post(
            url, {"outcome": "approve", "reason": "Looks fine.", "password": PASSWORD}
        )
        assert "You cannot decide your own request" in response.content.decode()
        request.refresh_from_db()
        assert request.status == Status.PENDING
        assert request.decided_by is None
        with pytest.raises(ValidationError):
            grants.committee_access_approve(decided_by=world["senior"], request=request, reason="x")

    def test_approval_needs_the_right_password(self, client, world):
        request = ask(world, world["granted"])
        client.force_login(world["senior"])
        response = client.post(
            reverse("committee_access_decide", args=[request.pk]),
            {"outcome": "approve", "reason": "Essential.", "password": "not my password"},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in body
        assert "The password is not right" in body
        request.refresh_from_db()
        assert request.status == Status.PENDING
        assert request.decided_by is None
        assert not LogEntry.objects.filter(
            additional_data__event="committee_grant_approved"
        ).exists()
        assert not Person.objects.visible_to(world["member"]).exists()

    def test_refusal_is_recorded_with_its_reason(self, client, world):
        request = ask(world, world["granted"])
        client.force_login(world["dpo"])
        response = client.post(
            reverse("committee_access_decide", args=[request.pk]),
            {
                "outcome": "refuse",
                "reason": "The panel summary is enough.",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == Status.REFUSED
        assert request.decided_by == world["dpo"]
        assert request.decision_reason == "The panel summary is enough."
        event = LogEntry.objects.get(additional_data__event="committee_grant_refused")
        assert event.actor == world["dpo"]
        assert event.additional_data["reason"] == "The panel summary is enough."
        assert not Person.objects.visible_to(world["member"]).exists()
        body = client.get(reverse("committee_access_detail", args=[request.pk])).content.decode()
        assert "Refused" in body
        assert "The panel summary is enough." in body

    def test_only_senior_officers_and_the_dpo_decide(self, client, world):
        request = ask(world, world["granted"])
        client.force_login(world["officer"])
        url = reverse("committee_access_decide", args=[request.pk])
        assert client.get(url).status_code == 403
        with pytest.raises(ValidationError):
            grants.committee_access_approve(
                decided_by=world["officer"], request=request, reason="x"
            )

    def test_a_decided_request_cannot_be_decided_again(self, world):
        request = approved(world, world["granted"])
        with pytest.raises(ValidationError, match="already been decided"):
            grants.committee_access_refuse(decided_by=world["dpo"], request=request, reason="No")

    def test_each_step_writes_one_domain_event(self, world):
        request = approved(world, world["granted"])
        grants.committee_access_revoke(revoked_by=world["senior"], request=request, reason="Done")
        events = LogEntry.objects.filter(
            object_pk=str(request.pk), additional_data__has_key="event"
        )
        assert [e.additional_data["event"] for e in events.order_by("pk")] == [
            "committee_grant_requested",
            "committee_grant_approved",
            "committee_grant_revoked",
        ]
        assert [e.actor for e in events.order_by("pk")] == [
            world["officer"],
            world["senior"],
            world["senior"],
        ]

    def test_approval_mails_the_members_without_personal_data(
        self, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            approved(world, world["granted"])
        to_member = [m for m in mail.outbox if world["member"].email in m.to]
        assert len(to_member) == 1
        assert "Grantedperson" not in to_member[0].body
        assert "transfer" not in to_member[0].body.lower()


class TestAsking:
    def test_requester_cannot_name_a_record_outside_their_scope(self, client, world):
        elsewhere = tenant_in_patch(PatchFactory(), first_name="Olu", last_name="Otherpatch")
        client.force_login(world["officer"])
        response = client.post(
            reverse("committee_access_new"),
            {
                "decision": "Item 5",
                "reason": "Needed.",
                "members": [world["member"].pk],
                "add_kind": "records.person",
                "add_id": str(elsewhere.pk),
                "action": "send",
            },
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "You can only name records you can open yourself" in body
        assert "Otherpatch" not in body
        assert not CommitteeAccessRequest.objects.exists()
        with pytest.raises(ValidationError, match="You can only name records"):
            ask(world, elsewhere)
        assert not CommitteeAccessRequest.objects.exists()

    def test_a_tampered_item_list_is_checked_too(self, client, world):
        elsewhere = tenant_in_patch(PatchFactory())
        client.force_login(world["officer"])
        client.post(
            reverse("committee_access_new"),
            {
                "decision": "Item 5",
                "reason": "Needed.",
                "members": [world["member"].pk],
                "items": "records.person:%d records.person:%d"
                % (world["granted"].pk, elsewhere.pk),
                "action": "send",
            },
        )
        assert not CommitteeAccessRequest.objects.exists()

    def test_add_and_remove_records_before_sending(self, client, world):
        client.force_login(world["officer"])
        url = reverse("committee_access_new")
        response = client.post(
            url,
            {
                "decision": "Item 4",
                "add_kind": "records.person",
                "add_id": str(world["granted"].pk),
                "action": "add",
            },
        )
        body = response.content.decode()
        assert "Grainne Grantedperson" in body
        assert 'value="records.person:%d"' % world["granted"].pk in body
        assert "There is a problem" not in body
        assert not CommitteeAccessRequest.objects.exists()
        response = client.post(
            url,
            {
                "decision": "Item 4",
                "items": "records.person:%d" % world["granted"].pk,
                "remove": "records.person:%d" % world["granted"].pk,
            },
        )
        assert "Grainne Grantedperson" not in response.content.decode()

    def test_a_record_page_link_names_the_record(self, client, world):
        client.force_login(world["officer"])
        response = client.get(
            reverse("committee_access_new"),
            {"kind": "records.person", "id": world["granted"].pk},
        )
        assert "Grainne Grantedperson" in response.content.decode()

    def test_missing_answers_are_listed_and_nothing_is_saved(self, client, world):
        client.force_login(world["officer"])
        response = client.post(reverse("committee_access_new"), {"action": "send"})
        body = response.content.decode()
        assert "Enter the decision or agenda item" in body
        assert "Choose at least one committee member" in body
        assert "Add at least one record the committee needs" in body
        assert "govuk-form-group--error" in body
        assert not CommitteeAccessRequest.objects.exists()

    def test_only_committee_members_can_be_named(self, world):
        with pytest.raises(ValidationError, match="Only committee members"):
            ask(world, world["granted"], members=[world["senior"]])

    def test_default_expiry_is_the_end_of_the_meeting_day_in_london(self, world):
        meeting = MeetingFactory(held_on=datetime.date(2031, 7, 3))
        request = ask(world, world["granted"], meeting=meeting)
        local = timezone.localtime(request.expires_at)
        assert (local.date(), local.time()) == (meeting.held_on, datetime.time(23, 59, 59))
        assert str(local.tzinfo) == "Europe/London"
        # 23:59:59 BST is 22:59:59 UTC.
        assert request.expires_at.astimezone(datetime.UTC).hour == 22

    def test_default_expiry_without_a_meeting_is_the_end_of_today(self, world):
        request = ask(world, world["granted"])
        local = timezone.localtime(request.expires_at)
        assert local.date() == timezone.localdate()
        assert local.time() == datetime.time(23, 59, 59)

    def test_a_chosen_end_date(self, client, world):
        client.force_login(world["officer"])
        day = timezone.localdate() + datetime.timedelta(days=3)
        client.post(
            reverse("committee_access_new"),
            {
                "decision": "Item 4",
                "reason": "Needed.",
                "members": [world["member"].pk],
                "items": "records.person:%d" % world["granted"].pk,
                "ends_day": day.day,
                "ends_month": day.month,
                "ends_year": day.year,
                "action": "send",
            },
        )
        assert timezone.localtime(CommitteeAccessRequest.objects.get().expires_at).date() == day

    def test_kinds_come_from_the_data_map(self):
        keys = {kind.key for kind in grants.record_kinds()}
        assert {
            "records.person",
            "records.document",
            "records.contactrecord",
            "records.contractorbid",
        } <= keys
        assert not any(key.startswith("access.") for key in keys)


class TestAudit:
    def test_each_item_read_writes_one_access_entry(self, client, world, access_entries):
        dpo = world["dpo"]
        document = upload(world["granted"], dpo)
        bid = ContractorBidFactory(price=Decimal("99000.00"), contract_title="Lift renewal")
        granted = [world["granted"], document, world["contact"], bid]
        approved(world, *granted, requested_by=dpo)
        body = papers(client, world["member"])
        assert "Transfer panel report" in body
        assert "Complained about the lift" in body
        assert "Lift renewal" in body
        assert "99,000.00" in body
        for obj in granted:
            assert access_entries(obj).filter(actor=world["member"]).count() == 1, obj
        assert not access_entries(world["neighbour"]).exists()
        assert ContractorBid.objects.visible_to(world["member"]).get() == bid

    def test_grant_page_shows_who_opened_what_and_when(self, client, world):
        request = approved(world, world["granted"])
        papers(client, world["member"])
        client.force_login(world["officer"])
        body = client.get(reverse("committee_access_detail", args=[request.pk])).content.decode()
        assert "Who opened what and when" in body
        assert "Mo Member" in body
        assert "Grainne Grantedperson" in body
        reads = list(grants.reads_under(request))
        assert [(r.actor, r.object_pk) for r in reads] == [
            (world["member"], str(world["granted"].pk))
        ]

    def test_reads_by_staff_are_not_reads_under_the_grant(self, client, world):
        request = approved(world, world["granted"])
        client.force_login(world["officer"])
        client.get(reverse("person_detail", args=[world["granted"].pk]))
        assert not grants.reads_under(request).exists()


class TestPagesAndPanels:
    def test_other_staff_cannot_see_a_request(self, client, world):
        request = ask(world, world["granted"])
        client.force_login(user_with_role(Role.HOUSING_OFFICER))
        response = client.get(reverse("committee_access_detail", args=[request.pk]))
        assert response.status_code == 404
        assert b"Grantedperson" not in response.content

    def test_grant_page_hides_labels_the_viewer_cannot_see(self, client, world):
        bid = ContractorBidFactory(contract_title="Secret roof tender")
        request = approved(world, bid, requested_by=world["dpo"])
        client.force_login(world["senior"])
        body = client.get(reverse("committee_access_detail", args=[request.pk])).content.decode()
        assert "Secret roof tender" not in body
        assert "outside the records you can see" in body

    def test_lists_for_deciders_and_requesters(self, client, world, django_assert_max_num_queries):
        pending = ask(world, world["granted"], decision="Item 7: pending one")
        live = approved(world, world["granted"], decision="Item 8: live one")
        client.force_login(world["senior"])
        with django_assert_max_num_queries(12):
            body = client.get(reverse("committee_access_list")).content.decode()
        assert "Item 7: pending one" in body
        assert "Item 8: live one" in body
        client.force_login(user_with_role(Role.HOUSING_OFFICER))
        body = client.get(reverse("committee_access_list")).content.decode()
        assert "Item 7" not in body
        assert "Item 8" not in body
        assert pending.pk != live.pk

    def test_list_queries_do_not_grow(self, client, world, queries_do_not_grow):
        client.force_login(world["senior"])

        def add(n):
            for _ in range(n):
                ask(world, world["granted"], members=[world["member"], world["other_member"]])

        response = queries_do_not_grow(client, reverse("committee_access_list"), add)
        assert response.status_code == 200

    def test_dashboard_panels(self, world):
        ask(world, world["granted"])
        decider_panel = [p for p in panels_for(world["dpo"]) if "waiting" in p.title]
        assert decider_panel[0].count == 1
        assert not [p for p in panels_for(world["officer"]) if "waiting" in p.title]
        approved(world, world["granted"], world["contact"])
        member_panel = [p for p in panels_for(world["member"]) if p.title.startswith("Papers")]
        assert member_panel[0].title == "Papers for meeting: 2 items"
        assert member_panel[0].url == reverse("committee_papers")
        assert [p for p in panels_for(world["other_member"]) if p.title.startswith("Papers")][
            0
        ].count == 0

    def test_dashboard_shows_the_member_their_papers_count(self, client, world):
        approved(world, world["granted"])
        client.force_login(world["member"])
        body = client.get(reverse("dashboard")).content.decode()
        assert "Papers for meeting: 1 item" in body
        assert "Grantedperson" not in body
