"""Rights-request models: the items collected for a subject access answer, their review and
redactions, and the bundle built from them (encrypted at rest, offered for a limited time, every
download recorded)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.policy import NOTHING, PolicyQuerySet
from sar.models.requests import SubjectAccessRequest
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import EncryptedTextField

__all__ = ["Bundle", "BundleDownload", "SarItem", "SarRedaction"]

REDACTED_MARK = "[redacted: third-party information]"


class _ThroughRequestQuerySet(PolicyQuerySet):
    """Whoever may see the rights request may see what is assembled for it; nobody else."""

    request_path = "request"

    def scope(self, user):
        visible = SubjectAccessRequest.objects.all().scope(user)
        if visible == NOTHING:
            return NOTHING
        if not visible:
            return Q()
        requests = SubjectAccessRequest.objects.filter(visible).values("pk")
        return Q(**{self.request_path + "__in": requests})


class BundleQuerySet(_ThroughRequestQuerySet):
    pass


class SarItemQuerySet(_ThroughRequestQuerySet):
    pass


class RedactionQuerySet(_ThroughRequestQuerySet):
    request_path = "item__request"


class Bundle(models.Model):
    """One answer to a subject access request, from collection through review and sign-off to
    the built, encrypted file. Only a READY bundle is ever offered."""

    class Status(models.TextChoices):
        REVIEWING = "reviewing", _("Being reviewed")
        AWAITING_SIGN_OFF = "awaiting_sign_off", _("Waiting for sign-off")
        QUEUED = "queued", _("Queued to build")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Build failed")
        EXPIRED = "expired", _("Expired")

    MAX_ATTEMPTS = 3
    # A build reports progress at least this often; one silent for longer was interrupted.
    STALE_AFTER = datetime.timedelta(hours=2)
    OFFER_DAYS = 30

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.PROTECT, related_name="bundles"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REVIEWING)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    collected_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    storage_name = models.CharField(max_length=64, blank=True, editable=False)
    size = models.PositiveIntegerField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    # Written by the build as it goes: a bundle still building whose heartbeat has stopped was
    # interrupted (the worker killed) and is queued again (services.recover_stalled_builds).
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    # SHA-256 of the finished zip, checked on every download: only the whole file is served.
    checksum = models.CharField(max_length=64, blank=True, editable=False)

    objects = BundleQuerySet.as_manager()

    class Meta:
        ordering = ["-collected_at", "-pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Answering subject access requests with a complete, redacted copy of the data.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        subject_paths=("request__person",),
        internal_fields=(
            "storage_name",
            "size",
            "progress",
            "attempts",
            "last_error",
            "heartbeat_at",
            "checksum",
        ),
        encrypted_files=("storage_name",),
    )

    def __str__(self):
        return "Bundle for %s" % self.request.reference

    @property
    def is_offered(self) -> bool:
        return (
            self.status == self.Status.READY
            and bool(self.storage_name)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


class SarItem(models.Model):
    """A snapshot of one row about the requester, taken when the bundle was collected, with the
    handler's decision on it. `data` is JSON: {"fields": [{"name", "label", "value"}], "files":
    [{"storage_name", "filename"}]}, encrypted like the row it came from."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Not yet decided")
        INCLUDED = "included", _("Include")
        WITHHELD = "withheld", _("Withhold")

    class Exemption(models.TextChoices):
        THIRD_PARTY = (
            "third_party",
            _("Third-party information: DPA 2018 Sch. 2 Part 3 para 16"),
        )
        LEGAL_PRIVILEGE = "legal_privilege", _("Legal professional privilege")
        CRIME_TAXATION = "crime_taxation", _("Crime and taxation: DPA 2018 Sch. 2 Part 1 para 2")
        OTHER = "other", _("Another exemption (say which)")

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="items"
    )
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    model_label = models.CharField(max_length=100)
    record_name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    data = EncryptedTextField()
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    exemption = models.CharField(max_length=20, choices=Exemption.choices, blank=True)
    # The factors considered (third-party information) or the exemption relied on (other).
    exemption_reason = EncryptedTextField()
    # Set when the data map says rows like this are always held back from the subject.
    withheld_by_map = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = SarItemQuerySet.as_manager()

    class Meta:
        ordering = ["bundle", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Reviewing what a subject access answer holds before it is released.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        sensitive_fields=("data", "exemption_reason"),
        subject_paths=("request__person",),
    )

    def __str__(self):
        return "%s #%s" % (self.record_name, self.object_id)

    @property
    def has_redactions(self) -> bool:
        return any(r.status == SarRedaction.Status.ACCEPTED for r in self.redactions.all())


class SarRedaction(models.Model):
    """A span of one field of one item to black out: proposed by the system (other people's
    details found in the requester's records) or added by the handler. A third party's
    safety-protected detail is redacted outright and cannot be rejected."""

    class Kind(models.TextChoices):
        NAME = "name", _("Another person's name")
        ADDRESS = "address", _("An address")
        POSTCODE = "postcode", _("A postcode")
        PHONE = "phone", _("A phone number")
        EMAIL = "email", _("An email address")
        NI_NUMBER = "ni_number", _("A National Insurance number")
        SAFETY = "safety", _("A protected detail of someone with a safety marker")
        MANUAL = "manual", _("Marked by the handler")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Redacted")
        REJECTED = "rejected", _("Left in")

    item = models.ForeignKey(SarItem, on_delete=models.CASCADE, related_name="redactions")
    field_name = models.CharField(max_length=100)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = EncryptedTextField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    mandatory = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = RedactionQuerySet.as_manager()

    class Meta:
        ordering = ["item", "field_name", "start"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording what was redacted from a subject access answer and why.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="item__request__completed_on"
        ),
        sensitive_fields=("text",),
        subject_paths=("item__request__person",),
    )

    def __str__(self):
        return "Redaction #%s" % self.pk


class BundleDownload(models.Model):
    """Every download of a bundle: who, when, from where."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="downloads")
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    downloaded_at = models.DateTimeField(default=timezone.now)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-downloaded_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Showing who collected a subject access answer, when and from where.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="bundle__request__completed_on"
        ),
        subject_paths=("bundle__request__person",),
    )

    def __str__(self):
        return "Download of bundle #%s" % self.bundle_id
