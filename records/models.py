"""The people register and what is held about each person.

Each model declares its entry in the personal-data map (tmo.datamap) beside its fields, and its
manager is its access policy (records.policies): fetch through `Model.objects.visible_to(user)`.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from records import policies
from tmo import crypto
from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedDecimalField,
    EncryptedTextField,
)


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VOICEMAIL = "voicemail", _("Voicemail")
    TEXT_MESSAGE = "text_message", _("Text message")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    HOME_VISIT = "home_visit", _("Home visit")


class Patch(models.Model):
    """An area of homes looked after by named officers."""

    name = models.CharField(max_length=100, unique=True)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="patches")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "patches"

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Organising housing management by area and assigning officers.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return self.name


class Property(models.Model):
    """A home. Not personal data on its own; it becomes so when joined to a tenancy."""

    class PropertyType(models.TextChoices):
        FLAT = "flat", _("Flat")
        MAISONETTE = "maisonette", _("Maisonette")
        HOUSE = "house", _("House")
        BEDSIT = "bedsit", _("Bedsit")

    reference = models.CharField(max_length=20, unique=True)
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10)
    patch = models.ForeignKey(Patch, on_delete=models.PROTECT, related_name="properties")
    property_type = models.CharField(max_length=20, choices=PropertyType.choices)
    bedrooms = models.PositiveSmallIntegerField()
    built_year = models.PositiveSmallIntegerField(null=True, blank=True)
    kitchen_installed_year = models.PositiveSmallIntegerField(null=True, blank=True)
    asbestos_survey_notes = models.TextField(blank=True)

    objects = policies.PropertyQuerySet.as_manager()

    class Meta:
        ordering = ["reference"]
        verbose_name_plural = "properties"

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Managing and repairing the homes the organisation looks after.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )

    def __str__(self):
        return "%s, %s" % (self.address_line_1, self.postcode)

    @property
    def address(self) -> str:
        parts = [self.address_line_1, self.address_line_2, self.town, self.postcode]
        return ", ".join(part for part in parts if part)


class Person(VersionedModel):
    """One data subject: tenant, household member, applicant, staff member, contractor contact..."""

    title = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = EncryptedDateField(null=True)
    email = EncryptedCharField(max_length=254)
    email_index = BlindIndexField(source="email", normaliser=crypto.normalise_text)
    email_confirmed_on = models.DateField(null=True, blank=True)
    phone = EncryptedCharField(max_length=30)
    phone_index = BlindIndexField(source="phone", normaliser=crypto.normalise_phone)
    phone_confirmed_on = models.DateField(null=True, blank=True)
    correspondence_address = EncryptedTextField(
        help_text="Only where letters go somewhere other than the tenancy address."
    )
    address_confirmed_on = models.DateField(null=True, blank=True)
    workplace = EncryptedCharField(max_length=200)
    school = EncryptedCharField(max_length=200, help_text="For a child: the school they attend.")
    preferred_contact_method = models.CharField(
        max_length=20, choices=ContactMethod.choices, blank=True
    )
    ni_number = EncryptedCharField(max_length=13, verbose_name="National Insurance number")
    ni_number_index = BlindIndexField(source="ni_number", normaliser=crypto.normalise_compact)
    bank_account_name = EncryptedCharField(max_length=100)
    bank_sort_code = EncryptedCharField(max_length=8)
    bank_account_number = EncryptedCharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = policies.PersonQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [models.Index(fields=["last_name", "first_name"])]
        verbose_name_plural = "people"

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Identifying and contacting tenants, household members, applicants, staff and "
        "contractor contacts; collecting rent by Direct Debit.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(
            years=6, after="the person's last tenancy, application or employment ends"
        ),
        sensitive_fields=(
            "date_of_birth",
            "email",
            "phone",
            "correspondence_address",
            "workplace",
            "school",
            "ni_number",
            "bank_account_name",
            "bank_sort_code",
            "bank_account_number",
        ),
        subject_paths=("",),
        safety_protected_fields=("email", "phone", "correspondence_address", "workplace", "school"),
        internal_fields=(
            "email_confirmed_on",
            "phone_confirmed_on",
            "address_confirmed_on",
            "created_at",
            "updated_at",
            "edit_version",
        ),
        source="The person, on application or sign-up; updated by staff when told of changes.",
        recipients="Staff whose work needs it; contractors get name, address, phone and access notes "
        "for a repair; others only by a recorded disclosure decision.",
    )

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def age_on(self, day: datetime.date) -> int | None:
        if not self.date_of_birth:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def active_markers(self):
        today = timezone.localdate()
        return [m for m in self.markers.all() if m.is_active_on(today)]

    def forbidden_contact_methods(self) -> set[str]:
        return {
            Marker.FORBIDDEN_METHOD[m.kind]
            for m in self.active_markers()
            if m.kind in Marker.FORBIDDEN_METHOD
        }

    def has_safety_block(self) -> bool:
        return any(m.kind in Marker.SAFETY_KINDS for m in self.active_markers())

    def processing_restricted(self) -> bool:
        """Art. 18: while restricted, the record is kept but used or shared only with the
        person's consent, for legal claims, to protect another person or for important public
        interest."""
        return any(m.kind == Marker.Kind.PROCESSING_RESTRICTED for m in self.active_markers())

    def stale_contact_details(self, today: datetime.date | None = None) -> list[str]:
        """Which of email, phone and address are unconfirmed or confirmed over a year ago."""
        today = today or timezone.localdate()
        limit = today - datetime.timedelta(days=settings.CONTACT_RECONFIRM_DAYS)
        stale = []
        for label, value, confirmed in (
            ("email", self.email, self.email_confirmed_on),
            ("phone", self.phone, self.phone_confirmed_on),
            ("address", self.correspondence_address, self.address_confirmed_on),
        ):
            if value and (confirmed is None or confirmed < limit):
                stale.append(label)
        return stale


class PersonUserObjectPermission(UserObjectPermissionBase):
    """Guardian's direct foreign-key table: a user's rights on one person (case assignment)."""

    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Recording which staff member is assigned to which person.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )


class PersonGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)

    personal_data = PersonalData(
        category=Category.NON_PERSONAL,
        purpose="Recording which team is assigned to which person.",
        lawful_basis=LawfulBasis.NOT_APPLICABLE,
        retention=None,
    )


class Tenancy(models.Model):
    class TenancyType(models.TextChoices):
        SECURE = "secure", _("Secure")
        INTRODUCTORY = "introductory", _("Introductory")
        TEMPORARY = "temporary", _("Temporary")

    reference = models.CharField(max_length=20, unique=True)
    property = models.ForeignKey(
        Property, on_delete=models.PROTECT, related_name="tenancies", verbose_name="home"
    )
    tenancy_type = models.CharField(max_length=20, choices=TenancyType.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    weekly_rent = models.DecimalField(max_digits=7, decimal_places=2)
    access_notes = models.TextField(
        blank=True, help_text="What a contractor needs to get in: key safe, times, pets."
    )

    objects = policies.TenancyQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "reference"]
        verbose_name_plural = "tenancies"
        # Those who see every tenancy page through tens of thousands in this order.
        indexes = [models.Index(fields=["-start_date", "reference"], name="tenancy_list_order_idx")]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Managing the tenancy agreement: rent, repairs, household and occupation.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the tenancy ends", field="end_date"),
        subject_paths=("members__person",),
        safety_protected_fields=("property",),
        source="The tenancy agreement and later changes reported by the household.",
    )

    def __str__(self):
        return self.reference

    def is_current(self) -> bool:
        return self.end_date is None or self.end_date >= timezone.localdate()


class HouseholdMember(models.Model):
    class Relationship(models.TextChoices):
        TENANT = "tenant", _("Tenant")
        JOINT_TENANT = "joint_tenant", _("Joint tenant")
        PARTNER = "partner", _("Partner")
        CHILD = "child", _("Child")
        RELATIVE = "relative", _("Other relative")
        LODGER = "lodger", _("Lodger")
        CARER = "carer", _("Live-in carer")

    TENANT_RELATIONSHIPS = (Relationship.TENANT, Relationship.JOINT_TENANT)

    tenancy = models.ForeignKey(Tenancy, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="household_memberships"
    )
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    objects = policies.PersonLinkedQuerySet.as_manager()

    class Meta:
        ordering = ["tenancy", "start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenancy", "person"], name="one_membership_per_person_per_tenancy"
            )
        ]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Knowing who lives in each home, including children for overcrowding checks.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(
            years=6, after="the member leaves or the tenancy ends", field="end_date"
        ),
        subject_paths=("person",),
    )

    def __str__(self):
        return "%s (%s)" % (self.person, self.get_relationship_display())

    @property
    def is_tenant(self) -> bool:
        return self.relationship in self.TENANT_RELATIONSHIPS


class HousingApplication(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSESSING = "assessing", _("Being assessed")
        ACTIVE = "active", _("On the list")
        OFFERED = "offered", _("Offered a home")
        HOUSED = "housed", _("Housed")
        CLOSED = "closed", _("Closed")

    class Kind(models.TextChoices):
        HOUSING = "housing", _("Application for a home")
        TRANSFER = "transfer", _("Transfer")
        MEMBERSHIP = "membership", _("Membership of the TMO")

    reference = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="housing_applications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HOUSING)
    received_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    bedrooms_needed = models.PositiveSmallIntegerField(null=True, blank=True)
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_applications",
    )
    circumstances = EncryptedTextField()

    objects = policies.HousingApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "reference"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Assessing applications for homes, transfers and membership of the TMO.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=2, after="the application is closed or housed"),
        sensitive_fields=("circumstances",),
        subject_paths=("person",),
        source="The applicant.",
    )

    def __str__(self):
        return self.reference


class StaffRecord(models.Model):
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="staff_record")
    employee_number = models.CharField(max_length=20, unique=True)
    job_title = models.CharField(max_length=100)
    department = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    salary = EncryptedDecimalField(null=True)
    hr_notes = EncryptedTextField()

    objects = policies.HRQuerySet.as_manager()

    class Meta:
        ordering = ["person__last_name", "person__first_name"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Employing staff: contracts, pay, performance and conduct.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="employment ends", field="end_date"),
        sensitive_fields=("salary", "hr_notes"),
        subject_paths=("person",),
    )

    def __str__(self):
        return "%s, %s" % (self.person, self.job_title)


class JobApplication(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        SHORTLISTED = "shortlisted", _("Shortlisted")
        INTERVIEWED = "interviewed", _("Interviewed")
        APPOINTED = "appointed", _("Appointed")
        UNSUCCESSFUL = "unsuccessful", _("Unsuccessful")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="job_applications")
    post = models.CharField(max_length=100)
    received_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    interview_notes = EncryptedTextField()

    objects = policies.HRQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recruiting staff.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=1, after="the post is filled"),
        sensitive_fields=("interview_notes",),
        subject_paths=("person",),
        source="The applicant and their referees.",
    )

    def __str__(self):
        return "%s for %s" % (self.person, self.post)


class Contractor(models.Model):
    name = models.CharField(max_length=200, unique=True)
    trade = models.CharField(max_length=100)
    office_phone = models.CharField(max_length=30, blank=True)
    performance_notes = EncryptedTextField()
    insurance_expires_on = models.DateField(null=True, blank=True)

    objects = policies.ContractsQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    personal_data = PersonalData(
        category=Category.COMMERCIAL,
        purpose="Procuring and managing contractors.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the last contract ends"),
        sensitive_fields=("performance_notes",),
        subject_paths=("contacts__person",),
    )

    def __str__(self):
        return self.name


class ContractorContact(models.Model):
    contractor = models.ForeignKey(Contractor, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contractor_roles")
    role_title = models.CharField(max_length=100)

    objects = policies.ContractsQuerySet.as_manager()

    class Meta:
        ordering = ["contractor", "person__last_name"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Contacting the people who work for our contractors.",
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        retention=Retention(years=6, after="the contract ends"),
        subject_paths=("person",),
    )

    def __str__(self):
        return "%s (%s)" % (self.person, self.contractor)


class ContractorBid(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    contractor = models.ForeignKey(Contractor, on_delete=models.CASCADE, related_name="bids")
    contract_title = models.CharField(max_length=200)
    submitted_on = models.DateField()
    price = EncryptedDecimalField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    evaluation_notes = EncryptedTextField()

    objects = policies.ContractsQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_on"]

    personal_data = PersonalData(
        category=Category.COMMERCIAL,
        purpose="Evaluating tenders fairly.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the contract ends"),
        sensitive_fields=("price", "evaluation_notes"),
        subject_paths=(),
    )

    def __str__(self):
        return "%s: %s" % (self.contractor, self.contract_title)


class ContactRecord(models.Model):
    """Every interaction with or about a person, so that a case reads as one timeline."""

    class Channel(models.TextChoices):
        FACE_TO_FACE = "face_to_face", _("Face to face")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")
        ONLINE = "online", _("Online")
        VISIT = "visit", _("Home visit")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("From the person")
        OUTBOUND = "outbound", _("To the person")

    class Topic(models.TextChoices):
        GENERAL = "general", _("General")
        REPAIR = "repair", _("Repair")
        DAMP_MOULD = "damp_mould", _("Damp and mould")
        RENT = "rent", _("Rent and money")
        ASB = "asb", _("Anti-social behaviour")
        TENANCY = "tenancy", _("Tenancy management")
        SUPPORT = "support", _("Support and wellbeing")
        COMPLAINT = "complaint", _("Complaint")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contact_records")
    tenancy = models.ForeignKey(
        Tenancy, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_records"
    )
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact_records"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    left_voicemail = models.BooleanField(default=False)
    topic = models.CharField(max_length=20, choices=Topic.choices, default=Topic.GENERAL)
    case_reference = models.CharField(
        max_length=30, blank=True, help_text="Groups the contacts of one case, e.g. a repair job."
    )
    subject = models.CharField(max_length=200)
    notes = EncryptedTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = policies.PersonLinkedQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["person", "-occurred_at"])]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Keeping an accurate history of contact, repairs and casework.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the contact", field="occurred_at"),
        sensitive_fields=("notes",),
        subject_paths=("person",),
        safety_protected_fields=("property",),
        internal_fields=("recorded_at",),
    )

    def __str__(self):
        return "%s: %s" % (self.occurred_at.date().isoformat(), self.subject)

    def method_used(self) -> str | None:
        """The contact method an outbound contact used, to check against the person's wishes."""
        if self.direction != self.Direction.OUTBOUND:
            return None
        if self.channel == self.Channel.PHONE:
            return ContactMethod.VOICEMAIL if self.left_voicemail else ContactMethod.PHONE
        return {
            self.Channel.EMAIL: ContactMethod.EMAIL,
            self.Channel.LETTER: ContactMethod.LETTER,
            self.Channel.VISIT: ContactMethod.HOME_VISIT,
        }.get(self.channel)


