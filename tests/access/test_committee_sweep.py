"""A committee member across every URL pattern: nothing without a grant; with one, exactly the
granted records and only on the papers page; nothing again once it is revoked or has expired.

Every route the project serves is requested (objects of every kind, the member's own meeting and
report copy included) and every response body is searched for every person's name, NI number and
the confidential canaries.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import CommitteeAccessRequest
from access.roles import Role
from access.services import grants
from tests.access.matrix_world import BREACH_STEP_URLS, OTHER, OWN, UNASSIGNED, build_world
from tests.factories import (
    DataSharingAgreementFactory,
    DisclosureDecisionFactory,
    DisclosureEvidenceFactory,
    DisposalCandidateFactory,
    DisposalCertificateFactory,
    EmergencyAccessFactory,
    IdentityEvidenceFactory,
    LegalHoldFactory,
    MeetingFactory,
    ReportCopyFactory,
    SarRedactionFactory,
    SubjectAccessRequestFactory,
    WorkOrderFactory,
    user_with_role,
)
from tests.urlwalk import all_routes

MINUTES_CANARY = "CANARY-CONFIDENTIAL-MINUTE"
REPORT_CANARY = "CANARY-REPORT-BODY"
DISCLOSURE_CANARY = "CANARY-DISCLOSURE-PURPOSE"
RIGHTS_CANARY = "CANARY-RIGHTS-REQUEST-DETAILS"
BREACH_CANARY = "CANARY-BREACH-SUMMARY"
# Where a granted record may be shown to a member: the papers and their home-page count.
PAPERS_PAGES = {"committee_papers", "committee_paper_download"}


@pytest.fixture
def sweep(db):
    world = build_world()
    member = world["users"][Role.COMMITTEE_MEMBER]
    senior = world["users"][Role.SENIOR_OFFICER]
    officer = world["users"][Role.HOUSING_OFFICER]
    dpo = world["users"][Role.DATA_PROTECTION_LEAD]
    absent_meeting = MeetingFactory(confidential_minutes=MINUTES_CANARY)
    copy = ReportCopyFactory(report__body=REPORT_CANARY, member=member)
    copy.report.meeting.attendees.add(member)
    emergency = EmergencyAccessFactory(user=officer, target=world["people"][OTHER])
    from access.services.compliance import start_access_review

    review = start_access_review(started_by=dpo, period="Sweep")
    own = world["people"][OWN]
    grant = grants.committee_access_request(
        requested_by=officer,
        decision="Item 4: management transfer",
        reason="The committee decides transfers and must know who is asking.",
        members=[member],
        items=[
            ("records.person", own.pk),
            ("records.document", world["objects"]["document"][OWN].pk),
        ],
    )
    evidence = DisclosureEvidenceFactory(
        request__person=own, request__logged_by=officer, request__purpose=DISCLOSURE_CANARY
    )
    DisclosureDecisionFactory(request=evidence.request)
    disclosure = evidence.request.pk
    agreement = DataSharingAgreementFactory()
    work_order = WorkOrderFactory(person=own, agreement=agreement)
    from disclosures.models import InformationEnquiry

    enquiry = InformationEnquiry.objects.create(
        enquirer="A neighbour at number 6",
        question="When will the roof over the stairwell be fixed?",
        response=InformationEnquiry.Response.ANSWERED,
        response_details="Scaffolding goes up on Monday.",
        answered_by=officer,
    )
    rights = SubjectAccessRequestFactory(person=own, details=RIGHTS_CANARY)
    redaction = SarRedactionFactory(item__bundle__request=rights)
    item, bundle = redaction.item, redaction.item.bundle
    evidence_for_rights = IdentityEvidenceFactory(request=rights)
    from access.services import breaches, dpia

    breach = breaches.report_breach(reported_by=officer, summary=BREACH_CANARY)
    assessment = dpia.create_assessment(
        user=dpo, values={"title": "Sweep DPIA", "description": "x", "risks": BREACH_CANARY}
    )
    from tmo.retention_models import RetentionRule

    disposal_row = DisposalCandidateFactory(
        model_label="records.person", object_id=str(world["people"][OTHER].pk)
    )
    hold = LegalHoldFactory(model_label="records.person", object_id=str(own.pk))
    certificate = DisposalCertificateFactory()
    args = {
        "person": own.pk,
        **dict.fromkeys(
            (
                "sar_request_detail",
                "sar_request_identity",
                "sar_request_stop",
                "sar_request_restart",
                "sar_request_extend",
                "sar_request_assign",
                "sar_request_complete",
                "sar_request_match",
                "sar_request_ask_authority",
                "sar_rights_erase",
                "sar_rights_rectify",
                "sar_rights_restrict",
                "sar_rights_lift",
                "sar_request_review",
                "portal_request_review",
                "sar_bundle_start",
                "portal_request_detail",
                "portal_request_message",
                "portal_request_evidence",
                "portal_bundle_download",
                "portal_staff_messages",
            ),
            rights.pk,
        ),
        **dict.fromkeys(
            (
                "sar_bundle_review",
                "sar_bundle_review_complete",
                "sar_bundle_include_pending",
                "sar_bundle_sign_off",
                "sar_bundle_progress",
                "sar_bundle_retry",
                "sar_bundle_download",
            ),
            bundle.pk,
        ),
        "sar_bundle_item_decide": item.pk,
        "sar_bundle_item_redact": item.pk,
        "sar_bundle_redaction_decide": redaction.pk,
        "portal_staff_evidence": evidence_for_rights.pk,
        "portal_activation_code_issue": own.pk,
        "equality_answers": own.pk,
        "portal_activate_email_confirm": "not-a-real-token",
        "portal_request_confirm": "not-a-real-token",
        "disclosure_evidence": evidence.pk,
        **dict.fromkeys(
            (
                "disclosure_detail",
                "disclosure_override",
                "disclosure_decide",
                "disclosure_dpo_approve",
                "disclosure_send",
                "disclosure_pack",
                "disclosure_person_told",
            ),
            disclosure,
        ),
        "agreement_detail": agreement.pk,
        "agreement_edit": agreement.pk,
        "work_order_detail": work_order.pk,
        "work_order_pdf": work_order.pk,
        "enquiry_detail": enquiry.pk,
        "committee_paper_download": world["objects"]["document"][OWN].pk,
        "access_review_detail": review.pk,
        "access_review_decide": review.items.first().pk,
        "emergency_review_detail": emergency.pk,
        **dict.fromkeys(
            ("breach_detail", *BREACH_STEP_URLS),
            breach.pk,
        ),
        **dict.fromkeys(("dpia_detail", "dpia_edit", "dpia_sign_off"), assessment.pk),
        "committee_access_detail": grant.pk,
        "committee_access_decide": grant.pk,
        "committee_access_revoke": grant.pk,
        "meeting_detail": absent_meeting.pk,
        "meeting_edit": absent_meeting.pk,
        "meeting_confidential_minutes": absent_meeting.pk,
        "meeting_confidential_minutes_edit": absent_meeting.pk,
        "meeting_report_create": absent_meeting.pk,
        "meeting_report_detail": copy.report.pk,
        "meeting_copy_return": copy.pk,
        "meeting_copy_lost": copy.pk,
        "meeting_copy_print": copy.pk,
        "retention_rule_edit": RetentionRule.objects.get(model_label="records.person").pk,
        "disposal_review_detail": disposal_row.review_id,
        "disposal_review_approve": disposal_row.review_id,
        "disposal_candidate_hold": disposal_row.pk,
        "legal_hold_lift": hold.pk,
        "disposal_certificate_detail": certificate.pk,
        "disposal_certificate_pdf": certificate.pk,
    }
    return {
        "world": world,
        "member": member,
        "senior": senior,
        "grant": grant,
        "args": args,
        "own": own,
    }


def _urls(sweep):
    """Every route as a URL: objects of each kind are the OWN one (the one a grant names)."""
    from tests.access.test_matrix import ROUTES

    world = sweep["world"]
    for route in all_routes():
        name = route.name
        if name in {"login", "logout"} or not name:
            continue
        if "<" not in route.pattern:
            yield name, reverse(name)
            continue
        if name in sweep["args"]:
            yield name, reverse(name, args=[sweep["args"][name]])
            continue
        if name.startswith("admin:"):
            continue  # the admin site is walked in tests/tmo/test_admin.py
        kind = ROUTES[name][1]
        for variant, obj in world["objects"][kind].items():
            yield "%s[%s]" % (name, variant), reverse(name, args=[obj.pk])


def _walk(client, sweep):
    """name -> response body, for every route; fails on any server error."""
    bodies = {}
    for name, url in _urls(sweep):
        response = client.get(url)
        assert response.status_code in {200, 302, 403, 404, 405}, (name, response.status_code)
        bodies[name] = response.content.decode(errors="replace")
    return bodies


def _never_shown(sweep) -> list[str]:
    people = sweep["world"]["people"]
    secrets = [MINUTES_CANARY, REPORT_CANARY, DISCLOSURE_CANARY, RIGHTS_CANARY, BREACH_CANARY]
    for key in (OTHER, UNASSIGNED):
        secrets += [people[key].last_name, people[key].ni_number]
    secrets += [r.person.last_name for r in sweep["world"]["hr"].values()]
    secrets += [people[OWN].ni_number]  # not even a grant shows an NI number to the committee
    return secrets


def _pages_showing(bodies, text) -> set[str]:
    return {name.split("[")[0] for name, body in bodies.items() if text in body}


def test_without_a_grant_a_member_sees_no_record_anywhere(client, sweep):
    client.force_login(sweep["member"])
    bodies = _walk(client, sweep)
    for secret in _never_shown(sweep) + [sweep["own"].last_name]:
        assert _pages_showing(bodies, secret) == set(), secret


def test_with_a_grant_exactly_the_granted_records_on_the_papers_page(client, sweep):
    grants.committee_access_approve(
        decided_by=sweep["senior"], request=sweep["grant"], reason="Needed for item 4."
    )
    client.force_login(sweep["member"])
    bodies = _walk(client, sweep)
    for secret in _never_shown(sweep):
        assert _pages_showing(bodies, secret) == set(), secret
    assert _pages_showing(bodies, sweep["own"].last_name) == {"committee_papers"}
    download = client.get(
        reverse("committee_paper_download", args=[sweep["args"]["committee_paper_download"]])
    )
    assert download.status_code == 200


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_after_revocation_or_expiry_nothing_again(client, sweep, ending):
    grant = grants.committee_access_approve(
        decided_by=sweep["senior"], request=sweep["grant"], reason="Needed for item 4."
    )
    if ending == "revoked":
        grants.committee_access_revoke(
            revoked_by=sweep["senior"], request=grant, reason="Decision taken."
        )
    else:
        CommitteeAccessRequest.objects.filter(pk=grant.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    client.force_login(sweep["member"])
    bodies = _walk(client, sweep)
    for secret in _never_shown(sweep) + [sweep["own"].last_name]:
        assert _pages_showing(bodies, secret) == set(), secret
    download = client.get(
        reverse("committee_paper_download", args=[sweep["args"]["committee_paper_download"]])
    )
    assert download.status_code == 404


def test_a_grant_for_another_member_shows_this_member_nothing(client, sweep):
    grants.committee_access_approve(
        decided_by=sweep["senior"], request=sweep["grant"], reason="Needed for item 4."
    )
    bystander = user_with_role(Role.COMMITTEE_MEMBER)
    client.force_login(bystander)
    bodies = _walk(client, sweep)
    assert _pages_showing(bodies, sweep["own"].last_name) == set()
