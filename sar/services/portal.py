"""Rights-request workflows: the resident portal.

Two rules run through every function here. First, a reply never says whether a person or account
is on file: matched and unmatched details get the same result, and mail goes only to an address
on the register (activation) or the one the requester typed (a request). Second, the portal finds
"my" data only through the signed-in account's ResidentLink and the PortalRequest rows it made;
an id from a URL is only ever looked up inside that set.
"""

import datetime
import hashlib
import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from access.roles import STAFF_ROLES, Role, roles_of
from records import documents
from records.models import HouseholdMember, Person
from sar.models import (
    IdentityEvidence,
    PortalActivationCode,
    PortalMessage,
    PortalRequest,
    PortalVerification,
    ResidentLink,
    SubjectAccessRequest,
)
from sar.models.requests import HANDLER_ROLES
from sar.services.requests import rights_request_create
from tmo import crypto, filestore
from tmo.audit import record_event

# What every public form says after a POST, matched or not.
ACTIVATION_EMAIL_SENT = (
    "If the details match our records, we have sent an email to that address with a link to "
    "set up your account. The link works for 24 hours."
)
REQUEST_EMAIL_SENT = (
    "We have sent an email to the address you gave. Follow the link in it within 24 hours to "
    "send your request. We do not act on a request until you do."
)
CODE_REFUSED = (
    "We could not set up an account with those details. Check the code on your letter and try "
    "again, or ask us for a new code."
)
LINK_REFUSED = "This link has expired or has already been used."
TOO_MANY_TRIES = "You have tried too many times. Wait an hour, then try again."

# Codes use letters and digits that cannot be mistaken for each other on paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SELECTOR_LENGTH = 4
SECRET_LENGTH = 8
ACTIVATION_CODE_DAYS = 30
LINK_MAX_AGE = datetime.timedelta(hours=24)
# Attempts per hour: an address may be shared (a library, our own office), an email is one person's.
IP_RATE_LIMIT = 20
EMAIL_RATE_LIMIT = 5
RATE_WINDOW_SECONDS = 3600
# A fixed hash checked when no code matches, so a wrong selector costs as long as a wrong secret.
_DUMMY_HASH = make_password("not-a-real-code")


# Rate limiting


def _rate_key(scope: str, value: str) -> str:
    # The key holds a hash, never an email address or a person's data.
    digest = hashlib.sha256(("%s:%s" % (scope, value)).encode()).hexdigest()
    return "sar-portal-rate:%s" % digest


def rate_limited(*, scope: str, ip: str, email: str) -> bool:
    """Count one attempt against the client's address and the email address given, and say
    whether either is now over its limit for the hour. Every attempt counts, matched or not."""
    over = False
    for kind, value, limit in (("ip", ip, IP_RATE_LIMIT), ("email", email, EMAIL_RATE_LIMIT)):
        if not value:
            continue
        key = _rate_key("%s:%s" % (scope, kind), crypto.normalise_text(value))
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
            count = 1
        over = over or count > limit
    return over


# Signed links


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="sar.portal.verification")


def _link_token(verification: PortalVerification) -> str:
    return _signer().sign(verification.token.hex)


def verification_from_token(*, token: str, purpose: str) -> PortalVerification | None:
    """The unused verification a signed link names, or None when the link is bad, old or used."""
    try:
        raw = _signer().unsign(token, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return (
        PortalVerification.objects.filter(token=raw, purpose=purpose, used_at=None)
        .select_related("person")
        .first()
    )


def _send_on_commit(*, to: str, subject: str, body: str) -> None:
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    )


# Portal accounts


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _normalise_postcode(postcode: str) -> str:
    return "".join((postcode or "").split()).upper()


def _current_tenant_memberships(person_ids):
    today = timezone.localdate()
    return HouseholdMember.objects.filter(
        Q(end_date=None) | Q(end_date__gte=today),
        Q(tenancy__end_date=None) | Q(tenancy__end_date__gte=today),
        person__in=person_ids,
        relationship__in=HouseholdMember.TENANT_RELATIONSHIPS,
    ).select_related("tenancy__property")