class SensitiveInformation(models.Model):
    """Special category and criminal offence data, held apart with the condition relied on."""

    class Kind(models.TextChoices):
        HEALTH = "health", _("Health")
        DISABILITY = "disability", _("Disability")
        ETHNICITY = "ethnicity", _("Racial or ethnic origin")
        RELIGION = "religion", _("Religion or belief")
        SEXUAL_ORIENTATION = "sexual_orientation", _("Sexual orientation")
        TRADE_UNION = "trade_union", _("Trade union membership")
        BIOMETRIC = "biometric", _("Biometric data")
        CRIMINAL_OFFENCE = "criminal_offence", _("Criminal offence data")

    class Condition(models.TextChoices):
        EXPLICIT_CONSENT = "explicit_consent", _("Explicit consent (Art. 9(2)(a))")
        EMPLOYMENT = (
            "employment",
            _("Employment and social protection (Art. 9(2)(b); DPA 2018 Sch. 1 para 1)"),
        )
        VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 9(2)(c))")
        LEGAL_CLAIMS = "legal_claims", _("Legal claims (Art. 9(2)(f))")
        SUBSTANTIAL_PUBLIC_INTEREST = (
            "substantial_public_interest",
            _("Substantial public interest: safeguarding (DPA 2018 Sch. 1 para 18)"),
        )
        EQUALITY_MONITORING = (
            "equality_monitoring",
            _("Equality of opportunity monitoring (DPA 2018 Sch. 1 para 8)"),
        )
        SOCIAL_CARE = (
            "social_care",
            _("Health or social care (Art. 9(2)(h); DPA 2018 Sch. 1 para 2)"),
        )

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="sensitive_information"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    condition = models.CharField(max_length=40, choices=Condition.choices)
    details = EncryptedTextField()
    source = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_on = models.DateField(default=timezone.localdate)

    objects = policies.SensitiveInformationQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-recorded_on"]
        verbose_name_plural = "sensitive information"

    personal_data = PersonalData(
        category=Category.SPECIAL,
        purpose="Adapting services and support to people's health, disability and safety needs; "
        "equality monitoring; managing risks from criminal behaviour.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        condition="Recorded on each row; see the 'condition' field.",
        retention=Retention(years=6, after="the tenancy or relationship ends"),
        sensitive_fields=("details", "kind", "condition", "source"),
        subject_paths=("person",),
    )

    def __str__(self):
        # Never the details: this text lands in audit entries.
        return "Sensitive information #%s" % self.pk


