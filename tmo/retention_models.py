"""The retention schedule, legal holds, disposal reviews and their certificates.

The schedule holds one rule per kind of record in the personal-data map, seeded from the map's own
`Retention` and changed only by the data protection lead. A daily sweep lists rows past their date
into a disposal review; the DPO holds or excludes rows and approves the rest; disposal leaves a
certificate. Reviews, candidates and certificates name records by type and number only: no value
from a record is ever copied here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = [
    "DisposalCandidate",
    "DisposalCertificate",
    "DisposalReview",
    "LegalHold",
    "RetentionRule",
]


class RetentionRule(VersionedModel):
    """How long one kind of record is kept, and what happens at the end of it."""

    class Action(models.TextChoices):
        DELETE = "delete", _("Delete")
        ANONYMISE = "anonymise", _("Anonymise (blank the personal details, keep the row)")

    # The model's label_lower, e.g. "records.tenancy": one rule per kind of record.
    model_label = models.CharField(max_length=100, unique=True)
    years = models.PositiveSmallIntegerField()
    after = models.CharField("Counted from", max_length=200)
    # A date field of the model, or a path through its foreign keys ("request__completed_on").
    # Empty: no field records the event, so rows are reviewed by hand and the sweep skips them.
    date_field = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.DELETE)
    # Fields blanked on anonymising beyond those the map and encryption already cover.
    extra_fields = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model_label"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Keeping each kind of record no longer than the organisation's retention schedule.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return "Retention rule for %s" % self.model_label

    @property
    def by_hand(self) -> bool:
        return not self.date_field

    @property
    def period(self) -> str:
        return "%d year%s after %s" % (self.years, "" if self.years == 1 else "s", self.after)


class LegalHold(models.Model):
    """A row that must not be disposed of (a claim, an investigation, a complaint to the ICO).

    A hold on a person's register entry holds every record about them."""

    model_label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    reason = models.TextField()
    ends_on = models.DateField(null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        indexes = [models.Index(fields=["model_label", "object_id"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Keeping records needed for a legal claim, investigation or complaint beyond "
        "their retention period.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the hold is lifted", field="lifted_at"),
        # The reason may describe a claim about someone: kept out of the audit entries.
        sensitive_fields=("reason", "lift_reason"),
        unlinked_reason="A hold names a record by type and number; the person is found through "
        "that record.",
    )

    def __str__(self):
        return "Legal hold #%s" % self.pk

    @staticmethod
    def live_filter(today=None) -> models.Q:
        today = today or timezone.localdate()
        return models.Q(lifted_at__isnull=True) & (
            models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today)
        )

    def is_live(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.lifted_at is None and (self.ends_on is None or self.ends_on >= today)


class DisposalReview(models.Model):
    """A batch of rows past their retention date, waiting for the DPO's decision."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        APPROVED = "approved", _("Approved: disposal under way")
        COMPLETED = "completed", _("Disposed of")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    swept_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Reviewing and approving the disposal of records past their retention date.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return "Disposal review #%s" % self.pk

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class DisposalCandidate(models.Model):
    """One row in a review: its type, number and the date its period ended. Nothing else."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("To be disposed of")
        EXCLUDED = "excluded", _("Excluded: kept this time")
        HELD = "held", _("On legal hold")
        DELETED = "deleted", _("Deleted")
        ANONYMISED = "anonymised", _("Anonymised")
        BLOCKED = "blocked", _("Could not be disposed of")
        GONE = "gone", _("Already gone")
        NOT_DUE = "not_due", _("No longer due")

    review = models.ForeignKey(DisposalReview, on_delete=models.CASCADE, related_name="candidates")
    model_label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    due_on = models.DateField(help_text="The last day of the retention period.")
    action = models.CharField(max_length=20, choices=RetentionRule.Action.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    # Why it was excluded, or what stood in the way of disposal.
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_label", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "model_label", "object_id"], name="one_candidate_per_row"
            )
        ]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Listing records for the data protection lead to review before disposal.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
        sensitive_fields=("note",),
    )

    def __str__(self):
        return "%s %s" % (self.model_label, self.object_id)

    @property
    def key(self) -> tuple[str, str]:
        return (self.model_label, self.object_id)


class DisposalCertificate(models.Model):
    """What was disposed of, how many, when and on whose approval: counts, never content."""

    review = models.OneToOneField(
        DisposalReview, on_delete=models.PROTECT, related_name="certificate"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    completed_at = models.DateTimeField(default=timezone.now)
    # One line per kind of record: its name, rule and counts (see tmo.retention.certificate_lines).
    lines = models.JSONField(default=list)
    files_removed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-completed_at", "-pk"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Proving that records were disposed of on schedule and with approval.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return "DC-%05d" % self.pk

    def total(self, key: str) -> int:
        return sum(line.get(key, 0) for line in self.lines)

    @property
    def total_deleted(self) -> int:
        return self.total("deleted")

    @property
    def total_anonymised(self) -> int:
        return self.total("anonymised")

    @property
    def total_blocked(self) -> int:
        return self.total("blocked")
