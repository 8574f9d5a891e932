"""The authorization matrix: every URL pattern, every role, own / other / unassigned objects.

For each route the table below says which roles the page is for and what kind of object it takes;
VISIBLE says, per object kind and role, which of the three objects that role may reach. The
expected outcome of every request follows from those two tables, written out by hand here so that
a change to a view's decorator or a policy shows up as a failure. A route missing from ROUTES fails.
Every response body is also searched for the names and NI numbers of people the role must not see.
"""

import pytest
from django.urls import reverse

from access.roles import Role
from tests.access.matrix_world import (
    ALL_ROLES,
    BREACH_STEP_URLS,
    OTHER,
    OWN,
    UNASSIGNED,
    build_world,
)
from tests.urlwalk import all_routes

R = Role
STAFF = {
    R.HOUSING_OFFICER,
    R.REPAIRS_OFFICER,
    R.FINANCE_OFFICER,
    R.HR_OFFICER,
    R.CONTRACTS_OFFICER,
    R.SENIOR_OFFICER,
    R.DATA_PROTECTION_LEAD,
}
RESIDENT_WORK = {
    R.HOUSING_OFFICER,
    R.REPAIRS_OFFICER,
    R.FINANCE_OFFICER,
    R.SENIOR_OFFICER,
    R.DATA_PROTECTION_LEAD,
}
EVERYONE = set(ALL_ROLES)

# Which of the three objects of each kind a role can reach through the policies.
RESIDENT_VISIBILITY = {
    R.HOUSING_OFFICER: {OWN},
    R.REPAIRS_OFFICER: {OWN},
    R.FINANCE_OFFICER: {OWN, OTHER},
    R.SENIOR_OFFICER: {OWN, OTHER},
    R.DATA_PROTECTION_LEAD: {OWN, OTHER, UNASSIGNED},
}
VISIBLE = {
    "person": RESIDENT_VISIBILITY,
    "contact": RESIDENT_VISIBILITY,
    "document": RESIDENT_VISIBILITY,
    "tenancy": {
        R.HOUSING_OFFICER: {OWN},
        R.REPAIRS_OFFICER: {OWN},
        R.FINANCE_OFFICER: {OWN, OTHER},
        R.SENIOR_OFFICER: {OWN, OTHER},
        R.DATA_PROTECTION_LEAD: {OWN, OTHER},
    },
    "property": {role: {OWN, OTHER} for role in STAFF},
    "staff_record": {R.HR_OFFICER: {OWN, OTHER}, R.DATA_PROTECTION_LEAD: {OWN, OTHER}},
    "job_application": {R.HR_OFFICER: {OWN, OTHER}, R.DATA_PROTECTION_LEAD: {OWN, OTHER}},
    "contractor": {R.CONTRACTS_OFFICER: {OWN, OTHER}, R.DATA_PROTECTION_LEAD: {OWN, OTHER}},
}