class AuthorisedRepresentative(models.Model):
    """Someone allowed to act for a person, with the evidence and limits of that authority."""

    class Relationship(models.TextChoices):
        FAMILY = "family", _("Family member")
        SUPPORT_WORKER = "support_worker", _("Support worker")
        SOLICITOR = "solicitor", _("Solicitor")
        COUNCILLOR = "councillor", _("Councillor")
        MP = "mp", _("Member of Parliament")
        ATTORNEY = "attorney", _("Lasting power of attorney")
        OTHER = "other", _("Other")

    class Scope(models.TextChoices):
        ALL = "all", _("All matters")
        TENANCY = "tenancy", _("Tenancy and housing matters")
        REPAIRS = "repairs", _("Repairs only")
        RENT = "rent", _("Rent and money only")
        SPECIFIC = "specific", _("A specific matter (see notes)")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="representatives")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    organisation = models.CharField(max_length=200, blank=True)
    contact_details = EncryptedTextField()
    evidence = models.CharField(
        max_length=300,
        help_text="What shows the consent or authority, e.g. signed form of 3 March.",
    )
    scope = models.CharField(max_length=20, choices=Scope.choices)
    scope_notes = models.CharField(max_length=300, blank=True)
    valid_from = models.DateField(default=timezone.localdate)
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = policies.PersonLinkedQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Knowing who may act for a person, and within what limits.",
        lawful_basis=LawfulBasis.LEGAL_OBLIGATION,
        retention=Retention(years=6, after="the authority expires", field="expires_on"),
        sensitive_fields=("contact_details",),
        subject_paths=("person",),
        source="The person's signed consent or the representative's evidence of authority.",
    )

    def __str__(self):
        return "%s for %s" % (self.name, self.person)

    def is_current_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.expires_on is None or day <= self.expires_on)