@transaction.atomic
def issue_activation_code(*, issued_by, person: Person) -> str:
    """A new one-time code for the tenant's letter, returned once to be printed; only a salted
    hash is kept. Any earlier unused code of theirs stops working."""
    if not roles_of(issued_by) & STAFF_ROLES:
        raise PermissionDenied
    if not Person.objects.visible_to(issued_by).filter(pk=person.pk).exists():
        raise PermissionDenied
    if not _current_tenant_memberships([person.pk]).exists():
        raise ValidationError("Only a current tenant can be given a portal activation code.")
    if ResidentLink.objects.filter(person=person).exists():
        raise ValidationError("This tenant already has a portal account.")
    now = timezone.now()
    PortalActivationCode.objects.filter(person=person, used_at=None, expires_at__gt=now).update(
        expires_at=now
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(SELECTOR_LENGTH + SECRET_LENGTH))
    row = PortalActivationCode.objects.create(
        person=person,
        selector=code[:SELECTOR_LENGTH],
        code_hash=make_password(code[SELECTOR_LENGTH:]),
        created_by=issued_by,
        expires_at=now + datetime.timedelta(days=ACTIVATION_CODE_DAYS),
    )
    record_event(actor=issued_by, obj=person, event="portal_code_issued", code=row.pk)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def check_new_password(*, password: str, email: str) -> None:
    """Django's password rules, checked before any code or link so that their messages say
    nothing about whether the code was right."""
    candidate = get_user_model()(username=email, email=email)
    password_validation.validate_password(password, user=candidate)


def _create_account(*, person: Person, email: str, password: str, method: str):
    """The tenant's portal account; None if the person already has one or the address is taken
    (the caller shows the same neutral message as for a wrong code)."""
    user_model = get_user_model()
    username = crypto.normalise_text(email)
    if ResidentLink.objects.filter(person=person).exists():
        return None
    if user_model.objects.filter(username__iexact=username).exists():
        return None
    try:
        with transaction.atomic():
            user = user_model(username=username, email=email)
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=Role.TENANT))
            ResidentLink.objects.create(user=user, person=person, method=method)
    except IntegrityError:
        return None
    record_event(actor=user, obj=person, event="portal_account_activated", method=method)
    return user


@transaction.atomic
def activate_with_code(*, code: str, email: str, password: str):
    """Activate a tenant's account with the code from their letter. Returns the new user, or
    None for a wrong, expired or used code (and for a person who already has an account)."""
    check_new_password(password=password, email=email)
    normalised = _normalise_code(code)
    selector, secret = normalised[:SELECTOR_LENGTH], normalised[SELECTOR_LENGTH:]
    now = timezone.now()
    candidates = list(
        PortalActivationCode.objects.select_for_update()
        .filter(selector=selector, used_at=None, expires_at__gt=now)
        .select_related("person")
    )
    match = None
    for candidate in candidates:
        if check_password(secret, candidate.code_hash):
            match = candidate
            break
    if not candidates:
        check_password(secret, _DUMMY_HASH)
    if match is None or len(secret) != SECRET_LENGTH:
        return None
    user = _create_account(
        person=match.person, email=email, password=password, method=ResidentLink.Method.CODE
    )
    if user is None:
        return None
    match.used_at = now
    match.save(update_fields=["used_at"])
    return user


def _person_matching(*, email: str, date_of_birth: datetime.date, postcode: str) -> Person | None:
    digest = crypto.blind_index(crypto.normalise_text(email))
    people = [
        person
        for person in Person.objects.filter(email_index=digest)
        if person.date_of_birth == date_of_birth
    ]
    if not people:
        return None
    wanted = _normalise_postcode(postcode)
    homes = [
        member.person_id
        for member in _current_tenant_memberships([p.pk for p in people])
        if _normalise_postcode(member.tenancy.property.postcode) == wanted
    ]
    matches = [p for p in people if p.pk in homes]
    return matches[0] if len(matches) == 1 else None


