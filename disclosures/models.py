"""Third-party requests for information about residents, the decisions on them, and routine
sharing under data sharing agreements (repairs work orders above all)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disclosures import policies
from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention, WithheldFromSubject
from tmo.fields import EncryptedCharField, EncryptedTextField

# Telling the person would prejudice the crime purpose, so a subject access answer holds these back.
CRIME_REASON = (
    "Telling the person would prejudice the prevention or detection of crime: "
    "DPA 2018 Sch. 2 Part 1 para 2."
)


def _not_told_crime(path: str) -> WithheldFromSubject:
    return WithheldFromSubject(
        lookups=((path + "person_told", "not_told_crime"),),
        exemption="crime_taxation",
        reason=CRIME_REASON,
    )


class RequesterType(models.TextChoices):
    POLICE = "police", _("Police")
    COUNCIL = "council", _("Council")
    DWP = "dwp", _("Department for Work and Pensions")
    COURT = "court", _("Court or tribunal")
    SOLICITOR = "solicitor", _("Solicitor")
    UTILITY = "utility", _("Utility company")
    DEBT_COLLECTOR = "debt_collector", _("Debt collector")
    MP = "mp", _("Member of Parliament")
    COUNCILLOR = "councillor", _("Councillor")
    OTHER = "other", _("Other organisation")


class Basis(models.TextChoices):
    """What a disclosure relies on: the exemption or lawful basis, as the ICO's code asks."""

    CRIME_TAXATION = (
        "crime_taxation",
        _("Crime and taxation: DPA 2018 Sch. 2 Part 1 para 2 (not disclosing would prejudice it)"),
    )
    LEGAL_PROCEEDINGS = (
        "legal_proceedings",
        _("Required by law or for legal proceedings: DPA 2018 Sch. 2 Part 1 para 5"),
    )
    TENANCY_AGREEMENT = (
        "tenancy_agreement",
        _("The tenancy agreement or privacy notice told the tenant at the start"),
    )
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (UK GDPR Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (UK GDPR Art. 6(1)(d))")
    CONSENT = "consent", _("The person's consent")
    SHARING_AGREEMENT = "sharing_agreement", _("A data sharing agreement")


class DisclosureRequest(models.Model):
    """A third party's request, logged by any staff member and decided by a senior officer."""

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent (within 2 working days)")
        EMERGENCY = "emergency", _("Emergency: risk to life")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a decision")
        WAITING_DPO = "waiting_dpo", _("Waiting for the data protection lead")
        APPROVED = "approved", _("Approved: to send")
        SENT = "sent", _("Sent")
        REFUSED = "refused", _("Refused")

    reference = models.CharField(max_length=20, unique=True)
    requester_type = models.CharField(max_length=20, choices=RequesterType.choices)
    requester_organisation = models.CharField(max_length=200)
    requester_name = models.CharField(max_length=200, help_text="The named contact.")
    requester_contact = EncryptedTextField(help_text="Address, email or phone of the contact.")
    identity_check = models.CharField(
        max_length=300, help_text="How the requester's identity was checked."
    )
    person = models.ForeignKey(
        "records.Person", on_delete=models.PROTECT, related_name="disclosure_requests"
    )
    requested_items = models.JSONField(
        default=list, help_text="Keys of the data map's fields that were asked for."
    )
    request_details = EncryptedTextField(help_text="What they asked for, in their words.")
    purpose = EncryptedTextField(help_text="Why they say they need it.")
    basis = models.CharField(max_length=30, choices=Basis.choices)
    received_on = models.DateField(default=timezone.localdate)
    urgency = models.CharField(max_length=20, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    # A safety marker blocks the protected details unless the DPO records why they must go.
    safety_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    safety_override_reason = models.TextField(blank=True)
    safety_override_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField(auto_now_add=True)

    objects = policies.DisclosureRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-pk"]
        # The register pages through every request in this order.
        indexes = [
            models.Index(fields=["-received_on", "-id"], name="disclosure_register_order_idx")
        ]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Deciding and recording third-party requests for information about residents.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the decision"),
        sensitive_fields=("requester_contact", "request_details", "purpose"),
        subject_paths=("person",),
        source="The requesting organisation.",
        withheld_from_subject=_not_told_crime("decision__"),
    )

    def __str__(self):
        return self.reference


class DisclosureEvidence(models.Model):
    """The requester's paperwork (a police data protection form, a court order), encrypted."""

    request = models.ForeignKey(
        DisclosureRequest, on_delete=models.CASCADE, related_name="evidence"
    )
    title = models.CharField(max_length=200)
    original_filename = EncryptedCharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=64, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = policies.EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Keeping the evidence a disclosure decision relied on.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the decision"),
        sensitive_fields=("original_filename",),
        subject_paths=("request__person",),
        internal_fields=("storage_name", "content_type", "size"),
        encrypted_files=("storage_name",),
        withheld_from_subject=_not_told_crime("request__decision__"),
    )

    def __str__(self):
        return self.title