class Marker(models.Model):
    """A warning shown wherever the person appears."""

    class Kind(models.TextChoices):
        SAFE_ADDRESS = "safe_address", _("Safe address: never disclose contact details")
        STAFF_SAFETY = "staff_safety", _("Staff safety warning")
        VULNERABLE = "vulnerable", _("Vulnerable: extra support needed")
        INTERPRETER = "interpreter", _("Needs an interpreter")
        NO_VOICEMAIL = "no_voicemail", _("No voicemail")
        NO_TEXT_MESSAGES = "no_text_messages", _("No text messages")
        NO_LETTERS = "no_letters", _("No letters")
        NO_HOME_VISITS = "no_home_visits", _("No unannounced home visits")
        NO_EMAIL = "no_email", _("No email")
        PROCESSING_RESTRICTED = (
            "processing_restricted",
            _("Processing restricted: keep the record, do not use or share it"),
        )

    SAFETY_KINDS = frozenset({Kind.SAFE_ADDRESS})
    RIGHTS_KINDS = frozenset({Kind.PROCESSING_RESTRICTED})
    FORBIDDEN_METHOD = {
        Kind.NO_VOICEMAIL: ContactMethod.VOICEMAIL,
        Kind.NO_TEXT_MESSAGES: ContactMethod.TEXT_MESSAGE,
        Kind.NO_LETTERS: ContactMethod.LETTER,
        Kind.NO_HOME_VISITS: ContactMethod.HOME_VISIT,
        Kind.NO_EMAIL: ContactMethod.EMAIL,
    }

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="markers")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    details = EncryptedTextField()
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = policies.PersonLinkedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-starts_on"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Keeping people and staff safe and respecting how people want to be contacted.",
        lawful_basis=LawfulBasis.VITAL_INTERESTS,
        retention=Retention(years=6, after="the marker ends", field="ends_on"),
        sensitive_fields=("details",),
        subject_paths=("person",),
        # A safe-address marker's details may say where the person now lives.
        safety_protected_fields=("details",),
    )

    def __str__(self):
        return self.get_kind_display()

    @property
    def is_safety(self) -> bool:
        return self.kind in self.SAFETY_KINDS

    def is_active_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


