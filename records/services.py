"""Workflows on the register. Each runs in one transaction, takes the acting user, and leaves its
audit entries (auditlog's change entries, or an access entry for a read) in that transaction."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from records import documents
from records.models import (
    AuthorisedRepresentative,
    ContactRecord,
    Document,
    HouseholdMember,
    Marker,
    Person,
    SensitiveInformation,
    Tenancy,
)
from tmo import filestore
from tmo.audit import record_access
from tmo.concurrency import lock_current


@transaction.atomic
def person_save(*, actor, person: Person, edit_version: int | None = None) -> Person:
    """Create or update a person; a changed contact detail counts as confirmed today. An edit
    drawn from `edit_version` is refused (StaleEdit) if someone else has saved since."""
    today = timezone.localdate()
    if person.pk is None:
        for value, stamp in (
            ("email", "email_confirmed_on"),
            ("phone", "phone_confirmed_on"),
            ("correspondence_address", "address_confirmed_on"),
        ):
            if getattr(person, value) and getattr(person, stamp) is None:
                setattr(person, stamp, today)
    else:
        before = lock_current(person, edit_version)
        for value, stamp in (
            ("email", "email_confirmed_on"),
            ("phone", "phone_confirmed_on"),
            ("correspondence_address", "address_confirmed_on"),
        ):
            if getattr(person, value) != getattr(before, value):
                setattr(person, stamp, today if getattr(person, value) else None)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def contact_details_confirm(*, actor, person: Person, details: list[str]) -> Person:
    """Record that the person confirmed the listed details (email, phone, address) are right."""
    stamps = {
        "email": "email_confirmed_on",
        "phone": "phone_confirmed_on",
        "address": "address_confirmed_on",
    }
    unknown = set(details) - set(stamps)
    if unknown or not details:
        raise ValidationError("Select which contact details the person confirmed.")
    today = timezone.localdate()
    for detail in details:
        setattr(person, stamps[detail], today)
    person.save(update_fields=[stamps[d] for d in details] + ["updated_at"])
    return person


def contact_warnings(*, person: Person, contact: ContactRecord) -> list[str]:
    """Why an outbound contact must not go ahead as recorded; empty when it may."""
    method = contact.method_used()
    if method is None:
        return []
    problems = []
    if method in person.forbidden_contact_methods():
        label = dict(contact.Channel.choices).get(contact.channel)
        if method == "voicemail":
            label = "a voicemail"
        problems.append(
            "%s has asked not to be contacted by %s. Choose another way to contact them."
            % (person.full_name, label.lower() if label else method)
        )
    if method in {"phone", "voicemail"} and "phone" in person.stale_contact_details():
        problems.append(
            "The phone number for %s has not been confirmed in the last 12 months. Confirm it "
            "with them before leaving a message, or tick that you confirmed it on this call."
            % person.full_name
        )
    if method == "email" and "email" in person.stale_contact_details():
        problems.append(
            "The email address for %s has not been confirmed in the last 12 months."
            % person.full_name
        )
    return problems


@transaction.atomic
def contact_record_create(
    *, recorded_by, person: Person, contact: ContactRecord, number_confirmed: bool = False
) -> ContactRecord:
    """Add a contact to the person's timeline, refusing one that breaks their contact wishes."""
    if number_confirmed and contact.method_used() in {"phone", "voicemail"}:
        person.phone_confirmed_on = timezone.localdate()
        person.save(update_fields=["phone_confirmed_on", "updated_at"])
    problems = contact_warnings(person=person, contact=contact)
    if problems:
        raise ValidationError(problems)
    contact.person = person
    contact.recorded_by = recorded_by
    contact.full_clean()
    contact.save()
    return contact


def document_upload(
    *,
    uploaded_by,
    person: Person,
    upload: UploadedFile,
    title: str,
    kind: str,
    contact_record: ContactRecord | None = None,
) -> Document:
    """Check the file's size and real type, encrypt it to disk, and record it."""
    if upload.size is not None and upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "The selected file must be smaller than %(limit)s MB.",
            params={"limit": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
    data = upload.read()
    filename = upload.name or "upload"
    content_type = documents.sniff_content_type(data, filename)
    document = Document(
        person=person,
        contact_record=contact_record,
        kind=kind,
        title=title,
        original_filename=filename,
        content_type=content_type,
        size=len(data),
        uploaded_by=uploaded_by,
    )
    document.full_clean()
    filestore.write_encrypted(document.storage_name, data)
    try:
        with transaction.atomic():
            document.save()
    except BaseException:
        filestore.delete(document.storage_name)
        raise
    return document


@transaction.atomic
def document_open(*, user, document: Document) -> bytes:
    """The decrypted content of a document the caller has fetched through the policy."""
    record_access(user=user, obj=document)
    return filestore.read_decrypted(document.storage_name)


@transaction.atomic
def person_open(*, user, person: Person) -> Person:
    record_access(user=user, obj=person)
    return person


@transaction.atomic
def record_open(*, user, obj):
    """Audit the read of any confidential record fetched through its policy."""
    record_access(user=user, obj=obj)
    return obj


def _add_to_person(row, *, person: Person, **recorded_by):
    """Attach a new row to the person, stamp who recorded it, and save it if it validates."""
    row.person = person
    for field, user in recorded_by.items():
        setattr(row, field, user)
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def marker_add(*, created_by, person: Person, marker: Marker) -> Marker:
    return _add_to_person(marker, person=person, created_by=created_by)


@transaction.atomic
def representative_add(
    *, recorded_by, person: Person, representative: AuthorisedRepresentative
) -> AuthorisedRepresentative:
    return _add_to_person(representative, person=person, recorded_by=recorded_by)


@transaction.atomic
def sensitive_information_add(
    *, recorded_by, person: Person, information: SensitiveInformation
) -> SensitiveInformation:
    return _add_to_person(information, person=person, recorded_by=recorded_by)


@transaction.atomic
def household_member_add(
    *, actor, tenancy: Tenancy, person: Person, relationship: str, start_date: datetime.date
) -> HouseholdMember:
    if tenancy.members.filter(person=person).exists():
        raise ValidationError("%s is already in this household." % person.full_name)
    member = HouseholdMember(
        tenancy=tenancy, person=person, relationship=relationship, start_date=start_date
    )
    member.full_clean()
    member.save()
    return member


def current_representatives(person: Person, day: datetime.date | None = None):
    day = day or timezone.localdate()
    return [r for r in person.representatives.all() if r.is_current_on(day)]
