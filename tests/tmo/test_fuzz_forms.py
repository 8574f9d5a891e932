"""Every POST endpoint, driven with random and hostile input by hypothesis.

The demo organisation (plus the few kinds of record it does not seed) is crawled as each role in
turn; every POST form found is read as a browser would and its endpoint remembered with the role
that reached it. Each endpoint is then sent submissions mixing the values the form offers with
over-long, control-character (NUL included: PostgreSQL text refuses it), markup, SQL and
wrong-type values, dropped and repeated fields, wrong content types and files whose names and
contents lie. Endpoints with no form of their own (action buttons reached by GET) are sent the
same hostile values as extra fields. Each submission runs in a savepoint that is rolled back, so
every one starts from the same world. The properties:

- never a server error: no 5xx, no exception out of the view;
- a rejection says why: a re-rendered form carries the GOV.UK error summary, a 4xx has text;
- nothing half-written: a rejected submission changes no row in the project's apps or the audit
  log beyond what merely viewing the page writes (its access entries), and no submission leaves
  a file in the store that no row names.
"""

import io
import json
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from access.roles import Role
from access.services import breaches, compliance, dpia, grants
from records.management.commands import seed_demo
from records.models import Document
from sar.services import bundles
from tests import fuzzing
from tests.assurance import record
from tests.factories import (
    DisclosureEvidenceFactory,
    DisclosureRequestFactory,
    DisposalCandidateFactory,
    DisposalCertificateFactory,
    EmergencyAccessFactory,
    IdentityEvidenceFactory,
    InternalReviewFactory,
    LegalHoldFactory,
    PortalMessageFactory,
    PortalRequestFactory,
    ReportCopyFactory,
    SarRedactionFactory,
    SubjectAccessRequestFactory,
    user_with_role,
)
from tests.urlwalk import all_routes
from tmo import filestore

pytestmark = [pytest.mark.django_db, pytest.mark.assurance]

EXAMPLES = 4
# A browser sends forms as these; a body in another type reaches the view as an empty form, which
# it shows again unfilled. That is no answer to a person, but no person sends one: such bodies
# are held to the other properties only.
FORM_ENCODINGS = {"multipart", "urlencoded"}
# Accounts signed in with a password only: one with no authenticator app yet, one with.
SIGNING_IN = ("newcomer", "returning")
ROLES = [
    None,  # signed out first, so the public forms are fuzzed as the public uses them
    "dpo",
    "senior",
    "housing",
    "repairs",
    "finance",
    "hr",
    "contracts",
    "committee",
    "tenant",
    "admin",
    *SIGNING_IN,
]
# POST routes this test does not reach, and why. Asserted exactly: a new route fails the test
# until it is fuzzed here or listed with its reason.
NOT_FUZZED = {
    **dict.fromkeys(
        (
            "disclosure_dpo_approve",
            "disclosure_override",
            "disclosure_pack",
            "disclosure_person_told",
            "disclosure_send",
        ),
        "needs a disclosure decided to that stage; tests/disclosures/test_requests.py posts it",
    ),
    **dict.fromkeys(
        ("sar_bundle_sign_off", "sar_bundle_progress", "sar_bundle_retry", "sar_bundle_download"),
        "needs a bundle reviewed, built on commit or failed; tests/sar/test_bundle.py",
    ),
    "portal_bundle_download": "needs a signed-off bundle; tests/sar/test_portal.py",
    "breach_close": "needs every earlier step of a breach recorded; tests/access/test_breaches.py",
    "committee_paper_download": "a download (GET) behind an approved grant with a document",
    "portal_staff_evidence": "a download (GET) linked only from a request awaiting identity",
    "portal_activate_email_confirm": "reached only by the signed link sent by email",
    "portal_request_confirm": "reached only by the signed link sent by email",
    "portal_activation_code_issue": "offered only on the page of a resident with no account",
    "sar_request_restart": "offered only once a clock stop is recorded; tests/sar/test_requests.py",
    "sar_rights_lift": "offered only once a restriction is in place; tests/sar/test_rights.py",
    "two_factor_recovery_codes": "shows the codes once after set-up; takes no input",
}
# Sign-out routes end the session the crawl runs in; they are fuzzed, but never crawled by GET.
NOT_CRAWLED = {"logout", "account_sign_out_everywhere"}


RIGHTS = ("erasure", "rectification", "restriction")
# The page of each record the world makes, where the crawl starts.
DETAIL_PAGES = {
    "access.Breach": "breach_detail",
    "access.AccessReview": "access_review_detail",
    "access.CommitteeAccessRequest": "committee_access_detail",
    "access.ImpactAssessment": "dpia_detail",
    "sar.SubjectAccessRequest": "sar_request_detail",
    "sar.Bundle": "sar_bundle_review",
    "disclosures.DisclosureRequest": "disclosure_detail",
    "records.Person": "person_detail",
}


