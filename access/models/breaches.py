"""The breach log: suspected and actual personal data breaches, from the first report to closure.

A breach is reported by anyone (staff, a committee member, a resident through the portal), opened
by the DPO from a misused emergency access, or raised by the unusual-access check for review. The
72-hour clock for telling the ICO (UK GDPR Art. 33(1)) runs from `became_aware_at`; an automated
finding has no awareness time until the DPO confirms it is a suspected breach.

People affected are linked by content type and id (BreachSubject), because `access` knows no app
above it.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.policy import NOTHING, PolicyQuerySet
from access.roles import Role, roles_of
from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention

__all__ = [
    "Breach",
    "BreachClock",
    "BreachOutcome",
    "BreachSubject",
    "UnusualAccessFinding",
    "ICO_DEADLINE",
]

ICO_DEADLINE = datetime.timedelta(hours=72)
BREACH_VIEWER_ROLES = frozenset({Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER})

BREACH_PEOPLE_REASON = (
    "The people affected are linked through breach subjects; this row holds what happened."
)
ACCOUNTS_REASON = "About staff and committee accounts, not people on the register."


class BreachQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        # The DPO handles breaches; senior officers may read them (escalations reach them).
        if roles_of(user) & BREACH_VIEWER_ROLES:
            return Q()
        return NOTHING

    def clock_running(self):
        """Breaches whose 72-hour clock is running: aware, not closed or dismissed, and no final
        decision on telling the ICO (a decision to report still waits for the report)."""
        return self.filter(
            became_aware_at__isnull=False,
            status__in=[Breach.Status.REPORTED, Breach.Status.OPEN],
            ico_decision__in=[Breach.IcoDecision.UNDECIDED, Breach.IcoDecision.REPORTABLE],
        )

    def untriaged(self):
        return self.filter(status__in=[Breach.Status.REPORTED, Breach.Status.FOR_REVIEW])

    def live(self):
        return self.filter(
            status__in=[Breach.Status.REPORTED, Breach.Status.FOR_REVIEW, Breach.Status.OPEN]
        )


@dataclass(frozen=True)
class BreachClock:
    """Where a breach stands against the 72 hours, for every page that shows it."""

    deadline: datetime.datetime | None
    running: bool
    hours_left: int | None
    overdue: bool
    label: str

    @property
    def urgent(self) -> bool:
        return self.running and (self.overdue or (self.hours_left or 0) < 24)


class Breach(VersionedModel):
    """A suspected or actual personal data breach, or an unusual-access finding for review."""

    class Kind(models.TextChoices):
        REPORTED = "reported", _("Reported by staff or a committee member")
        RESIDENT = "resident", _("Reported by a resident")
        EMERGENCY_MISUSE = "emergency_misuse", _("Misuse of emergency access")
        UNUSUAL_ACCESS = "unusual_access", _("Unusual access")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported: waiting for the data protection lead")
        FOR_REVIEW = "for_review", _("For review")
        OPEN = "open", _("Open")
        NOT_A_BREACH = "not_a_breach", _("Not a breach")
        CLOSED = "closed", _("Closed")

    class HowReported(models.TextChoices):
        ONLINE = "online", _("Online form")
        PORTAL = "portal", _("Resident portal")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        LETTER = "letter", _("Letter")
        EMERGENCY_REVIEW = "emergency_review", _("Emergency access review")
        AUDIT_CHECK = "audit_check", _("Unusual-access check")

    class Likelihood(models.TextChoices):
        REMOTE = "remote", _("Remote")
        POSSIBLE = "possible", _("Possible")
        LIKELY = "likely", _("Likely")

    class Severity(models.TextChoices):
        MINIMAL = "minimal", _("Minimal")
        SIGNIFICANT = "significant", _("Significant")
        SEVERE = "severe", _("Severe")

    class RiskLevel(models.TextChoices):
        LOW = "low", _("Low: unlikely to result in a risk to people")
        MEDIUM = "medium", _("Medium: a risk to people's rights")
        HIGH = "high", _("High: a high risk to people's rights")

    class IcoDecision(models.TextChoices):
        UNDECIDED = "", _("Not decided")
        REPORTABLE = "reportable", _("Reportable: not yet reported")
        REPORTED = "reported", _("Reported to the ICO")
        NOT_REPORTABLE = "not_reportable", _("Not reportable")

    class PeopleTold(models.TextChoices):
        UNDECIDED = "", _("Not decided")
        TOLD = "told", _("Told")
        NOT_TOLD = "not_told", _("Not told")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REPORTED)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    summary = models.TextField(verbose_name="what happened")
    occurred_at = models.DateTimeField(null=True, blank=True, verbose_name="when it happened")
    # Empty only for a finding the DPO has not yet confirmed: no clock runs for it.
    became_aware_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Empty for a finding raised by the unusual-access check.
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    how_reported = models.CharField(
        max_length=20, choices=HowReported.choices, default=HowReported.ONLINE
    )
    source_details = models.TextField(
        blank=True, help_text="Who told us, where it was not the person who reported it here."
    )
    # The staff or committee member whose conduct the breach is about, where there is one.
    concerns_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triage_notes = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    data_description = models.TextField(blank=True)
    data_categories = models.JSONField(default=list, blank=True)
    approx_people = models.PositiveIntegerField(null=True, blank=True)
    approx_records = models.PositiveIntegerField(null=True, blank=True)

    likelihood = models.CharField(max_length=20, choices=Likelihood.choices, blank=True)
    severity = models.CharField(max_length=20, choices=Severity.choices, blank=True)
    risk_level = models.CharField(max_length=20, choices=RiskLevel.choices, blank=True)
    risk_notes = models.TextField(blank=True)
    risk_assessed_at = models.DateTimeField(null=True, blank=True)

    containment = models.TextField(blank=True)
    recovery = models.TextField(blank=True)
    contained_at = models.DateTimeField(null=True, blank=True)

    ico_decision = models.CharField(
        max_length=20, choices=IcoDecision.choices, blank=True, default=IcoDecision.UNDECIDED
    )
    ico_decided_at = models.DateTimeField(null=True, blank=True)
    ico_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ico_reference = models.CharField(max_length=100, blank=True)
    reported_to_ico_at = models.DateTimeField(null=True, blank=True)
    not_reported_reasons = models.TextField(blank=True)
    # Art. 33(1): a report made after the 72 hours carries the reasons for the delay.
    late_reasons = models.TextField(blank=True)

    people_told = models.CharField(
        max_length=20, choices=PeopleTold.choices, blank=True, default=PeopleTold.UNDECIDED
    )
    people_told_at = models.DateTimeField(null=True, blank=True)
    people_told_how = models.TextField(blank=True)
    people_not_told_reasons = models.TextField(blank=True)

    lessons_learned = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Hours-left thresholds already alerted, so the deferred task and the daily job send each once.
    alerts_sent = models.JSONField(default=list, blank=True)

    objects = BreachQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-pk"]
        verbose_name_plural = "breaches"
        indexes = [models.Index(fields=["status", "reported_at"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording, containing and reporting personal data breaches (UK GDPR Art. 33(5)).",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the breach is closed", field="closed_at"),
        # What happened, who told us and why: free text that may name people or their data.
        sensitive_fields=(
            "summary",
            "source_details",
            "triage_notes",
            "data_description",
            "risk_notes",
            "containment",
            "recovery",
            "not_reported_reasons",
            "late_reasons",
            "people_told_how",
            "people_not_told_reasons",
            "lessons_learned",
        ),
        unlinked_reason=BREACH_PEOPLE_REASON,
        internal_fields=("edit_version",),
    )

    def __str__(self):
        return "Breach #%s" % self.pk

    @property
    def deadline(self) -> datetime.datetime | None:
        if self.became_aware_at is None:
            return None
        return self.became_aware_at + ICO_DEADLINE

    @property
    def is_untriaged(self) -> bool:
        return self.status in {self.Status.REPORTED, self.Status.FOR_REVIEW}

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.CLOSED, self.Status.NOT_A_BREACH}

    @property
    def ico_decision_final(self) -> bool:
        return self.ico_decision in {self.IcoDecision.REPORTED, self.IcoDecision.NOT_REPORTABLE}

    def clock_is_running(self) -> bool:
        return (
            self.became_aware_at is not None
            and self.status in {self.Status.REPORTED, self.Status.OPEN}
            and not self.ico_decision_final
        )

    def hours_left(self, now=None) -> float | None:
        if self.deadline is None:
            return None
        return (self.deadline - (now or timezone.now())).total_seconds() / 3600

    def clock(self, now=None) -> BreachClock:
        now = now or timezone.now()
        deadline = self.deadline
        if deadline is None:
            return BreachClock(None, False, None, False, "Clock not started")
        if self.ico_decision == self.IcoDecision.REPORTED:
            late = self.reported_to_ico_at and self.reported_to_ico_at > deadline
            return BreachClock(
                deadline,
                False,
                None,
                False,
                "Reported to the ICO late" if late else "Reported to the ICO in time",
            )
        if self.ico_decision == self.IcoDecision.NOT_REPORTABLE:
            return BreachClock(deadline, False, None, False, "Not reportable to the ICO")
        if self.is_finished:
            return BreachClock(deadline, False, None, False, "No report to the ICO")
        left = self.hours_left(now)
        if left < 0:
            over = int(-left)
            return BreachClock(
                deadline,
                True,
                int(left),
                True,
                "Overdue by %d hour%s" % (over, "" if over == 1 else "s")
                if over
                else "Overdue by less than an hour",
            )
        whole = int(left)
        label = (
            "%d hour%s left" % (whole, "" if whole == 1 else "s")
            if whole
            else "Less than an hour left"
        )
        return BreachClock(deadline, True, whole, False, label)

    @property
    def current_clock(self) -> BreachClock:
        return self.clock()


class BreachSubject(models.Model):
    """A record on the register about someone the breach affects (usually a person)."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="subjects")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "content_type", "object_id"], name="one_subject_row_per_record"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Knowing whom a personal data breach affected, to assess the risk and tell them.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the breach is closed", field="breach__closed_at"),
        subject_generic=("content_type", "object_id"),
    )

    def __str__(self):
        return "%s affected by breach #%s" % (self.content_type.name, self.breach_id)


