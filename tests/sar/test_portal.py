"""The resident portal: activation, requests by email link, isolation between residents, and
replies that never say whether a person or an account is on file."""

import datetime
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from sar import clock
from sar.models import (
    Bundle,
    IdentityEvidence,
    PortalActivationCode,
    PortalMessage,
    PortalRequest,
    PortalVerification,
    ResidentLink,
    SubjectAccessRequest,
)
from sar.services import portal as services
from tests.factories import (
    PatchFactory,
    PersonFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual pass phrase 42"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def mailing(django_capture_on_commit_callbacks):
    """Mail goes on commit and each test runs in one transaction: this runs the callbacks of the
    requests made inside it, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def without_csrf(response) -> bytes:
    return CSRF.sub(b"", response.content)


@pytest.fixture
def officer_and_patch(db):
    officer = user_with_role(Role.HOUSING_OFFICER)
    return officer, PatchFactory(officers=[officer])


def make_tenant(patch, **kwargs):
    return tenant_in_patch(patch, **kwargs)


def make_account(officer, person, email=None):
    code = services.issue_activation_code(issued_by=officer, person=person)
    return services.activate_with_code(code=code, email=email or person.email, password=PASSWORD)


def activate_post(client, code, email="someone@mail.example"):
    return client.post(
        reverse("portal_activate"),
        {"code": code, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def request_data(**overrides):
    data = {"kind": "access", "details": "Everything you hold about me."}
    data.update(overrides)
    return data


# Activation by code


def test_a_tenant_activates_with_the_code_from_their_letter(client, officer_and_patch):
    officer, patch = officer_and_patch
    person = make_tenant(patch)
    code = services.issue_activation_code(issued_by=officer, person=person)

    response = activate_post(client, code, email="grace@mail.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal_home")
    link = ResidentLink.objects.get(person=person)
    assert link.user.groups.filter(name=Role.TENANT).exists()
    assert link.user.check_password(PASSWORD)
    row = PortalActivationCode.objects.get(person=person)
    assert row.used_at is not None
    # Only a salted hash of the secret part is kept.
    compact = code.replace("-", "")
    assert compact[4:] not in row.code_hash
    assert row.code_hash.count("$") >= 2
    assert client.get(reverse("portal_home")).status_code == 200


def test_wrong_expired_and_used_codes_get_the_same_reply(client, officer_and_patch):
    officer, patch = officer_and_patch
    expired_person, used_person, other = (make_tenant(patch) for _ in range(3))
    expired = services.issue_activation_code(issued_by=officer, person=expired_person)
    PortalActivationCode.objects.filter(person=expired_person).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    used = services.issue_activation_code(issued_by=officer, person=used_person)
    assert activate_post(client, used, email="first@mail.example").status_code == 302
    client.logout()
    live = services.issue_activation_code(issued_by=officer, person=other)
    wrong_secret = live[:5] + ("AAAA-AAAA" if live[5:] != "AAAA-AAAA" else "BBBB-BBBB")

    replies = [
        activate_post(client, code)
        for code in (expired, used, wrong_secret, "ZZZZ-ZZZZ-ZZZZ", "nonsense")
    ]

    assert {reply.status_code for reply in replies} == {200}
    bodies = {without_csrf(reply) for reply in replies}
    assert len(bodies) == 1
    assert services.CODE_REFUSED.encode() in replies[0].content
    for code in (expired, used, live):
        assert code.encode() not in replies[0].content
    assert ResidentLink.objects.count() == 1


def test_a_weak_password_is_refused_before_the_code_is_checked(client, officer_and_patch):
    officer, patch = officer_and_patch
    code = services.issue_activation_code(issued_by=officer, person=make_tenant(patch))
    replies = [
        client.post(
            reverse("portal_activate"),
            {
                "code": c,
                "email": "x@mail.example",
                "password1": "password",
                "password2": "password",
            },
        )
        for c in (code, "ZZZZ-ZZZZ-ZZZZ")
    ]
    assert without_csrf(replies[0]) == without_csrf(replies[1])
    assert b"This password is too common" in replies[0].content
    assert ResidentLink.objects.count() == 0
    assert PortalActivationCode.objects.get().used_at is None


def test_only_staff_who_can_see_the_tenant_issue_codes(client, officer_and_patch):
    officer, patch = officer_and_patch
    person = make_tenant(patch, first_name="Grace", last_name="Okonjo")
    url = reverse("portal_activation_code_issue", args=[person.pk])

    client.force_login(officer)
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 200
    code = re.search(rb"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", response.content).group().decode()
    assert "no-store" in response["Cache-Control"]
    assert services.activate_with_code(code=code, email="g@mail.example", password=PASSWORD)

    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.post(url).status_code == 404
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    assert client.post(url).status_code == 403


def test_a_code_is_not_issued_to_someone_who_is_not_a_current_tenant(client):
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    response = client.post(reverse("portal_activation_code_issue", args=[PersonFactory().pk]))
    assert b"Only a current tenant" in response.content
    assert PortalActivationCode.objects.count() == 0


# Activation by email and details


def email_activation_post(client, mailing, email, dob=(17, 5, 1980), postcode="SE1 1AB"):
    with mailing():
        return client.post(
            reverse("portal_activate_email"),
            {
                "email": email,
                "date_of_birth_0": dob[0],
                "date_of_birth_1": dob[1],
                "date_of_birth_2": dob[2],
                "postcode": postcode,
            },
        )


def test_email_activation_replies_alike_and_mails_only_a_match(client, officer_and_patch, mailing):
    _, patch = officer_and_patch
    person = make_tenant(patch, email="grace@mail.example")
    postcode = person.household_memberships.get().tenancy.property.postcode

    matched = email_activation_post(
        client, mailing, "Grace@Mail.example", postcode=postcode.lower()
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@mail.example"]
    unmatched = [
        email_activation_post(client, mailing, "nobody@mail.example", postcode=postcode),
        email_activation_post(
            client, mailing, "grace@mail.example", dob=(18, 5, 1980), postcode=postcode
        ),
        email_activation_post(client, mailing, "grace@mail.example", postcode="ZZ9 9ZZ"),
    ]

    assert len(mail.outbox) == 1
    assert {r.status_code for r in [matched, *unmatched]} == {200}
    assert {without_csrf(r) for r in [matched, *unmatched]} == {without_csrf(matched)}
    assert services.ACTIVATION_EMAIL_SENT.encode() in matched.content

    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    # The link carries a random token, signed; no detail of the person.
    assert "grace" not in link.lower()
    assert PortalVerification.objects.get().token.hex in link
    assert client.get(link).status_code == 200
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert ResidentLink.objects.get(person=person).method == ResidentLink.Method.EMAIL
    client.logout()
    again = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert services.LINK_REFUSED.encode() in again.content
    assert ResidentLink.objects.count() == 1


def test_an_activation_link_expires(client, officer_and_patch, monkeypatch, mailing):
    _, patch = officer_and_patch
    person = make_tenant(patch)
    postcode = person.household_memberships.get().tenancy.property.postcode
    email_activation_post(client, mailing, person.email, postcode=postcode)
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    monkeypatch.setattr(services, "LINK_MAX_AGE", datetime.timedelta(seconds=-1))
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert services.LINK_REFUSED.encode() in response.content
    assert ResidentLink.objects.count() == 0
    tampered = client.get(link[:-3] + "xyz/")
    assert services.LINK_REFUSED.encode() in tampered.content


def test_public_forms_are_rate_limited_per_client_address(client, officer_and_patch, mailing):
    _, patch = officer_and_patch
    person = make_tenant(patch)
    postcode = person.household_memberships.get().tenancy.property.postcode
    for number in range(services.IP_RATE_LIMIT):
        reply = email_activation_post(client, mailing, "nobody%d@mail.example" % number)
        assert reply.status_code == 200
    blocked = email_activation_post(client, mailing, person.email, postcode=postcode)
    assert blocked.status_code == 429
    assert services.TOO_MANY_TRIES.encode() in blocked.content
    assert mail.outbox == []

    for number in range(services.IP_RATE_LIMIT):
        activate_post(client, "ZZZZ-ZZZZ-ZZZZ", email="n%d@mail.example" % number)
    assert activate_post(client, "ZZZZ-ZZZZ-ZZZZ").status_code == 429


def test_the_limit_also_counts_per_email_address(client, mailing):
    data = {"name": "A", "email": "same@mail.example", "address": "1 Road", **request_data()}
    for number in range(services.EMAIL_RATE_LIMIT):
        with mailing():
            client.post(reverse("portal_request_form"), data, REMOTE_ADDR="10.0.0.%d" % number)
    blocked = client.post(reverse("portal_request_form"), data, REMOTE_ADDR="10.0.0.99")
    assert blocked.status_code == 429
    assert services.TOO_MANY_TRIES.encode() in blocked.content
    assert len(mail.outbox) == services.EMAIL_RATE_LIMIT


# Requests from anyone, by email verification


def test_a_former_tenant_asks_through_the_public_form(client, mailing):
    data = {
        "name": "Fred Former",
        "email": "fred@mail.example",
        "address": "4 Old Road, London",
        **request_data(kind="erasure", details="Delete my old rent records."),
    }
    with mailing():
        response = client.post(reverse("portal_request_form"), data)
    assert response.status_code == 200
    assert services.REQUEST_EMAIL_SENT.encode() in response.content
    assert SubjectAccessRequest.objects.count() == 0
    assert mail.outbox[0].to == ["fred@mail.example"]
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    assert "fred" not in link.lower()

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert b"Fred" not in confirm.content and b"Delete my old" not in confirm.content
    upload = SimpleUploadedFile("passport.png", PNG, content_type="image/png")
    with mailing():
        done = client.post(link, {"evidence": upload})
    assert done.status_code == 200

    created = SubjectAccessRequest.objects.get()
    assert created.kind == "erasure"
    assert created.requester_name == "Fred Former"
    assert created.identity_required
    assert created.status == SubjectAccessRequest.Status.AWAITING_IDENTITY
    assert created.due_date is None
    assert PortalRequest.objects.get(request=created).account is None
    evidence = IdentityEvidence.objects.get(request=created)
    assert PNG not in filestore.read_token(evidence.storage_name)
    assert filestore.read_decrypted(evidence.storage_name) == PNG
    assert created.reference in mail.outbox[-1].subject
    assert PortalVerification.objects.get().payload == ""

    client.post(link, {})
    assert SubjectAccessRequest.objects.count() == 1


def test_the_public_form_shows_errors_and_saves_nothing(client):
    response = client.post(
        reverse("portal_request_form"),
        {"name": "", "email": "not-an-email", "address": "", "kind": "", "details": ""},
    )
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content
    assert b"govuk-form-group--error" in response.content
    assert PortalVerification.objects.count() == 0
    assert mail.outbox == []


# The tenant's own requests


@pytest.fixture
def tenant_a(officer_and_patch):
    officer, patch = officer_and_patch
    person = make_tenant(patch, first_name="Alice", last_name="Anders")
    return make_account(officer, person)


@pytest.fixture
def tenant_b(officer_and_patch):
    officer, patch = officer_and_patch
    person = make_tenant(patch, first_name="Boris", last_name="Brightwater")
    return make_account(officer, person)


def test_a_signed_in_tenant_asks_without_proof_of_identity(client, tenant_a):
    client.force_login(tenant_a)
    response = client.post(
        reverse("portal_request_new"),
        {
            **request_data(details="My repair records."),
            "date_from_0": "1",
            "date_from_1": "4",
            "date_from_2": "2023",
        },
    )
    created = SubjectAccessRequest.objects.get()
    assert response["Location"] == reverse("portal_request_detail", args=[created.pk])
    assert created.person == tenant_a.resident_link.person
    assert not created.identity_required
    assert created.status == SubjectAccessRequest.Status.IN_PROGRESS
    assert created.due_date == clock.due_date(timezone.localdate())
    assert created.date_from == datetime.date(2023, 4, 1)
    assert created.due_date_changes.count() == 1

    page = client.get(response["Location"])
    assert created.reference.encode() in page.content
    assert b"In progress" in page.content
    assert created.due_date.strftime("%-d %B %Y").encode() in page.content
    assert b"Not needed" in page.content


def test_a_representative_request_is_flagged_for_staff(client, tenant_a):
    client.force_login(tenant_a)
    client.post(
        reverse("portal_request_new"),
        {
            **request_data(),
            "acting_for_someone": "on",
            "represented_name": "Mum Anders",
            "representative_relationship": "Lasting power of attorney",
        },
    )
    created = SubjectAccessRequest.objects.get()
    assert created.person is None
    assert created.identity_required
    assert created.portal.acting_for_someone
    assert created.portal.represented_name == "Mum Anders"

    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    page = client.get(reverse("portal_staff_messages", args=[created.pk]))
    assert b"Representative" in page.content and b"Mum Anders" in page.content


def test_acting_for_someone_needs_their_name(client, tenant_a):
    client.force_login(tenant_a)
    response = client.post(
        reverse("portal_request_new"), {**request_data(), "acting_for_someone": "on"}
    )
    assert b"Enter the name of the person you are acting for" in response.content
    assert SubjectAccessRequest.objects.count() == 0


def test_identity_evidence_is_checked_and_encrypted(client, tenant_a):
    client.force_login(tenant_a)
    client.post(
        reverse("portal_request_new"),
        {**request_data(), "acting_for_someone": "on", "represented_name": "Mum"},
    )
    created = SubjectAccessRequest.objects.get()
    url = reverse("portal_request_evidence", args=[created.pk])

    fake = SimpleUploadedFile("id.png", b"%PDF-1.4 not really a png", content_type="image/png")
    response = client.post(url, {"evidence": fake})
    assert b"govuk-error-message" in response.content
    exe = SimpleUploadedFile("id.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60)
    assert b"must be a PDF, JPG, PNG" in client.post(url, {"evidence": exe}).content
    assert IdentityEvidence.objects.count() == 0

    with pytest.MonkeyPatch.context() as patcher:
        from django.conf import settings

        patcher.setattr(settings, "DOCUMENT_MAX_BYTES", 10)
        big = SimpleUploadedFile("id.png", PNG)
        assert b"must be smaller than" in client.post(url, {"evidence": big}).content
    assert IdentityEvidence.objects.count() == 0

    response = client.post(url, {"evidence": SimpleUploadedFile("id.png", PNG)})
    assert response.status_code == 302
    evidence = IdentityEvidence.objects.get()
    assert evidence.content_type == "image/png"
    on_disk = filestore.read_token(evidence.storage_name)
    assert PNG not in on_disk and b"PNG" not in on_disk
    assert "id.png" not in evidence.storage_name

    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    download = client.get(reverse("portal_staff_evidence", args=[evidence.pk]))
    assert download.content == PNG
    assert download["X-Content-Type-Options"] == "nosniff"


def test_messages_go_both_ways(client, tenant_a, mailing):
    client.force_login(tenant_a)
    client.post(reverse("portal_request_new"), request_data())
    created = SubjectAccessRequest.objects.get()
    client.post(reverse("portal_request_message", args=[created.pk]), {"body": "Is it on its way?"})
    assert PortalMessage.objects.get().from_staff is False

    handler = user_with_role(Role.SENIOR_OFFICER)
    client.force_login(handler)
    page = client.get(reverse("portal_staff_messages", args=[created.pk]))
    assert b"Is it on its way?" in page.content
    mail.outbox.clear()
    with mailing():
        reply = client.post(
            reverse("portal_staff_messages", args=[created.pk]), {"body": "Yes, by Friday."}
        )
    assert reply.status_code == 302
    assert len(mail.outbox) == 1
    assert "Yes, by Friday" not in mail.outbox[0].body
    assert PortalMessage.objects.filter(from_staff=True, author=handler).exists()
    empty = client.post(reverse("portal_staff_messages", args=[created.pk]), {"body": " "})
    assert b"govuk-error-summary" in empty.content
    assert PortalMessage.objects.count() == 2

    client.force_login(tenant_a)
    page = client.get(reverse("portal_request_detail", args=[created.pk]))
    assert b"Yes, by Friday." in page.content and b"From us" in page.content

    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(reverse("portal_staff_messages", args=[created.pk])).status_code == 403


# Isolation: tenant A reaches nothing of tenant B's


def ready_bundle(request, by):
    storage_name = "b" * 32
    filestore.write_encrypted(storage_name, b"PK-bundle-of-b")
    return Bundle.objects.create(
        request=request,
        status=Bundle.Status.READY,
        collected_by=by,
        storage_name=storage_name,
        size=14,
        built_at=timezone.now(),
        released_at=timezone.now(),
        released_by=by,
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )


def test_tenant_a_reaches_none_of_tenant_bs_requests(client, tenant_a, tenant_b):
    client.force_login(tenant_b)
    client.post(
        reverse("portal_request_new"),
        {**request_data(), "acting_for_someone": "on", "represented_name": "Secret Relative"},
    )
    theirs = SubjectAccessRequest.objects.get()
    client.post(reverse("portal_request_message", args=[theirs.pk]), {"body": "B-PRIVATE-NOTE"})
    client.post(
        reverse("portal_request_evidence", args=[theirs.pk]),
        {"evidence": SimpleUploadedFile("id.png", PNG)},
    )
    staff = user_with_role(Role.DATA_PROTECTION_LEAD)
    ready_bundle(theirs, staff)
    # B may download their own answer.
    assert client.get(reverse("portal_bundle_download", args=[theirs.pk])).content == (
        b"PK-bundle-of-b"
    )
    # A request about B logged by staff by letter is B's too.
    by_letter = SubjectAccessRequestFactory(
        reference="LTR-0001", person=tenant_b.resident_link.person, channel="letter"
    )
    evidence = IdentityEvidence.objects.get()

    # A fresh browser for A: B's "done" banners wait in B's cookies.
    client.cookies.clear()
    client.force_login(tenant_a)
    missing = 999999
    secrets = [
        theirs.reference,
        by_letter.reference,
        "Brightwater",
        "Boris",
        "Secret Relative",
        "B-PRIVATE-NOTE",
    ]
    for target in (theirs, by_letter):
        for name in (
            "portal_request_detail",
            "portal_request_message",
            "portal_request_evidence",
            "portal_bundle_download",
        ):
            for method in (client.get, client.post):
                kwargs = {"data": {"body": "x"}} if method == client.post else {}
                response = method(reverse(name, args=[target.pk]), **kwargs)
                ghost = method(reverse(name, args=[missing]), **kwargs)
                assert response.status_code == 404, (name, method)
                assert without_csrf(response) == without_csrf(ghost)
                for secret in secrets:
                    assert secret.encode() not in response.content
    for name, pk in (("portal_staff_messages", theirs.pk), ("portal_staff_evidence", evidence.pk)):
        assert client.get(reverse(name, args=[pk])).status_code == 403
    home = client.get(reverse("portal_home"))
    for secret in secrets:
        assert secret.encode() not in home.content
    assert PortalMessage.objects.filter(author=tenant_a).count() == 0
    assert IdentityEvidence.objects.count() == 1
    assert not theirs.bundles.get().downloads.filter(downloaded_by=tenant_a).exists()


def test_a_tenant_account_without_a_link_sees_nothing(client, tenant_b):
    client.force_login(tenant_b)
    client.post(reverse("portal_request_new"), request_data())
    theirs = SubjectAccessRequest.objects.get()
    unlinked = user_with_role(Role.TENANT)
    client.force_login(unlinked)
    assert client.get(reverse("portal_home")).status_code == 200
    assert client.get(reverse("portal_request_new")).status_code == 200
    client.post(reverse("portal_request_new"), request_data())
    assert SubjectAccessRequest.objects.count() == 1
    assert client.get(reverse("portal_request_detail", args=[theirs.pk])).status_code == 404


def test_portal_pages_are_for_tenants_and_public_pages_for_anyone(client, tenant_a):
    for name in ("portal_home", "portal_request_new"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    for name in ("portal_activate", "portal_activate_email", "portal_request_form"):
        assert client.get(reverse(name)).status_code == 200
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    assert client.get(reverse("portal_home")).status_code == 403


def test_the_portal_home_lists_only_my_requests_in_few_queries(
    client, tenant_a, django_assert_max_num_queries
):
    client.force_login(tenant_a)
    for _ in range(3):
        client.post(reverse("portal_request_new"), request_data())
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal_home"))
    assert len(set(re.findall(rb"portal/requests/\d+/", response.content))) == 3


@pytest.mark.django_db
def test_the_demo_tenant_account_is_linked_to_its_tenant():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from sar.models import ResidentLink

    call_command("seed_demo", "--homes", "20", verbosity=0)
    account = get_user_model().objects.get(username="tenant")
    link = ResidentLink.objects.get(user=account)
    assert link.person.full_name == account.get_full_name()
