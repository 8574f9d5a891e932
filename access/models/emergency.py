"""Emergency ("break the glass") access. A misuse of it opens a breach (access.models.breaches)."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = ["EmergencyAccess", "EmergencyAccessAttempt"]

EMERGENCY_ACCESS_DURATION = datetime.timedelta(hours=4)


class EmergencyAccess(models.Model):
    """A staff member's own-reason access to one record outside their scope, for four hours."""

    class Review(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        JUSTIFIED = "justified", _("Justified")
        BREACH = "breach", _("Breach opened")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    reason = models.TextField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    review = models.CharField(max_length=20, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_notes = models.TextField(blank=True)
    breach = models.ForeignKey(
        "access.Breach", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "content_type", "expires_at"])]
        verbose_name_plural = "emergency accesses"

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Accountability for emergency access to records outside a user's normal scope.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the review", field="reviewed_at"),
        # The user's own words may say why the person is at risk: kept out of the audit entries.
        sensitive_fields=("reason", "review_notes"),
        subject_generic=("content_type", "object_id"),
    )

    def __str__(self):
        return "Emergency access #%s" % self.pk

    @staticmethod
    def live_filter(now=None) -> Q:
        return Q(expires_at__gt=now or timezone.now())

    def is_live(self, now=None) -> bool:
        return self.expires_at > (now or timezone.now())

    @property
    def is_pending(self) -> bool:
        return self.review == self.Review.PENDING


class EmergencyAccessAttempt(models.Model):
    """Every use of the emergency access form that got as far as a look-up, matched or not.

    Only attempts that gave a reason and the right password are looked up, so each row is a
    deliberate request; the DPO sees unmatched ones to spot fishing for people by identifier. The
    identifier itself is not kept unless it is a record number: an NI number, email or phone
    typed here is personal data about someone who may not be on file.
    """

    class Kind(models.TextChoices):
        RECORD_NUMBER = "record_number", _("Record number")
        NI_NUMBER = "ni_number", _("National Insurance number")
        EMAIL = "email", _("Email address")
        PHONE = "phone", _("Phone number")

    class Outcome(models.TextChoices):
        OPENED = "opened", _("Emergency access opened")
        IN_SCOPE = "in_scope", _("Already within the user's scope")
        NO_MATCH = "no_match", _("No single record matched")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_attempts"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    identifier_kind = models.CharField(max_length=20, choices=Kind.choices)
    record_number = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.TextField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    access = models.ForeignKey(
        EmergencyAccess, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "attempted_at"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Accountability for attempts to use emergency access, including unmatched ones.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the attempt", field="attempted_at"),
        sensitive_fields=("reason",),
        unlinked_reason="An attempt names its user; the person reached, if any, is named by the "
        "emergency access it opened.",
    )

    def __str__(self):
        return "Emergency access attempt #%s" % self.pk