class DisclosureDecision(models.Model):
    """The one decision on a request: what is released, field by field, and why; or a refusal.

    One per request, enforced by the database, so two officers deciding at once cannot both win.
    """

    class Outcome(models.TextChoices):
        RELEASE = "release", _("Release everything asked for")
        PARTIAL = "partial", _("Release part of what was asked for")
        REFUSE = "refuse", _("Refuse")

    class PersonTold(models.TextChoices):
        NOT_YET = "not_yet", _("Not yet decided")
        TOLD = "told", _("The person has been told")
        NOT_TOLD_CRIME = (
            "not_told_crime",
            _("Not told: telling them would prejudice the crime purpose (Sch. 2 Part 1 para 2)"),
        )
        NOT_TOLD_OTHER = "not_told_other", _("Not told, for the reason recorded")

    request = models.OneToOneField(
        DisclosureRequest, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    released_items = models.JSONField(default=list)
    necessity = EncryptedTextField(help_text="Why each released item is necessary for the purpose.")
    reasons = EncryptedTextField(help_text="The reasons for the decision, released or refused.")
    special_category_condition = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decider_position = models.CharField(max_length=100)
    decided_at = models.DateTimeField(default=timezone.now)
    dpo_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dpo_approved_at = models.DateTimeField(null=True, blank=True)
    dpo_refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dpo_refused_at = models.DateTimeField(null=True, blank=True)
    dpo_refusal_reason = models.TextField(blank=True)
    recipient_confirmed = EncryptedTextField(
        help_text="The recipient's contact details as confirmed before sending."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Exactly what went out, as the pack showed it: [{"key", "label", "values": [...]}, ...].
    released_content = EncryptedTextField()
    pack_storage_name = models.CharField(max_length=64, blank=True, editable=False)
    person_told = models.CharField(
        max_length=20, choices=PersonTold.choices, default=PersonTold.NOT_YET
    )
    person_told_on = models.DateField(null=True, blank=True)
    person_told_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording what was disclosed about a person, to whom and why.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the decision", field="decided_at"),
        sensitive_fields=("necessity", "reasons", "recipient_confirmed", "released_content"),
        subject_paths=("request__person",),
        internal_fields=("pack_storage_name",),
        encrypted_files=("pack_storage_name",),
        withheld_from_subject=_not_told_crime(""),
    )

    def __str__(self):
        return "Decision on %s" % self.request.reference

    def needs_dpo_approval(self) -> bool:
        """Special category or criminal offence data, or anything about a person whose
        processing is restricted (shared then only on an Art. 18(2) ground), needs the data
        protection lead's approval too."""
        from tmo.datamap import disclosable_item

        if self.request.person.processing_restricted():
            return True
        return any(
            (item := disclosable_item(key)) is not None and item.needs_condition
            for key in self.released_items
        )


class DataSharingAgreement(VersionedModel):
    """A standing agreement to share named data with a partner for a purpose."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ENDED = "ended", _("Ended")

    partner = models.CharField(max_length=200)
    purpose = models.TextField()
    data_items = models.JSONField(default=list, help_text="Keys of the data map's fields shared.")
    legal_basis = models.CharField(max_length=30, choices=Basis.choices)
    signed_on = models.DateField(null=True, blank=True)
    review_on = models.DateField(help_text="When the agreement must be reviewed by.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    contractor = models.ForeignKey(
        "records.Contractor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sharing_agreements",
        help_text="For a repairs contractor: the contractor the agreement covers.",
    )

    class Meta:
        ordering = ["partner"]

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="The register of data sharing agreements.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=Retention(years=6, after="the agreement ends"),
    )

    def __str__(self):
        return self.partner

    def problems(self, day=None) -> list[str]:
        """Why sharing under this agreement must not go ahead today; empty when it may."""
        day = day or timezone.localdate()
        problems = []
        if self.status != self.Status.ACTIVE:
            problems.append(
                "The agreement with %s is %s, not active."
                % (self.partner, self.get_status_display().lower())
            )
        if self.review_on < day:
            problems.append(
                "The agreement with %s was due for review on %s and has not been reviewed."
                % (self.partner, self.review_on.strftime("%-d %B %Y"))
            )
        return problems


class WorkOrder(models.Model):
    """Routine sharing with a repairs contractor: only what the job needs, under an agreement."""

    reference = models.CharField(max_length=20, unique=True)
    agreement = models.ForeignKey(
        DataSharingAgreement, on_delete=models.PROTECT, related_name="work_orders"
    )
    contractor = models.ForeignKey(
        "records.Contractor", on_delete=models.PROTECT, related_name="work_orders"
    )
    person = models.ForeignKey(
        "records.Person", on_delete=models.PROTECT, related_name="work_orders"
    )
    tenancy = models.ForeignKey("records.Tenancy", on_delete=models.PROTECT, related_name="+")
    job = models.TextField(help_text="The repair to be done.")
    # Exactly what the contractor is sent: name, address, phone, access notes and plain flags.
    shared_content = EncryptedTextField()
    safety_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    safety_override_reason = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)

    objects = policies.WorkOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Getting repairs done: telling a contractor who to contact and how to get in.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the repair"),
        sensitive_fields=("shared_content",),
        subject_paths=("person",),
        recipients="The contractor named on the work order.",
    )

    def __str__(self):
        return self.reference


class InformationEnquiry(models.Model):
    """Someone (often a neighbour) asks about a repair or other matter; how it was answered."""

    class Response(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        REFUSED_DATA_PROTECTION = (
            "refused_data_protection",
            _("Refused: it would disclose someone's personal data"),
        )
        REFUSED_OTHER = "refused_other", _("Refused for another reason")

    enquirer = models.CharField(max_length=200)
    property = models.ForeignKey(
        "records.Property", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    about_repair = models.BooleanField(
        default=False, help_text="The enquiry is about a repair: what, when, how far along."
    )
    question = models.TextField()
    response = models.CharField(max_length=30, choices=Response.choices)
    response_details = models.TextField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name_plural = "information enquiries"

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Answering enquiries about repairs and services, and showing how each was answered.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=2, after="the enquiry", field="answered_at"),
        unlinked_reason="The enquirer is named in free text; enquirers need not be on the register.",
    )

    def __str__(self):
        return "Enquiry #%s" % self.pk