AUDIT_KEYS = {
    "auditlog.LogEntry",
    fuzzing.ACCESS_ENTRIES,
    "tmo.AuditChainLink",
    "tmo.AuditChainHead",
}
GOVUK = "govuk-error-summary"
ADMIN = "errornote"  # the administrators' site keeps Django's own error note
ADMIN_ADD_FORMS = ("records/patch", "records/property", "auth/group")


class _Undo(Exception):
    pass


def rolled_back(action):
    """Run `action` in a savepoint that is always rolled back, and return what it returned."""
    outcome = {}
    try:
        with transaction.atomic():
            outcome["value"] = action()
            raise _Undo
    except _Undo:
        pass
    return outcome["value"]


def route_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def build_world():
    """The demo organisation, plus records in the states whose pages carry the remaining forms,
    made as the services make them. Returns the demo users and the pages where the crawl starts."""
    call_command("seed_demo", homes=20, stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    tenant = users["tenant"]
    resident = tenant.resident_link.person
    own = SubjectAccessRequestFactory(person=resident, requester_email=tenant.email)
    PortalRequestFactory(request=own, account=tenant)
    IdentityEvidenceFactory(request=own)
    PortalMessageFactory(request=own)
    complaint = InternalReviewFactory(request__person=resident)
    SarRedactionFactory()
    ReportCopyFactory(member=users["committee"], issued_by=users["senior"])
    EmergencyAccessFactory(user=users["housing"])
    DisposalCandidateFactory()
    LegalHoldFactory(placed_by=users["dpo"])
    DisposalCertificateFactory(approved_by=users["dpo"])
    evidence = DisclosureEvidenceFactory(
        request=DisclosureRequestFactory(person=resident, reference="DR-FUZZ-1")
    )
    filestore.write_encrypted(evidence.storage_name, fuzzing.PDF)
    disclosure = evidence.request
    made = [
        own,
        complaint.request,
        breaches.report_breach(reported_by=users["housing"], summary="A letter went astray."),
        compliance.start_access_review(started_by=users["dpo"], period="2026 Q4"),
        grants.committee_access_request(
            requested_by=users["dpo"],
            decision="Item 4: transfer",
            reason="The committee decides transfers.",
            members=[users["committee"]],
            items=[("records.person", resident.pk)],
        ),
        dpia.create_assessment(
            user=users["dpo"],
            values={
                "title": "Online repairs booking",
                "description": "Tenants book repairs online.",
                "covers": ["records.person"],
                "risks": "Bookings go to the wrong contractor.",
                "measures": "Only the agreed items go to the contractor.",
                "dpo_advice": "Proceed.",
            },
        ),
        SubjectAccessRequestFactory(status="awaiting_identity", identity_required=True),
        SubjectAccessRequestFactory(status="clock_stopped"),
        bundles.bundle_collect(
            request=SubjectAccessRequestFactory(person=resident), collected_by=users["senior"]
        ),
        disclosure,
        *[SubjectAccessRequestFactory(kind=kind, person=resident) for kind in RIGHTS],
        *[d.person for d in Document.objects.select_related("person")],
    ]
    asked = grants.committee_access_request(
        requested_by=users["dpo"],
        decision="Item 5: arrears",
        reason="The committee decides possession proceedings.",
        members=[users["committee"]],
        items=[("records.person", resident.pk)],
    )
    made.append(
        grants.committee_access_approve(decided_by=users["senior"], request=asked, reason="Item 5.")
    )
    portal = [own]
    for status in ("awaiting_identity", "completed"):
        portal.append(
            SubjectAccessRequestFactory(
                person=resident, status=status, identity_required=status == "awaiting_identity"
            )
        )
        PortalRequestFactory(request=portal[-1], account=tenant)
    starts = [reverse(DETAIL_PAGES[type(obj)._meta.label], args=[obj.pk]) for obj in made]
    starts += [reverse("portal_request_detail", args=[r.pk]) for r in portal]
    # Never signed in by force_login, which gives every account it touches an authenticator app.
    for username in SIGNING_IN:
        user = user_with_role(Role.HR_OFFICER, username=username)
        user.set_password(seed_demo.DEMO_PASSWORD)
        user.save()
        if username == "returning":
            TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return users, starts


def crawl(users, first) -> tuple[dict, dict]:
    """Visit the pages each role can reach: `first` always, otherwise one URL per route per role
    and only routes no role before has answered. Returns route -> (role, url, form) for POST
    forms and route -> (role, url) for pages that answered."""
    forms: dict[str, tuple] = {}
    pages: dict[str, tuple] = {}
    starts = []
    for route in all_routes():
        if route.name.startswith("admin:") or route.name in NOT_CRAWLED or "<" in route.pattern:
            continue
        starts.append(reverse(route.name))
    for role in ROLES:
        client = client_for(role, users)
        seen_routes: set[str] = set()
        seen_urls: set[str] = set()
        queue = list(first) + starts
        while queue:
            url = queue.pop(0)
            name = route_name(url)
            if not name or name.startswith("admin:") or name in NOT_CRAWLED or url in seen_urls:
                continue
            if url not in first and (
                name in seen_routes or (name in pages and name not in forms and role != "dpo")
            ):
                continue
            if url not in first:
                seen_routes.add(name)
            seen_urls.add(url)
            response = client.get(url)
            if response.status_code != 200:
                continue
            pages.setdefault(name, (role, url))
            if "text/html" not in response.get("Content-Type", ""):
                continue
            page_forms, links = fuzzing.read_page(response.content.decode())
            for form in page_forms:
                action = form.action or url
                target = route_name(action)
                if target and target not in forms and not target.startswith("admin:"):
                    forms[target] = (role, urlsplit(action).path or url, form)
            queue += [link for link in links if link.startswith("/")]
    return forms, pages


def client_for(role, users) -> Client:
    client = Client()
    if role in SIGNING_IN:
        # Past the password, not yet past the second factor: the two-factor pages' state.
        response = client.post(
            reverse("login"), {"username": role, "password": seed_demo.DEMO_PASSWORD}
        )
        assert response.status_code == 302
    elif role:
        client.force_login(users[role])
    return client


class Findings:
    def __init__(self):
        self.endpoints = 0
        self.examples = 0
        self.server_errors: list[str] = []
        self.unclear: list[str] = []
        self.half_written: list[str] = []


def judge(findings, label, client, url, items, encoding, has_form, allowed_delta, marker=GOVUK):
    """POST once in a rolled-back savepoint and note any broken property."""
    files_before = fuzzing.stored_files()

    def attempt():
        before = fuzzing.row_counts()
        try:
            response = _post(client, url, items, encoding)
        except Exception as error:  # noqa: BLE001 - any exception out of a view is the finding
            return None, repr(error)[:300], {}, set()
        after = fuzzing.row_counts()
        delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        orphans = fuzzing.stored_files() - files_before - fuzzing.referenced_files()
        return response, None, delta, orphans

    session = client.cookies.get("sessionid")
    cache.clear()
    response, error, delta, orphans = rolled_back(attempt)
    fuzzing.remove_files(fuzzing.stored_files() - files_before)
    if session is not None:
        client.cookies["sessionid"] = session.value
    findings.examples += 1
    shown = "%s %s %r" % (label, encoding, _short(items))
    if error or response.status_code >= 500:
        findings.server_errors.append("%s -> %s" % (shown, error or response.status_code))
        return
    if orphans:
        findings.half_written.append("%s -> orphaned files %s" % (shown, sorted(orphans)))
    status = response.status_code
    if 300 <= status < 400:
        # Accepted (or sent elsewhere with a message): whatever it changed, it audited.
        changed = sorted(k for k in delta if k not in AUDIT_KEYS)
        if changed and delta.get("auditlog.LogEntry", 0) <= 0:
            findings.half_written.append("%s -> changed %s, audited nothing" % (shown, changed))
        return
    body = response.content.decode(errors="replace")
    beyond_viewing = _beyond_viewing(delta, allowed_delta)
    if 400 <= status < 500:
        if not fuzzing.visible_text(body):
            findings.unclear.append("%s -> %s with no text" % (shown, status))
        if beyond_viewing:
            findings.half_written.append("%s -> %s but wrote %s" % (shown, status, beyond_viewing))
        return
    rejected = marker in body
    if rejected and beyond_viewing:
        findings.half_written.append("%s -> refused but wrote %s" % (shown, beyond_viewing))
    elif has_form and not rejected and not beyond_viewing and encoding in FORM_ENCODINGS:
        forms, _ = fuzzing.read_page(body)
        if any(route_name(f.action or url) == route_name(url) for f in forms):
            findings.unclear.append("%s -> form shown again with no error summary" % shown)


def _beyond_viewing(delta, allowed):
    """What a response wrote beyond showing records: each shown record adds one access entry
    and its link in the audit chain."""
    shown = delta.get(fuzzing.ACCESS_ENTRIES, 0)
    beyond = {}
    for label, change in delta.items():
        if label == fuzzing.ACCESS_ENTRIES:
            continue
        limit = allowed.get(label, 0) + (shown if label == "tmo.AuditChainLink" else 0)
        if change > limit or change < 0:
            beyond[label] = change
    return beyond


def _short(items):
    return [(n, (v if isinstance(v, str) else repr(v))[:40]) for n, v in items][:12]


def _post(client, url, items, encoding):
    if encoding == "multipart" or any(isinstance(v, fuzzing.Upload) for _, v in items):
        body, content_type = fuzzing.multipart(items)
        return client.generic("POST", url, body, content_type=content_type)
    if encoding == "urlencoded":
        return client.generic(
            "POST", url, urlencode(items), content_type="application/x-www-form-urlencoded"
        )
    if encoding == "json":
        return client.generic("POST", url, json.dumps(items), content_type="application/json")
    return client.generic("POST", url, "\x00".join(n for n, _ in items), content_type="text/plain")


def viewing_delta(client, url) -> dict[str, int]:
    """What merely showing the page writes (its access entries): a refusal may write as much."""

    def look():
        before = fuzzing.row_counts()
        client.get(url)
        after = fuzzing.row_counts()
        return {k: after[k] - before[k] for k in after if after[k] != before[k]}

    return rolled_back(look)


def fuzz(findings, label, client, url, fields, has_form, examples=EXAMPLES, marker=GOVUK):
    allowed = viewing_delta(client, url)
    findings.endpoints += 1
    encodings = st.sampled_from(["multipart", "multipart", "urlencoded", "json", "text"])

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(items=fuzzing.submission(fields), encoding=encodings)
    def check(items, encoding):
        judge(findings, label, client, url, items, encoding, has_form, allowed, marker)

    check()
    if has_form:
        # Every field at once, so each form meets NUL (PostgreSQL refuses it in text) and length.
        items = _every_field(fields, "a\x00b\x1b" + "x" * 300)
        judge(findings, label, client, url, items, "multipart", True, allowed, marker)


def _every_field(fields, value):
    items = []
    buttons = [f for f in fields if f.kind == "submit"]
    if buttons:
        items.append((buttons[0].name, buttons[0].value))
    for f in fields:
        if f.kind == "file":
            items.append(
                (f.name, fuzzing.Upload(value[:300] + ".pdf", fuzzing.PDF, "application/pdf"))
            )
        elif f.kind != "submit" and f.name != "csrfmiddlewaretoken":
            items.append((f.name, value))
    return items


def huge_upload(findings, label, client, url, form, settings):
    """One file just over the size limit, in every file field, the rest as the page offers."""
    big = fuzzing.Upload(
        "big.pdf", b"%PDF-1.4\n" + b"0" * settings.DOCUMENT_MAX_BYTES, "application/pdf"
    )
    items = []
    for f in form.fields:
        if f.kind == "file":
            items.append((f.name, big))
        elif f.kind not in {"checkbox", "radio", "submit"} and f.value:
            items.append((f.name, f.value))
    judge(findings, label + " (huge upload)", client, url, items, "multipart", True, {})


def test_every_post_endpoint_survives_hostile_input(settings):
    settings.DOCUMENT_MAX_BYTES = 256 * 1024  # the limit's code path, without 10 MB per example
    users, starts = build_world()
    forms, pages = crawl(users, starts)
    findings = Findings()
    clients = {}

    def client(role):
        if role not in clients:
            clients[role] = client_for(role, users)
        return clients[role]

    post_routes = {r.name for r in all_routes() if not r.name.startswith("admin:")}
    fuzzed = set()
    for name in sorted(post_routes):
        if name in forms:
            role, url, form = forms[name]
            fuzz(findings, "%s as %s" % (name, role), client(role), url, form.fields, True)
            if any(f.kind == "file" for f in form.fields):
                huge_upload(findings, name, client(role), url, form, settings)
        elif name in pages:
            role, url = pages[name]
            fuzz(
                findings,
                "%s as %s" % (name, role),
                client(role),
                url,
                fuzzing.action_fields,
                False,
                examples=2,
            )
        else:
            continue
        fuzzed.add(name)

    record_and_check(findings)
    assert post_routes - fuzzed == set(NOT_FUZZED), "routes neither fuzzed nor listed"


def record_and_check(findings) -> None:
    """Count what was sent and found for docs/assurance.md, then hold it to the goals."""
    record(
        "fuzz",
        endpoints=findings.endpoints,
        examples=findings.examples,
        server_errors=len(findings.server_errors),
        unclear_rejections=len(findings.unclear),
        half_written=len(findings.half_written),
    )
    assert findings.server_errors == []
    assert findings.unclear == []
    assert findings.half_written == []


def test_admin_add_forms_survive_hostile_input(settings):
    """A few of the administrators' add forms, which Django's admin draws, not our templates."""
    users, _ = build_world()
    client = client_for("admin", users)
    findings = Findings()
    for model in ADMIN_ADD_FORMS:
        url = "/admin/%s/add/" % model
        response = client.get(url)
        assert response.status_code == 200, url
        forms, _ = fuzzing.read_page(response.content.decode())
        fields = [f for form in forms for f in form.fields if f.name != "csrfmiddlewaretoken"]
        fuzz(findings, "admin " + model, client, url, fields, True, examples=8, marker=ADMIN)
    record_and_check(findings)