@transaction.atomic
def request_email_activation(
    *, email: str, date_of_birth: datetime.date, postcode: str, link_for
) -> None:
    """Where the email address, date of birth and the postcode of their current home all match
    one tenant without an account, email that register address a link to set a password.
    Returns nothing either way: the caller always shows ACTIVATION_EMAIL_SENT."""
    person = _person_matching(email=email, date_of_birth=date_of_birth, postcode=postcode)
    if person is None or ResidentLink.objects.filter(person=person).exists():
        return
    verification = PortalVerification.objects.create(
        purpose=PortalVerification.Purpose.ACTIVATE, person=person, email=person.email
    )
    _send_on_commit(
        to=person.email,
        subject="Set up your account",
        body=(
            "Someone asked to set up a resident portal account with this email address.\n\n"
            "If it was you, follow this link within 24 hours to choose your password:\n%s\n\n"
            "If it was not you, ignore this email: nothing changes."
            % link_for(_link_token(verification))
        ),
    )


@transaction.atomic
def activate_with_email_link(*, verification: PortalVerification, password: str):
    """Finish an email activation: the password is set and the link is used up. None if the
    person got an account some other way meanwhile."""
    check_new_password(password=password, email=verification.email)
    locked = PortalVerification.objects.select_for_update().get(pk=verification.pk)
    if locked.used_at is not None or locked.person is None:
        return None
    user = _create_account(
        person=locked.person,
        email=locked.email,
        password=password,
        method=ResidentLink.Method.EMAIL,
    )
    locked.used_at = timezone.now()
    locked.save(update_fields=["used_at"])
    return user


# Making requests


def link_of(user) -> ResidentLink | None:
    if not user.is_authenticated:
        return None
    return ResidentLink.objects.filter(user=user).select_related("person").first()


def _create_request(
    *,
    kind: str,
    person: Person | None,
    requester_name: str,
    requester_email: str,
    requester_address: str,
    details: str,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
    identity_required: bool,
    actor,
) -> SubjectAccessRequest:
    """A request received online today, on the same footing as one logged by staff. The clock
    runs from today where identity is already known, otherwise from when the evidence arrives."""
    request = rights_request_create(
        logged_by=None,
        kind=kind,
        channel=SubjectAccessRequest.Channel.ONLINE,
        person=person,
        requester_name=requester_name,
        requester_email=requester_email,
        requester_address=requester_address,
        details=details,
        date_from=date_from,
        date_to=date_to,
        received_on=timezone.localdate(),
        identity_required=identity_required,
        identity_received_on=None,
    )
    record_event(actor=actor, obj=request, event="sar_received_online")
    return request


def _home_address(person: Person) -> str:
    member = _current_tenant_memberships([person.pk]).first()
    if member is not None:
        return member.tenancy.property.address
    return person.correspondence_address or ""


@transaction.atomic
def portal_request_create(
    *,
    account,
    kind: str,
    details: str,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    acting_for_someone: bool = False,
    represented_name: str = "",
    representative_relationship: str = "",
    evidence: UploadedFile | None = None,
) -> SubjectAccessRequest:
    """A request from a signed-in tenant. About themselves, their identity is already known from
    the activated account; for someone else, staff match it to the recorded authority."""
    link = link_of(account)
    if link is None:
        raise PermissionDenied
    _check_request_fields(
        kind=kind,
        details=details,
        date_from=date_from,
        date_to=date_to,
        acting_for_someone=acting_for_someone,
        represented_name=represented_name,
    )
    person = link.person
    request = _create_request(
        kind=kind,
        person=None if acting_for_someone else person,
        requester_name=person.full_name,
        requester_email=person.email or account.email,
        requester_address=_home_address(person),
        details=details,
        date_from=date_from,
        date_to=date_to,
        identity_required=acting_for_someone,
        actor=account,
    )
    PortalRequest.objects.create(
        request=request,
        account=account,
        acting_for_someone=acting_for_someone,
        represented_name=represented_name if acting_for_someone else "",
        representative_relationship=representative_relationship if acting_for_someone else "",
    )
    if evidence is not None:
        evidence_add(request=request, upload=evidence, uploaded_by=account)
    return request


