"""Rights-request models: the resident portal.

A portal account is a Django user with the tenant role and one ResidentLink: the link, and only
the link, says whose data the account may see. Requests made through the portal carry a
PortalRequest naming the account (or none, for a requester who verified an email address only),
and every portal lookup starts from the signed-in account, never from an id in the URL alone.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sar.models.requests import SubjectAccessRequest
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import EncryptedCharField, EncryptedTextField

__all__ = [
    "IdentityEvidence",
    "PortalActivationCode",
    "PortalMessage",
    "PortalRequest",
    "PortalVerification",
    "ResidentLink",
]


def _storage_name() -> str:
    return uuid.uuid4().hex


class ResidentLink(models.Model):
    """The one way the portal finds "my" data: this account is this person on the register."""

    class Method(models.TextChoices):
        CODE = "code", _("Activation code from the tenancy letter")
        EMAIL = "email", _("Email address and details matching the register")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident_link"
    )
    person = models.ForeignKey(
        "records.Person", on_delete=models.PROTECT, related_name="portal_links"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    activated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person"], name="one_portal_account_per_person")
        ]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Knowing which person on the register a resident portal account belongs to.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the person's last tenancy ends"),
        subject_paths=("person",),
        internal_fields=("method", "activated_at"),
        source="The tenant, when they activated their portal account.",
    )

    def __str__(self):
        return "Portal account %s" % self.user_id


class PortalActivationCode(models.Model):
    """A one-time code printed on a tenancy letter. Only a salted hash of the secret part is kept;
    the selector (the first characters) finds the row without revealing the code."""

    person = models.ForeignKey(
        "records.Person", on_delete=models.CASCADE, related_name="portal_activation_codes"
    )
    selector = models.CharField(max_length=8, db_index=True)
    code_hash = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Letting a tenant activate their portal account with a code from their letter.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=1, after="the code is used or expires", field="expires_at"),
        sensitive_fields=("selector", "code_hash"),
        subject_paths=("person",),
        internal_fields=("selector", "code_hash", "created_at", "expires_at", "used_at"),
    )

    def __str__(self):
        return "Activation code #%s" % self.pk

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.expires_at > now


class PortalVerification(models.Model):
    """An emailed link waiting to be followed: to activate an account (email and details matched
    the register) or to create a request (anyone). The link carries a signed token, never the
    details; what was asked is kept here, encrypted, until the link is used."""

    class Purpose(models.TextChoices):
        ACTIVATE = "activate", _("Activate a portal account")
        REQUEST = "request", _("Make a rights request")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    person = models.ForeignKey(
        "records.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_verifications",
    )
    email = EncryptedCharField(max_length=254)
    # The request form's answers as JSON, for a REQUEST verification.
    payload = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Checking that a requester controls the email address they gave.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=1, after="the link is sent", field="created_at"),
        sensitive_fields=("email", "payload"),
        subject_paths=("person",),
        internal_fields=("token", "created_at", "used_at"),
    )

    def __str__(self):
        return "Email verification #%s" % self.pk


class PortalRequest(models.Model):
    """How a request came through the portal: the account that made it (none for a requester who
    only verified an email address), and whether they act for someone else. Staff match a
    representative's request to the recorded authority on the staff side."""

    request = models.OneToOneField(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="portal"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_requests",
    )
    acting_for_someone = models.BooleanField(default=False)
    represented_name = EncryptedCharField(max_length=200)
    representative_relationship = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Knowing which portal account made a rights request, and for whom.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        sensitive_fields=("represented_name",),
        subject_paths=("request__person",),
        internal_fields=("created_at",),
        source="The requester, through the portal.",
    )

    def __str__(self):
        return "Portal request %s" % self.request_id


class IdentityEvidence(models.Model):
    """Proof of identity uploaded through the portal, stored encrypted (tmo.filestore)."""

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="identity_evidence"
    )
    original_filename = EncryptedCharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(
        max_length=64, unique=True, default=_storage_name, editable=False
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Checking that a requester is who they say they are before their data is sent.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        sensitive_fields=("original_filename",),
        subject_paths=("request__person",),
        internal_fields=("storage_name", "content_type", "size", "uploaded_at"),
        encrypted_files=("storage_name",),
        source="The requester.",
    )

    def __str__(self):
        return "Identity evidence #%s" % self.pk


class PortalMessage(models.Model):
    """A message between the requester and the staff handling their request."""

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="portal_messages"
    )
    from_staff = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Corresponding with a requester about their rights request.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        sensitive_fields=("body",),
        subject_paths=("request__person",),
        internal_fields=("sent_at",),
        source="The requester and the staff handling the request.",
    )

    def __str__(self):
        return "Message #%s" % self.pk
