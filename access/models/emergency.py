"""Emergency ("break the glass") access, and the breach record a misuse of it opens."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = ["Breach", "EmergencyAccess"]

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
        retention=Retention(years=6, after="the review"),
        subject_generic=("content_type", "object_id"),
    )

    def __str__(self):
        return "Emergency access #%s" % self.pk

    @staticmethod
    def live_filter(now=None) -> Q:
        return Q(expires_at__gt=now or timezone.now())

    def is_live(self, now=None) -> bool:
        return self.expires_at > (now or timezone.now())


class Breach(models.Model):
    """A suspected or actual personal data breach. Issue 6 builds the full log on this record."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    summary = models.TextField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    became_aware_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-reported_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording, containing and reporting personal data breaches.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the breach is closed"),
        sensitive_fields=("summary",),
        unlinked_reason="The people affected are named in the breach record itself.",
    )

    def __str__(self):
        return "Breach #%s" % self.pk