def _check_request_fields(
    *, kind, details, date_from, date_to, acting_for_someone, represented_name
) -> None:
    errors = {}
    if kind not in SubjectAccessRequest.Kind.values:
        errors["kind"] = "Select what you are asking us to do"
    if not (details or "").strip():
        errors["details"] = "Tell us what your request is about"
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = "The end date must be the same as or after the start date"
    if acting_for_someone and not (represented_name or "").strip():
        errors["represented_name"] = "Enter the name of the person you are acting for"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def request_by_email(*, answers: dict, link_for) -> None:
    """Keep a request from someone without an account until they follow the link emailed to the
    address they gave; nothing is created until then."""
    _check_request_fields(
        kind=answers.get("kind"),
        details=answers.get("details"),
        date_from=answers.get("date_from"),
        date_to=answers.get("date_to"),
        acting_for_someone=answers.get("acting_for_someone"),
        represented_name=answers.get("represented_name"),
    )
    stored = {
        key: value.isoformat() if isinstance(value, datetime.date) else value
        for key, value in answers.items()
    }
    verification = PortalVerification.objects.create(
        purpose=PortalVerification.Purpose.REQUEST,
        email=answers["email"],
        payload=json.dumps(stored),
    )
    _send_on_commit(
        to=answers["email"],
        subject="Confirm your request",
        body=(
            "Someone asked us to act on a data protection request using this email address.\n\n"
            "If it was you, follow this link within 24 hours to send the request:\n%s\n\n"
            "If it was not you, ignore this email: nothing will be sent."
            % link_for(_link_token(verification))
        ),
    )


def _date_or_none(value):
    return datetime.date.fromisoformat(value) if value else None


@transaction.atomic
def confirm_emailed_request(
    *, verification: PortalVerification, evidence: UploadedFile | None = None
) -> SubjectAccessRequest | None:
    """The requester followed the link: the request is created now, waiting for identity
    evidence (uploaded here or later) before the clock starts. None if the link was used."""
    locked = PortalVerification.objects.select_for_update().get(pk=verification.pk)
    if locked.used_at is not None or locked.purpose != PortalVerification.Purpose.REQUEST:
        return None
    answers = json.loads(locked.payload)
    acting = bool(answers.get("acting_for_someone"))
    request = _create_request(
        kind=answers["kind"],
        person=None,
        requester_name=answers["name"],
        requester_email=locked.email,
        requester_address=answers.get("address", ""),
        details=answers["details"],
        date_from=_date_or_none(answers.get("date_from")),
        date_to=_date_or_none(answers.get("date_to")),
        identity_required=True,
        actor=None,
    )
    PortalRequest.objects.create(
        request=request,
        account=None,
        acting_for_someone=acting,
        represented_name=answers.get("represented_name", "") if acting else "",
        representative_relationship=answers.get("representative_relationship", "")
        if acting
        else "",
    )
    if evidence is not None:
        evidence_add(request=request, upload=evidence, uploaded_by=None)
    locked.used_at = timezone.now()
    locked.payload = ""
    locked.save(update_fields=["used_at", "payload"])
    _send_on_commit(
        to=locked.email,
        subject="We have your request %s" % request.reference,
        body=(
            "We have received your request. Its reference is %s.\n\n"
            "Before we can start, we need to check who you are. If you did not upload proof of "
            "identity, we will write to you to ask for it." % request.reference
        ),
    )
    return request