# route name -> (roles the page is for, kind of object in the URL or None)
ROUTES = {
    "dashboard": (EVERYONE, None),
    "login": (EVERYONE, None),
    "logout": (EVERYONE, None),
    "two_factor_verify": (EVERYONE, None),
    "two_factor_setup": (EVERYONE, None),
    "two_factor_recovery_codes": (EVERYONE, None),
    "account_security": (EVERYONE, None),
    "account_sign_out_everywhere": (EVERYONE, None),
    "account_recovery_codes_new": (EVERYONE, None),
    "data_map": ({R.DATA_PROTECTION_LEAD, R.SENIOR_OFFICER}, None),
    "person_search": (RESIDENT_WORK, None),
    "person_create": (RESIDENT_WORK, None),
    "reconfirmation_list": (RESIDENT_WORK, None),
    "person_detail": (STAFF, "person"),
    "person_edit": (RESIDENT_WORK, "person"),
    "contact_details_confirm": (RESIDENT_WORK, "person"),
    "marker_create": (RESIDENT_WORK, "person"),
    "representative_create": (RESIDENT_WORK, "person"),
    "sensitive_information_create": (
        {R.HOUSING_OFFICER, R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD},
        "person",
    ),
    "person_timeline": (STAFF, "person"),
    "contact_record_create": (RESIDENT_WORK, "person"),
    "contact_record_detail": (STAFF, "contact"),
    "document_upload": (RESIDENT_WORK, "person"),
    "document_download": (STAFF, "document"),
    "tenancy_list": (RESIDENT_WORK, None),
    "tenancy_detail": (RESIDENT_WORK, "tenancy"),
    "household_member_add": (RESIDENT_WORK, "tenancy"),
    "property_detail": (STAFF, "property"),
    "hr_home": ({R.HR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "staff_record_detail": ({R.HR_OFFICER, R.DATA_PROTECTION_LEAD}, "staff_record"),
    "job_application_detail": ({R.HR_OFFICER, R.DATA_PROTECTION_LEAD}, "job_application"),
    "contractor_list": ({R.CONTRACTS_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "contractor_detail": ({R.CONTRACTS_OFFICER, R.DATA_PROTECTION_LEAD}, "contractor"),
    "meeting_list": (STAFF | {R.COMMITTEE_MEMBER}, None),
    "meeting_create": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "meeting_copies_outstanding": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "emergency_access_start": (STAFF, None),
    "emergency_review_list": ({R.DATA_PROTECTION_LEAD}, None),
    "breach_report": (EVERYONE - {R.TENANT}, None),
    "breach_list": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "dpia_list": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "dpia_create": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "portal_data_problem": ({R.TENANT}, None),
    "audit_search": ({R.DATA_PROTECTION_LEAD}, None),
    "audit_search_csv": ({R.DATA_PROTECTION_LEAD}, None),
    "committee_access_list": (STAFF, None),
    "committee_access_new": (STAFF, None),
    "committee_papers": ({R.COMMITTEE_MEMBER}, None),
    "committee_paper_download": ({R.COMMITTEE_MEMBER}, "document"),
    "compliance_status": (EVERYONE, None),
    "compliance_code": (EVERYONE, None),
    "compliance_code_publish": ({R.DATA_PROTECTION_LEAD}, None),
    "compliance_training": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "compliance_training_record": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "compliance_module_create": ({R.DATA_PROTECTION_LEAD}, None),
    "published_inventory": (EVERYONE, None),
    "published_inventory_pdf": (EVERYONE, None),
    "published_code": (STAFF | {R.COMMITTEE_MEMBER}, None),
    "published_code_pdf": (STAFF | {R.COMMITTEE_MEMBER}, None),
    "published_code_check": ({R.DATA_PROTECTION_LEAD}, None),
    "equality_answers": ({R.HOUSING_OFFICER, R.DATA_PROTECTION_LEAD}, "person"),
    "equality_figures": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD, R.COMMITTEE_MEMBER}, None),
    "equality_figures_csv": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD, R.COMMITTEE_MEMBER}, None),
    "retention_schedule": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "disposal_review_list": ({R.DATA_PROTECTION_LEAD}, None),
    "disposal_sweep_now": ({R.DATA_PROTECTION_LEAD}, None),
    "legal_hold_list": ({R.DATA_PROTECTION_LEAD}, None),
    "disposal_certificate_list": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "access_review_list": ({R.DATA_PROTECTION_LEAD}, None),
    "agreement_list": (STAFF, None),
    "agreement_create": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "work_order_list": (
        {R.REPAIRS_OFFICER, R.HOUSING_OFFICER, R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD},
        None,
    ),
    "work_order_create": (
        {R.REPAIRS_OFFICER, R.HOUSING_OFFICER, R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD},
        "tenancy",
    ),
    "enquiry_list": (STAFF, None),
    "enquiry_create": (STAFF, None),
    "disclosure_register": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "disclosure_register_csv": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "disclosure_register_pdf": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "disclosure_figures": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD, R.COMMITTEE_MEMBER}, None),
    "disclosure_list": (STAFF, None),
    "disclosure_log": (STAFF, None),
    "sar_request_list": (STAFF, None),
    "sar_request_log": (STAFF, None),
    "sar_register": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "sar_register_csv": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "sar_register_pdf": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD}, None),
    "sar_figures": ({R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD, R.COMMITTEE_MEMBER}, None),
    "portal_home": ({R.TENANT}, None),
    "portal_request_new": ({R.TENANT}, None),
    "portal_activate": (EVERYONE, None),
    "portal_activate_email": (EVERYONE, None),
    "portal_request_form": (EVERYONE, None),
    "portal_activation_code_issue": (
        {R.HOUSING_OFFICER, R.SENIOR_OFFICER, R.DATA_PROTECTION_LEAD},
        "person",
    ),
}
# Routes taking an object kind the matrix does not build: route name -> the test file that checks
# who may reach them.
COVERED_ELSEWHERE = {
    "disclosure_detail": "tests/disclosures/test_requests.py",
    "disclosure_evidence": "tests/disclosures/test_requests.py",
    "disclosure_override": "tests/disclosures/test_requests.py",
    "disclosure_decide": "tests/disclosures/test_requests.py",
    "disclosure_dpo_approve": "tests/disclosures/test_requests.py",
    "disclosure_send": "tests/disclosures/test_requests.py",
    "disclosure_pack": "tests/disclosures/test_requests.py",
    "disclosure_person_told": "tests/disclosures/test_requests.py",
    "access_review_detail": "tests/access/test_access_review.py",
    "access_review_decide": "tests/access/test_access_review.py",
    "meeting_detail": "tests/access/test_meetings.py",
    "meeting_edit": "tests/access/test_meetings.py",
    "meeting_confidential_minutes": "tests/access/test_meetings.py",
    "meeting_confidential_minutes_edit": "tests/access/test_meetings.py",
    "meeting_report_create": "tests/access/test_meetings.py",
    "meeting_report_detail": "tests/access/test_meetings.py",
    "meeting_copy_return": "tests/access/test_meetings.py",
    "meeting_copy_lost": "tests/access/test_meetings.py",
    "meeting_copy_print": "tests/access/test_meetings.py",
    "emergency_review_detail": "tests/access/test_emergency.py",
    **dict.fromkeys(
        ("breach_detail", *BREACH_STEP_URLS),
        "tests/access/test_breaches.py",
    ),
    **dict.fromkeys(("dpia_detail", "dpia_edit", "dpia_sign_off"), "tests/access/test_dpia.py"),
    "retention_rule_edit": "tests/tmo/test_retention_schedule.py",
    "disposal_review_detail": "tests/tmo/test_disposal.py",
    "disposal_review_approve": "tests/tmo/test_disposal.py",
    "disposal_candidate_hold": "tests/tmo/test_disposal.py",
    "legal_hold_lift": "tests/tmo/test_disposal.py",
    "disposal_certificate_detail": "tests/tmo/test_disposal.py",
    "disposal_certificate_pdf": "tests/tmo/test_disposal.py",
    "committee_access_detail": "tests/access/test_grants.py",
    "committee_access_decide": "tests/access/test_grants.py",
    "committee_access_revoke": "tests/access/test_grants.py",
    "agreement_detail": "tests/disclosures/test_sharing.py",
    "agreement_edit": "tests/disclosures/test_sharing.py",
    "work_order_detail": "tests/disclosures/test_sharing.py",
    "work_order_pdf": "tests/disclosures/test_sharing.py",
    "enquiry_detail": "tests/disclosures/test_sharing.py",
    "sar_request_detail": "tests/sar/test_requests.py",
    "sar_request_identity": "tests/sar/test_requests.py",
    "sar_request_stop": "tests/sar/test_requests.py",
    "sar_request_restart": "tests/sar/test_requests.py",
    "sar_request_extend": "tests/sar/test_requests.py",
    "sar_request_assign": "tests/sar/test_requests.py",
    "sar_request_complete": "tests/sar/test_requests.py",
    "sar_request_match": "tests/sar/test_match.py",
    "sar_request_ask_authority": "tests/sar/test_match.py",
    "sar_rights_erase": "tests/sar/test_rights.py",
    "sar_rights_rectify": "tests/sar/test_rights.py",
    "sar_rights_restrict": "tests/sar/test_rights.py",
    "sar_rights_lift": "tests/sar/test_rights.py",
    "sar_request_review": "tests/sar/test_complaints.py",
    "portal_request_review": "tests/sar/test_complaints.py",
    "sar_bundle_start": "tests/sar/test_bundle.py",
    "sar_bundle_review": "tests/sar/test_bundle.py",
    "sar_bundle_item_decide": "tests/sar/test_bundle.py",
    "sar_bundle_item_redact": "tests/sar/test_bundle.py",
    "sar_bundle_redaction_decide": "tests/sar/test_bundle.py",
    "sar_bundle_review_complete": "tests/sar/test_bundle.py",
    "sar_bundle_include_pending": "tests/sar/test_bundle.py",
    "sar_bundle_sign_off": "tests/sar/test_bundle.py",
    "sar_bundle_progress": "tests/sar/test_bundle.py",
    "sar_bundle_retry": "tests/sar/test_bundle.py",
    "sar_bundle_download": "tests/sar/test_bundle.py",
    "portal_activate_email_confirm": "tests/sar/test_portal.py",
    "portal_request_confirm": "tests/sar/test_portal.py",
    "portal_request_detail": "tests/sar/test_portal.py",
    "portal_request_message": "tests/sar/test_portal.py",
    "portal_request_evidence": "tests/sar/test_portal.py",
    "portal_bundle_download": "tests/sar/test_portal.py",
    "portal_staff_messages": "tests/sar/test_portal.py",
    "portal_staff_evidence": "tests/sar/test_portal.py",
}
# Pages that answer a GET by redirecting (POST-only actions, sign-out).
REDIRECTING = {
    "contact_details_confirm",
    "logout",
    # Sign-in steps already done, and POST-only account actions.
    "two_factor_verify",
    "two_factor_setup",
    "two_factor_recovery_codes",
    "account_sign_out_everywhere",
    "account_recovery_codes_new",
    # Runs the retention sweep on POST only.
    "disposal_sweep_now",
}