class BreachOutcome(models.Model):
    """What followed for the person responsible, as the confidentiality code says."""

    class Kind(models.TextChoices):
        COMMITTEE_REMOVAL = "committee_removal", _("Removed from the committee")
        DISCIPLINARY_REFERRAL = "disciplinary_referral", _("Referred for disciplinary action")

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referred_to = models.CharField(max_length=200, blank=True)
    referred_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording the outcome of a breach for the person responsible (removal from the "
        "committee, disciplinary referral), as the confidentiality code requires.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the breach is closed", field="breach__closed_at"),
        sensitive_fields=("notes",),
        unlinked_reason=ACCOUNTS_REASON,
    )

    def __str__(self):
        return "%s (breach #%s)" % (self.get_kind_display(), self.breach_id)


class UnusualAccessFinding(models.Model):
    """One finding of the unusual-access check: which user, which day, what kind, which entries.

    Unique per user, day and kind, so running the check again never raises it twice."""

    class Kind(models.TextChoices):
        VOLUME = "volume", _("Far more records than usual")
        OUT_OF_SCOPE = "out_of_scope", _("Records outside their usual scope")

    breach = models.OneToOneField(Breach, on_delete=models.PROTECT, related_name="finding")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    distinct_records = models.PositiveIntegerField()
    baseline = models.FloatField(null=True, blank=True)
    # Audit entry ids (ids only: the entries themselves stay in the append-only log).
    entry_ids = models.JSONField(default=list, blank=True)
    entry_count = models.PositiveIntegerField(default=0)
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "kind"], name="one_unusual_access_finding_per_day"
            )
        ]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Spotting misuse of access to records: users opening far more records than "
        "usual, or records outside their work.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the breach is closed", field="breach__closed_at"),
        unlinked_reason=ACCOUNTS_REASON,
    )

    def __str__(self):
        return "%s on %s" % (self.get_kind_display(), self.day.isoformat())