def evidence_add(*, request: SubjectAccessRequest, upload: UploadedFile, uploaded_by):
    """Check the file's size and real type, encrypt it to disk and record it against the
    request. The caller has already found the request through the portal's own lookups."""
    if upload.size is not None and upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "The selected file must be smaller than %(limit)s MB.",
            params={"limit": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
    data = upload.read()
    filename = upload.name or "upload"
    content_type = documents.sniff_content_type(data, filename)
    evidence = IdentityEvidence(
        request=request,
        original_filename=filename,
        content_type=content_type,
        size=len(data),
        uploaded_by=uploaded_by,
    )
    filestore.write_encrypted(evidence.storage_name, data)
    try:
        with transaction.atomic():
            evidence.save()
            record_event(
                actor=uploaded_by, obj=request, event="sar_identity_uploaded", evidence=evidence.pk
            )
    except BaseException:
        filestore.delete(evidence.storage_name)
        raise
    return evidence


@transaction.atomic
def portal_evidence_add(*, account, request: SubjectAccessRequest, upload: UploadedFile):
    if portal_request_for(account, request.pk) is None:
        raise PermissionDenied
    return evidence_add(request=request, upload=upload, uploaded_by=account)


# What the requester may see


def portal_requests_for(user):
    """The requests this portal account may see: about its own person, or made by it."""
    if not user.is_authenticated:
        return SubjectAccessRequest.objects.none()
    link = link_of(user)
    query = Q(portal__account=user)
    if link is not None:
        query |= Q(person=link.person)
    return SubjectAccessRequest.objects.filter(query).distinct().order_by("-received_on", "-pk")


def portal_request_for(user, pk) -> SubjectAccessRequest | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return portal_requests_for(user).filter(pk=pk).first()


@transaction.atomic
def portal_message_send(*, account, request: SubjectAccessRequest, body: str) -> PortalMessage:
    if portal_request_for(account, request.pk) is None:
        raise PermissionDenied
    if not (body or "").strip():
        raise ValidationError({"body": "Enter your message"})
    message = PortalMessage.objects.create(
        request=request, from_staff=False, author=account, body=body.strip()
    )
    record_event(actor=account, obj=request, event="sar_message_from_requester")
    return message


@transaction.atomic
def staff_message_send(*, sent_by, request: SubjectAccessRequest, body: str) -> PortalMessage:
    """A handler's reply. The requester is told by email that a message is waiting, never what it
    says: the message itself is read in the portal."""
    if not roles_of(sent_by) & HANDLER_ROLES:
        raise PermissionDenied
    if not SubjectAccessRequest.objects.visible_to(sent_by).filter(pk=request.pk).exists():
        raise PermissionDenied
    if not (body or "").strip():
        raise ValidationError({"body": "Enter your message"})
    message = PortalMessage.objects.create(
        request=request, from_staff=True, author=sent_by, body=body.strip()
    )
    record_event(actor=sent_by, obj=request, event="sar_message_to_requester")
    if request.requester_email:
        _send_on_commit(
            to=request.requester_email,
            subject="A message about your request %s" % request.reference,
            body="We have sent you a message about your request. Sign in to read it.",
        )
    return message


def bundle_offered(request: SubjectAccessRequest):
    from sar.services.bundles import bundle_for_requester

    return bundle_for_requester(request=request)


def portal_bundle_open(*, account, request: SubjectAccessRequest, remote_addr: str | None):
    """The finished bundle's bytes for the requester, recorded as a download; None if there is
    none to offer."""
    from sar.services.bundles import bundle_open

    if portal_request_for(account, request.pk) is None:
        raise PermissionDenied
    bundle = bundle_offered(request)
    if bundle is None:
        return None, None
    try:
        return bundle, bundle_open(bundle=bundle, downloaded_by=account, remote_addr=remote_addr)
    except ValidationError:
        return None, None


def evidence_open(*, user, evidence: IdentityEvidence) -> bytes:
    """Staff read of uploaded identity evidence, audited."""
    from records.services import record_open

    record_open(user=user, obj=evidence)
    return filestore.read_decrypted(evidence.storage_name)
