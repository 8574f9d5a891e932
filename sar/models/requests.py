"""Rights requests (access, rectification, erasure, restriction, objection, withdrawing consent),
their clock and every change of due date."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from access.policy import NOTHING, PolicyQuerySet
from access.roles import STAFF_ROLES, Role, roles_of
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import EncryptedCharField, EncryptedTextField

__all__ = [
    "ClockStop",
    "DueDateChange",
    "InternalReview",
    "RightsAction",
    "SubjectAccessRequest",
]

HANDLER_ROLES = {Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD}


class SubjectAccessRequestQuerySet(PolicyQuerySet):
    """Staff: the DPO and senior officers see every request; a handler sees those they handle.
    A resident sees their own only through the portal's own lookups, never through this."""

    def scope(self, user):
        from django.db.models import Q

        roles = roles_of(user)
        if roles & HANDLER_ROLES:
            return Q()
        if roles & STAFF_ROLES:
            return Q(handler=user) | Q(logged_by=user)
        return NOTHING


class SubjectAccessRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access: a copy of my data")
        RECTIFICATION = "rectification", _("Rectification: correct my data")
        ERASURE = "erasure", _("Erasure: delete my data")
        RESTRICTION = "restriction", _("Restriction: limit how my data is used")
        OBJECTION = "objection", _("Objection to how my data is used")
        WITHDRAW_CONSENT = "withdraw_consent", _("Withdrawing consent")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")

    class Status(models.TextChoices):
        AWAITING_IDENTITY = "awaiting_identity", _("Waiting for identity evidence")
        CLOCK_STOPPED = "clock_stopped", _("Clock stopped: waiting for clarification")
        IN_PROGRESS = "in_progress", _("In progress")
        IN_REVIEW = "in_review", _("Being reviewed")
        SIGNED_OFF = "signed_off", _("Signed off")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (
        Status.AWAITING_IDENTITY,
        Status.CLOCK_STOPPED,
        Status.IN_PROGRESS,
        Status.IN_REVIEW,
        Status.SIGNED_OFF,
    )

    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ACCESS)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # The register entry the request is about, once matched; the requester may not be on it.
    person = models.ForeignKey(
        "records.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_requests",
    )
    requester_name = models.CharField(max_length=200)
    requester_email = EncryptedCharField(max_length=254)
    requester_address = EncryptedTextField()
    # A request made by someone acting for the person, under their recorded authority.
    representative = models.ForeignKey(
        "records.AuthorisedRepresentative",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_requests",
    )
    details = EncryptedTextField(help_text="What the requester asked for, in their words.")
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    received_on = models.DateField()
    identity_required = models.BooleanField(default=True)
    identity_received_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extension_told_on = models.DateField(null=True, blank=True)
    # Kept in step by sar.services on every clock event; every change is a DueDateChange row.
    due_date = models.DateField(null=True, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_requests_handled",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField(auto_now_add=True)
    completed_on = models.DateField(null=True, blank=True)
    outcome = EncryptedTextField(help_text="What was done, and the reasons for any refusal.")
    # The day the due-date reminder last went out, so the daily run sends it once a day at most.
    last_reminder_on = models.DateField(null=True, blank=True)

    objects = SubjectAccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Answering people's requests to exercise their data protection rights.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=2, after="the request is completed", field="completed_on"),
        sensitive_fields=("requester_email", "requester_address", "details", "outcome"),
        subject_paths=("person",),
        source="The requester.",
    )

    def __str__(self):
        return self.reference

    def clock_start(self):
        """The day the clock runs from: receipt, or the identity evidence where it was asked for."""
        if self.identity_required:
            return self.identity_received_on
        return self.received_on

    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ClockStop(models.Model):
    """The clock stands stopped while genuinely needed clarification is awaited."""

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="clock_stops"
    )
    stopped_on = models.DateField()
    reason = models.TextField()
    restarted_on = models.DateField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["stopped_on"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Showing why a rights request's clock stood stopped.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        subject_paths=("request__person",),
    )

    def __str__(self):
        return "Clock stopped on %s" % self.stopped_on.isoformat()

    def days_stopped(self, today) -> int:
        return ((self.restarted_on or today) - self.stopped_on).days


class DueDateChange(models.Model):
    """Every change of a request's due date, with why: the clock's own audit trail."""

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="due_date_changes"
    )
    old_due_date = models.DateField(null=True, blank=True)
    new_due_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Recording every change of a rights request's due date.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=2, after="the request is completed"),
    )

    def __str__(self):
        return "%s -> %s" % (self.old_due_date, self.new_due_date)


class InternalReview(models.Model):
    """A requester's challenge to the answer, decided by someone other than the original handler.
    Whatever the outcome, the reply tells them of their right to complain to the ICO."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld: we got it wrong and will put it right")
        PARTLY = "partly", _("Partly upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld: the answer stands")

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="internal_reviews"
    )
    grounds = EncryptedTextField(help_text="What the requester disagrees with, in their words.")
    requested_at = models.DateTimeField(auto_now_add=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_details = EncryptedTextField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Reviewing a requester's complaint about the answer to their rights request.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=2, after="the review is decided", field="decided_at"),
        sensitive_fields=("grounds", "outcome_details"),
        subject_paths=("request__person",),
        source="The requester, and the reviewing officer.",
    )

    def __str__(self):
        return "Internal review of %s" % self.request.reference

    def is_decided(self) -> bool:
        return self.decided_at is not None


class RightsAction(models.Model):
    """What was done to the records to carry out a rectification, erasure or restriction, row
    by row, with the reasons for anything refused. The register row itself may be gone (erased),
    so it is named by its type and id rather than linked."""

    class Action(models.TextChoices):
        ERASED = "erased", _("Erased")
        KEPT = "kept", _("Kept: not erased")
        RECTIFIED = "rectified", _("Corrected")
        RESTRICTED = "restricted", _("Processing restricted")
        RESTRICTION_LIFTED = "restriction_lifted", _("Restriction lifted")

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="rights_actions"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    model_label = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    record_name = models.CharField(max_length=100)
    # For a correction, which details changed (their labels, never the values).
    changed_fields = models.CharField(max_length=500, blank=True)
    reason = EncryptedTextField()
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording how a rights request was carried out in the records, and why anything "
        "was refused.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(
            years=2, after="the request is completed", field="request__completed_on"
        ),
        sensitive_fields=("reason",),
        subject_paths=("request__person",),
        internal_fields=("model_label", "object_id", "done_at"),
        source="The staff handling the request.",
    )

    def __str__(self):
        return "%s: %s #%s" % (self.get_action_display(), self.record_name, self.object_id)