def _document_name() -> str:
    return uuid.uuid4().hex


class Document(models.Model):
    """An upload about a person or a contact, stored encrypted outside any served folder."""

    class Kind(models.TextChoices):
        CORRESPONDENCE = "correspondence", _("Correspondence")
        PHOTO = "photo", _("Photograph")
        IDENTITY = "identity", _("Identity evidence")
        REPORT = "report", _("Report or survey")
        CONSENT = "consent", _("Consent or authority")
        OTHER = "other", _("Other")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="documents")
    contact_record = models.ForeignKey(
        ContactRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=200)
    original_filename = EncryptedCharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(
        max_length=64, unique=True, default=_document_name, editable=False
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = policies.DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Keeping correspondence, photographs, reports and evidence with the case they belong to.",
        lawful_basis=LawfulBasis.CONTRACT,
        retention=Retention(years=6, after="the case closes"),
        sensitive_fields=("original_filename",),
        subject_paths=("person",),
        internal_fields=("storage_name", "content_type", "size", "uploaded_at"),
        encrypted_files=("storage_name",),
    )

    def __str__(self):
        return self.title


class EqualityMonitoring(models.Model):
    """A person's voluntary answers to the equality monitoring questions.

    Every question can be answered "prefer not to say", and nobody has to answer at all. The
    answers are read one by one only to record or correct them; otherwise they leave the system
    only as anonymised counts (records.equalities). Age is not asked: the figures work out an age
    band from the date of birth on the register on the day they are drawn.
    """

    PREFER_NOT_TO_SAY = "prefer_not_to_say"

    class Ethnicity(models.TextChoices):
        # The Office for National Statistics' 2021 census categories for England and Wales.
        ASIAN_INDIAN = "asian_indian", _("Asian or Asian British: Indian")
        ASIAN_PAKISTANI = "asian_pakistani", _("Asian or Asian British: Pakistani")
        ASIAN_BANGLADESHI = "asian_bangladeshi", _("Asian or Asian British: Bangladeshi")
        ASIAN_CHINESE = "asian_chinese", _("Asian or Asian British: Chinese")
        ASIAN_OTHER = "asian_other", _("Asian or Asian British: any other Asian background")
        BLACK_AFRICAN = "black_african", _("Black, Black British, Caribbean or African: African")
        BLACK_CARIBBEAN = (
            "black_caribbean",
            _("Black, Black British, Caribbean or African: Caribbean"),
        )
        BLACK_OTHER = (
            "black_other",
            _("Black, Black British, Caribbean or African: any other Black background"),
        )
        MIXED_WHITE_BLACK_CARIBBEAN = (
            "mixed_white_black_caribbean",
            _("Mixed or multiple ethnic groups: White and Black Caribbean"),
        )
        MIXED_WHITE_BLACK_AFRICAN = (
            "mixed_white_black_african",
            _("Mixed or multiple ethnic groups: White and Black African"),
        )
        MIXED_WHITE_ASIAN = (
            "mixed_white_asian",
            _("Mixed or multiple ethnic groups: White and Asian"),
        )
        MIXED_OTHER = (
            "mixed_other",
            _("Mixed or multiple ethnic groups: any other mixed or multiple background"),
        )
        WHITE_BRITISH = (
            "white_british",
            _("White: English, Welsh, Scottish, Northern Irish or British"),
        )
        WHITE_IRISH = "white_irish", _("White: Irish")
        WHITE_GYPSY_TRAVELLER = "white_gypsy_traveller", _("White: Gypsy or Irish Traveller")
        WHITE_ROMA = "white_roma", _("White: Roma")
        WHITE_OTHER = "white_other", _("White: any other White background")
        ARAB = "arab", _("Other ethnic group: Arab")
        OTHER = "other", _("Other ethnic group: any other ethnic group")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    class Language(models.TextChoices):
        ENGLISH = "english", _("English")
        BRITISH_SIGN_LANGUAGE = "british_sign_language", _("British Sign Language")
        ARABIC = "arabic", _("Arabic")
        BENGALI = "bengali", _("Bengali (including Sylheti)")
        GUJARATI = "gujarati", _("Gujarati")
        PANJABI = "panjabi", _("Panjabi")
        POLISH = "polish", _("Polish")
        PORTUGUESE = "portuguese", _("Portuguese")
        ROMANIAN = "romanian", _("Romanian")
        SOMALI = "somali", _("Somali")
        SPANISH = "spanish", _("Spanish")
        TURKISH = "turkish", _("Turkish")
        URDU = "urdu", _("Urdu")
        OTHER = "other", _("Another language")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        OTHER = "other", _("In another way")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    class Disability(models.TextChoices):
        # The Equality Act 2010 definition, asked the way the census asks it.
        YES_A_LOT = "yes_a_lot", _("Yes, my day-to-day activities are limited a lot")
        YES_A_LITTLE = "yes_a_little", _("Yes, my day-to-day activities are limited a little")
        NO = "no", _("No")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    class Religion(models.TextChoices):
        NONE = "none", _("No religion")
        CHRISTIAN = "christian", _("Christian")
        BUDDHIST = "buddhist", _("Buddhist")
        HINDU = "hindu", _("Hindu")
        JEWISH = "jewish", _("Jewish")
        MUSLIM = "muslim", _("Muslim")
        SIKH = "sikh", _("Sikh")
        OTHER = "other", _("Any other religion or belief")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    class SexualOrientation(models.TextChoices):
        STRAIGHT = "straight", _("Straight or heterosexual")
        GAY_LESBIAN = "gay_lesbian", _("Gay or lesbian")
        BISEXUAL = "bisexual", _("Bisexual")
        OTHER = "other", _("Another sexual orientation")
        PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")

    ANSWER_FIELDS = (
        "ethnicity",
        "first_language",
        "gender",
        "disability",
        "religion",
        "sexual_orientation",
    )

    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, related_name="equality_monitoring"
    )
    # Encrypted like every other special category value; the figures decrypt them to count.
    ethnicity = EncryptedCharField(max_length=40, choices=Ethnicity.choices)
    first_language = EncryptedCharField(max_length=40, choices=Language.choices)
    gender = EncryptedCharField(max_length=40, choices=Gender.choices)
    disability = EncryptedCharField(
        max_length=40, choices=Disability.choices, verbose_name="disability"
    )
    religion = EncryptedCharField(
        max_length=40, choices=Religion.choices, verbose_name="religion or belief"
    )
    sexual_orientation = EncryptedCharField(max_length=40, choices=SexualOrientation.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_on = models.DateField(default=timezone.localdate)
    updated_at = models.DateTimeField(auto_now=True)

    objects = policies.EqualityMonitoringQuerySet.as_manager()

    class Meta:
        verbose_name = "equality monitoring answers"
        verbose_name_plural = "equality monitoring answers"

    personal_data = PersonalData(
        category=Category.SPECIAL,
        purpose="Equality monitoring: checking that homes, services and membership reach every "
        "part of the community fairly. Reported only as anonymised counts with small numbers "
        "hidden.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        condition="Equality of opportunity or treatment (Art. 9(2)(g); DPA 2018 Sch. 1 para 8)",
        retention=Retention(years=1, after="the person's last tenancy or application ends"),
        sensitive_fields=ANSWER_FIELDS,
        subject_paths=("person",),
        internal_fields=("updated_at",),
        source="The person, voluntarily; every question can be answered 'prefer not to say'.",
        recipients="Nobody outside the organisation. The committee sees anonymised counts only.",
    )

    def __str__(self):
        # Never an answer: this text lands in audit entries.
        return "Equality monitoring answers #%s" % self.pk
