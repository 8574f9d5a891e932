"""Undertakings, training and access reviews: what a user must have done before reading records,
and the DPO's periodic check that everyone's access is still needed."""

import calendar
import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = [
    "AccessReview",
    "AccessReviewItem",
    "ConfidentialityCode",
    "TrainingModule",
    "TrainingRecord",
    "Undertaking",
    "add_months",
]

STAFF_ACCOUNTS_REASON = (
    "About staff and committee accounts, not people on the register; a staff member's subject "
    "access request is answered from their account."
)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the month's last day where that day does not exist."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ConfidentialityCodeQuerySet(models.QuerySet):
    def published(self, now=None):
        return self.filter(published_at__lte=now or timezone.now())

    def current(self, now=None):
        """The latest published version, as a queryset of at most one row (so it can be annotated)."""
        return self.published(now).order_by("-published_at", "-pk")[:1]


class ConfidentialityCode(models.Model):
    """One published version of the confidentiality code; the latest is the one to sign."""

    version = models.CharField(max_length=20, unique=True, help_text="For example, 3 or 2026.1.")
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    # Empty for the first version, published by the data migration before anyone signed in.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ConfidentialityCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = "confidentiality code version"

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Publishing the confidentiality code that staff and committee members sign.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return "Confidentiality code version %s" % self.version


class Undertaking(models.Model):
    """A user's signed promise to follow one version of the code."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="undertakings"
    )
    code = models.ForeignKey(
        ConfidentialityCode, on_delete=models.PROTECT, related_name="undertakings"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    # The name as the user typed it when signing: their own act, kept as the evidence.
    signed_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "code"], name="one_undertaking_per_version")
        ]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Showing that each user undertook to keep records confidential before using them.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the account is closed"),
        unlinked_reason=STAFF_ACCOUNTS_REASON,
    )

    def __str__(self):
        return "Undertaking #%s (version %s)" % (self.pk, self.code.version)


class TrainingModule(models.Model):
    """A data protection training module required of the roles it names."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    # access.roles.Role values. A short list read whole: modules are few and are filtered in Python.
    roles = models.JSONField(default=list)
    validity_months = models.PositiveSmallIntegerField(default=12)

    class Meta:
        ordering = ["name"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Listing the data protection training each role must keep up to date.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return self.name

    def applies_to(self, roles) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def role_labels(self) -> list[str]:
        from access.roles import Role

        return [str(Role(role).label) for role in self.roles if role in Role.values]


class TrainingRecord(models.Model):
    """One completion of a module by a user; a renewal is a new record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records"
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.PROTECT, related_name="records")
    completed_on = models.DateField()
    # Computed from the module's validity when saved: the first day the training no longer counts.
    expires_on = models.DateField(editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    evidence = models.TextField(blank=True, help_text="For example, the course certificate number.")

    class Meta:
        ordering = ["-completed_on", "-pk"]
        indexes = [models.Index(fields=["user", "module", "expires_on"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Showing that users with access to records are trained to handle them.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the account is closed"),
        unlinked_reason=STAFF_ACCOUNTS_REASON,
    )

    def __str__(self):
        return "%s completed %s" % (self.module, self.completed_on)

    def save(self, *args, **kwargs):
        self.expires_on = add_months(self.completed_on, self.module.validity_months)
        super().save(*args, **kwargs)


class AccessReview(models.Model):
    """A quarterly (or on-demand) review of everyone's access, from a snapshot taken at its start."""

    period = models.CharField(max_length=50, help_text="For example, 2026 Q3.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Recording that the organisation reviews who has access to records.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=6, after="the review"),
    )

    def __str__(self):
        return "Access review %s" % self.period

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class AccessReviewItem(models.Model):
    """One piece of access found when the review started, and the DPO's decision on it."""

    class Kind(models.TextChoices):
        ROLE = "role", _("Role membership")
        ASSIGNMENT = "assignment", _("Assignment")
        OBJECT_PERMISSION = "object_permission", _("Permission on a record")
        COMMITTEE_GRANT = "committee_grant", _("Committee grant")
        EMERGENCY_ACCESS = "emergency_access", _("Emergency access")

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        REVOKED = "revoked", _("Revoked")

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Whose access it is (empty for a team's permission or a grant to several members).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What holds the access: the group, the assigning row (a patch), the permission row, the grant.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    # For an assignment, the many-to-many field on that row ("officers").
    relation = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "description", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording each piece of access reviewed and whether it was kept or removed.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the review", field="review__completed_at"),
        unlinked_reason=STAFF_ACCOUNTS_REASON,
    )

    def __str__(self):
        return self.description

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)