@pytest.fixture
def world(db):
    return build_world()


def _secrets_hidden_from(role, world) -> list[str]:
    """Names and NI numbers of people this role must never be shown."""
    hidden = []
    visible_residents = RESIDENT_VISIBILITY.get(role, set())
    for key, person in world["people"].items():
        if key not in visible_residents:
            hidden += [person.last_name, person.ni_number]
    if role not in {R.HR_OFFICER, R.DATA_PROTECTION_LEAD}:
        hidden += [r.person.last_name for r in world["hr"].values()]
        hidden += [a.person.last_name for a in world["applicants"].values()]
    return hidden


def test_every_route_is_in_the_matrix():
    names = {route.name for route in all_routes() if not route.name.startswith("admin:")}
    assert names - set(ROUTES) - set(COVERED_ELSEWHERE) == set(), "routes missing from the matrix"
    assert (set(ROUTES) | set(COVERED_ELSEWHERE)) - names == set(), (
        "matrix lists routes that no longer exist"
    )


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
def test_matrix(role, world, client):
    user = world["users"][role]
    client.force_login(user)
    hidden = _secrets_hidden_from(role, world)
    failures = []
    for name, (roles, kind) in ROUTES.items():
        if name in {"login", "logout"}:
            continue
        variants = [None] if kind is None else list(world["objects"][kind])
        for variant in variants:
            if kind is None:
                url = reverse(name)
                allowed = role in roles
            else:
                url = reverse(name, args=[world["objects"][kind][variant].pk])
                allowed = role in roles and variant in VISIBLE[kind].get(role, set())
            response = client.get(url)
            if allowed:
                expected = {302} if name in REDIRECTING else {200}
            elif role not in roles:
                expected = {403, 404}
            else:
                expected = {404}
            if response.status_code not in expected:
                failures.append(
                    "%s %s: got %s, expected %s" % (name, variant, response.status_code, expected)
                )
            body = response.content.decode(errors="replace")
            for secret in hidden:
                if secret in body:
                    failures.append("%s %s: body shows %r" % (name, variant, secret))
    assert failures == []
