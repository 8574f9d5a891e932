"""factory_boy factories for the register. Users are made with roles through `user_with_role`."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from access.roles import Role
from records import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: "user%d" % n)
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: "%s@tmo.example" % u.username)
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))

    @factory.post_generation
    def compliant(self, create, extracted, **kwargs):
        """Staff and committee members come signed up and trained, as they would be in use; pass
        compliant=False for one who has not (see make_compliant at the end of this module)."""
        if create and extracted is not False:
            make_compliant(self)


def user_with_role(role: str, **kwargs) -> User:
    is_staff = role == Role.SYSTEM_ADMINISTRATOR
    return UserFactory(roles=[role], is_staff=is_staff, **kwargs)


class PatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Patch
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: "Patch %d" % n)

    @factory.post_generation
    def officers(self, create, extracted, **kwargs):
        for officer in extracted or ():
            self.officers.add(officer)


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Property

    reference = factory.Sequence(lambda n: "P%05d" % n)
    address_line_1 = factory.Sequence(lambda n: "%d Weaver Court" % (n + 1))
    town = "London"
    postcode = factory.Sequence(lambda n: "SE1 %dAB" % (n % 10))
    patch = factory.SubFactory(PatchFactory)
    property_type = models.Property.PropertyType.FLAT
    bedrooms = 2


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Person

    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Sequence(lambda n: "Surname%d" % n)
    date_of_birth = datetime.date(1980, 5, 17)
    email = factory.Sequence(lambda n: "person%d@mail.example" % n)
    email_confirmed_on = factory.LazyFunction(timezone.localdate)
    phone = factory.Sequence(lambda n: "07700 9%05d" % n)
    phone_confirmed_on = factory.LazyFunction(timezone.localdate)
    ni_number = factory.Sequence(lambda n: "QQ%06dC" % n)


class TenancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tenancy

    reference = factory.Sequence(lambda n: "T%05d" % n)
    property = factory.SubFactory(PropertyFactory)
    tenancy_type = models.Tenancy.TenancyType.SECURE
    start_date = datetime.date(2015, 4, 1)
    weekly_rent = Decimal("112.50")


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.HouseholdMember

    tenancy = factory.SubFactory(TenancyFactory)
    person = factory.SubFactory(PersonFactory)
    relationship = models.HouseholdMember.Relationship.TENANT
    start_date = datetime.date(2015, 4, 1)


def tenant_in_patch(patch, **person_kwargs) -> models.Person:
    """A person who is the tenant of a home in the given patch."""
    person = PersonFactory(**person_kwargs)
    HouseholdMemberFactory(person=person, tenancy__property__patch=patch)
    return person


class ContactRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContactRecord

    person = factory.SubFactory(PersonFactory)
    channel = models.ContactRecord.Channel.PHONE
    direction = models.ContactRecord.Direction.INBOUND
    topic = models.ContactRecord.Topic.REPAIR
    subject = "Reported a leaking tap"
    notes = "Kitchen tap drips constantly."


class MarkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Marker

    person = factory.SubFactory(PersonFactory)
    kind = models.Marker.Kind.NO_VOICEMAIL
    details = ""


class SensitiveInformationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SensitiveInformation

    person = factory.SubFactory(PersonFactory)
    kind = models.SensitiveInformation.Kind.HEALTH
    condition = models.SensitiveInformation.Condition.SOCIAL_CARE
    details = "Uses a wheelchair; needs level access."


class AuthorisedRepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AuthorisedRepresentative

    person = factory.SubFactory(PersonFactory)
    name = "Jo Advocate"
    relationship = models.AuthorisedRepresentative.Relationship.SUPPORT_WORKER
    contact_details = "jo@support.example"
    evidence = "Signed consent form"
    scope = models.AuthorisedRepresentative.Scope.ALL


class HousingApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.HousingApplication

    reference = factory.Sequence(lambda n: "HA%05d" % n)
    person = factory.SubFactory(PersonFactory)
    received_on = datetime.date(2026, 1, 10)
    circumstances = "Overcrowded: family of five in a one-bedroom flat."


class StaffRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffRecord

    person = factory.SubFactory(PersonFactory)
    employee_number = factory.Sequence(lambda n: "E%04d" % n)
    job_title = "Housing officer"
    department = "Housing"
    start_date = datetime.date(2020, 1, 6)
    salary = Decimal("31500.00")
    hr_notes = "Probation passed."


class JobApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.JobApplication

    person = factory.SubFactory(PersonFactory)
    post = "Repairs officer"
    received_on = datetime.date(2026, 9, 1)
    interview_notes = "Strong answers on damp and mould."


class ContractorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contractor

    name = factory.Sequence(lambda n: "Contractor %d Ltd" % n)
    trade = "Plumbing"
    performance_notes = "Late on two jobs in March."


class ContractorContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContractorContact

    contractor = factory.SubFactory(ContractorFactory)
    person = factory.SubFactory(PersonFactory)
    role_title = "Site manager"


class ContractorBidFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContractorBid

    contractor = factory.SubFactory(ContractorFactory)
    contract_title = "Kitchen replacements 2027"
    submitted_on = datetime.date(2026, 10, 1)
    price = Decimal("184250.00")
    evaluation_notes = "Cheapest compliant bid."


# --- access: committee meetings, grants, emergency access -------------------------------------


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.Meeting"

    title = factory.Sequence(lambda n: "Management committee %d" % n)
    held_on = factory.LazyFunction(timezone.localdate)
    public_minutes = "Apologies received. Minutes of the last meeting agreed."
    confidential_minutes = "Item 4: rent arrears case discussed in private session."


def _content_type_of(obj):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(type(obj))


class EmergencyAccessFactory(factory.django.DjangoModelFactory):
    """A live emergency access by a housing officer to a person; pass target= for another row."""

    class Meta:
        model = "access.EmergencyAccess"
        exclude = ("target",)

    target = factory.SubFactory(PersonFactory)
    user = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))
    content_type = factory.LazyAttribute(lambda o: _content_type_of(o.target))
    object_id = factory.LazyAttribute(lambda o: o.target.pk)
    reason = "Police at the door asking for a welfare check; the tenant's file is on another patch."
    started_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.started_at + datetime.timedelta(hours=4))


class ConfidentialReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.ConfidentialReport"

    meeting = factory.SubFactory(MeetingFactory)
    number = factory.Sequence(lambda n: "CR-2026-%02d" % (n + 1))
    title = "Rent arrears: possession proceedings"
    body = "The tenant at 4 Weaver Court owes eleven weeks' rent."
    created_by = factory.LazyFunction(lambda: user_with_role(Role.SENIOR_OFFICER))


class ReportCopyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.ReportCopy"

    report = factory.SubFactory(ConfidentialReportFactory)
    copy_number = factory.Sequence(lambda n: n + 1)
    member = factory.LazyFunction(lambda: user_with_role(Role.COMMITTEE_MEMBER))
    issued_at = factory.LazyFunction(timezone.now)
    issued_by = factory.LazyFunction(lambda: user_with_role(Role.SENIOR_OFFICER))


# --- access: the confidentiality code, training and access reviews ----------------------------


def make_compliant(user) -> None:
    """Sign the current code (publishing version 1 if there is none yet) and record in-date
    training for every module the user's roles need, so the user may read records."""
    from access.compliance import REQUIRED_ROLES, forget_compliance
    from access.models import TrainingModule, TrainingRecord, Undertaking
    from access.services.compliance import current_code, publish_initial_code

    # Read the groups afresh and cache nothing: tests change roles after making users.
    roles = set(user.groups.values_list("name", flat=True))
    if not roles & REQUIRED_ROLES:
        return
    code = current_code() or publish_initial_code()
    Undertaking.objects.get_or_create(
        user=user, code=code, defaults={"signed_name": user.get_full_name() or user.username}
    )
    today = timezone.localdate()
    for module in TrainingModule.objects.all():
        in_date = TrainingRecord.objects.filter(user=user, module=module, expires_on__gt=today)
        if module.applies_to(roles) and not in_date.exists():
            TrainingRecord.objects.create(user=user, module=module, completed_on=today)
    forget_compliance(user)


class ConfidentialityCodeFactory(factory.django.DjangoModelFactory):
    """A newly published version: everyone must sign it again."""

    class Meta:
        model = "access.ConfidentialityCode"

    version = factory.Sequence(lambda n: "%d" % (n + 2))
    text = "Keep what you learn about residents to yourself. Report any leak at once."
    published_at = factory.LazyFunction(timezone.now)


class UndertakingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.Undertaking"

    user = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))
    code = factory.SubFactory(ConfidentialityCodeFactory)
    signed_name = factory.LazyAttribute(lambda o: o.user.get_full_name())


class TrainingModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.TrainingModule"

    name = factory.Sequence(lambda n: "Data protection module %d" % n)
    description = "Handling residents' personal data under UK GDPR."
    roles = factory.LazyFunction(lambda: [Role.HOUSING_OFFICER.value])
    validity_months = 12


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "access.TrainingRecord"

    user = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))
    module = factory.SubFactory(TrainingModuleFactory)
    completed_on = factory.LazyFunction(timezone.localdate)
    evidence = "Certificate TR-2026-001"


# --- disclosures ------------------------------------------------------------------------------


class DisclosureRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "disclosures.DisclosureRequest"

    reference = factory.Sequence(lambda n: "DR-2026-%04d" % (n + 1))
    requester_type = "police"
    requester_organisation = "Metropolitan Police Service"
    requester_name = "DC Sam Holloway"
    requester_contact = "sam.holloway@met.police.example"
    identity_check = "Called back on the station's published switchboard number"
    person = factory.SubFactory(PersonFactory)
    requested_items = factory.LazyFunction(
        lambda: ["records.person.phone", "records.person.date_of_birth"]
    )
    request_details = "Current phone number and date of birth."
    purpose = "Tracing a witness to a burglary on the estate."
    basis = "crime_taxation"
    logged_by = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))


class DisclosureEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "disclosures.DisclosureEvidence"

    request = factory.SubFactory(DisclosureRequestFactory)
    title = "Police data protection form"
    original_filename = "dp-form.pdf"
    content_type = "application/pdf"
    size = 1024
    storage_name = factory.Sequence(lambda n: "evidence%010d" % n)
    uploaded_by = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))


class DisclosureDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "disclosures.DisclosureDecision"

    request = factory.SubFactory(DisclosureRequestFactory)
    outcome = "partial"
    released_items = factory.LazyFunction(lambda: ["records.person.phone"])
    necessity = "The phone number is needed to contact the witness."
    reasons = "The police explained how not disclosing would prejudice the investigation."
    decided_by = factory.LazyFunction(lambda: user_with_role(Role.SENIOR_OFFICER))
    decider_position = "Housing services manager"


class DataSharingAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "disclosures.DataSharingAgreement"

    partner = factory.Sequence(lambda n: "Partner %d Ltd" % n)
    purpose = "Responsive repairs to tenants' homes."
    data_items = factory.LazyFunction(
        lambda: ["records.person.first_name", "records.person.last_name", "records.person.phone"]
    )
    legal_basis = "tenancy_agreement"
    signed_on = datetime.date(2026, 1, 5)
    review_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=180))
    status = "active"


class WorkOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "disclosures.WorkOrder"

    reference = factory.Sequence(lambda n: "WO-2026-%04d" % (n + 1))
    agreement = factory.SubFactory(DataSharingAgreementFactory)
    contractor = factory.SubFactory(ContractorFactory)
    person = factory.SubFactory(PersonFactory)
    tenancy = factory.SubFactory(TenancyFactory)
    job = "Replace the leaking kitchen tap."
    shared_content = '{"name": "Test Tenant"}'
    raised_by = factory.LazyFunction(lambda: user_with_role(Role.REPAIRS_OFFICER))


# --- sar --------------------------------------------------------------------------------------


class SubjectAccessRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.SubjectAccessRequest"

    reference = factory.Sequence(lambda n: "SAR-2026-%04d" % (n + 1))
    kind = "access"
    channel = "online"
    person = factory.SubFactory(PersonFactory)
    requester_name = factory.LazyAttribute(lambda o: o.person.full_name)
    requester_email = factory.LazyAttribute(lambda o: o.person.email)
    requester_address = "Flat 3, 12 Weaver Court, London SE99 1AB"
    details = "Everything you hold about me."
    received_on = factory.LazyFunction(timezone.localdate)
    identity_required = False
    status = "in_progress"


# --- sar: bundles -----------------------------------------------------------------------------


class BundleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.Bundle"

    request = factory.SubFactory(SubjectAccessRequestFactory)
    collected_by = factory.LazyFunction(lambda: user_with_role(Role.SENIOR_OFFICER))


class SarItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.SarItem"

    bundle = factory.SubFactory(BundleFactory)
    request = factory.SelfAttribute("bundle.request")
    content_type = factory.LazyAttribute(lambda o: _content_type_of(o.request.person))
    object_id = factory.LazyAttribute(lambda o: str(o.request.person_id))
    model_label = "records.person"
    record_name = "Person"
    category = "personal"
    data = (
        '{"fields": [{"name": "first_name", "label": "First name", "value": "Ann"}], "files": []}'
    )
    exemption_reason = "Held back for the reasons recorded."


class SarRedactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.SarRedaction"

    item = factory.SubFactory(SarItemFactory)
    field_name = "first_name"
    start = 0
    end = 3
    text = "Ann"
    kind = "name"


# --- sar: portal ------------------------------------------------------------------------------


class PortalVerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.PortalVerification"

    purpose = "request"
    email = factory.Sequence(lambda n: "requester%d@mail.example" % n)
    payload = '{"kind": "access", "name": "A Requester", "details": "All of it."}'


class PortalRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.PortalRequest"

    request = factory.SubFactory(SubjectAccessRequestFactory)
    acting_for_someone = True
    represented_name = "Someone Represented"
    representative_relationship = "Solicitor"


class IdentityEvidenceFactory(factory.django.DjangoModelFactory):
    """Evidence with its encrypted file written, as the portal's upload leaves it."""

    class Meta:
        model = "sar.IdentityEvidence"
        skip_postgeneration_save = True

    request = factory.SubFactory(SubjectAccessRequestFactory)
    original_filename = "passport.pdf"
    content_type = "application/pdf"
    size = 20

    @factory.post_generation
    def stored_file(self, create, extracted, **kwargs):
        from tmo import filestore

        if create:
            filestore.write_encrypted(self.storage_name, extracted or b"%PDF-1.4 identity")


class PortalMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sar.PortalMessage"

    request = factory.SubFactory(SubjectAccessRequestFactory)
    from_staff = False
    body = "When will my answer come?"


class InternalReviewFactory(factory.django.DjangoModelFactory):
    """A requester's complaint about a completed request, waiting for a decision."""

    class Meta:
        model = "sar.InternalReview"

    request = factory.SubFactory(SubjectAccessRequestFactory, status="completed")
    grounds = "You left out my repair reports from 2024."


class RightsActionFactory(factory.django.DjangoModelFactory):
    """One thing done to the records to carry out a rights request."""

    class Meta:
        model = "sar.RightsAction"

    request = factory.SubFactory(SubjectAccessRequestFactory, kind="erasure")
    action = "kept"
    model_label = "records.contactrecord"
    object_id = "1"
    record_name = "Contact record"
    reason = "The law requires us to keep it (Art. 17(3)(b))."
    done_by = factory.LazyFunction(lambda: user_with_role(Role.SENIOR_OFFICER))


class DisposalReviewFactory(factory.django.DjangoModelFactory):
    """An open disposal review; add rows with DisposalCandidateFactory."""

    class Meta:
        model = "tmo.DisposalReview"


class DisposalCandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tmo.DisposalCandidate"

    review = factory.SubFactory(DisposalReviewFactory)
    model_label = "records.contactrecord"
    object_id = factory.Sequence(lambda n: str(900000 + n))
    due_on = datetime.date(2019, 1, 31)
    action = "delete"


class LegalHoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tmo.LegalHold"

    model_label = "records.contactrecord"
    object_id = "1"
    reason = "Disrepair claim, court reference HQ-123."
    placed_by = factory.LazyFunction(lambda: user_with_role(Role.DATA_PROTECTION_LEAD))


class DisposalCertificateFactory(factory.django.DjangoModelFactory):
    """A certificate for a completed review: counts only."""

    class Meta:
        model = "tmo.DisposalCertificate"

    review = factory.SubFactory(DisposalReviewFactory, status="completed")
    approved_by = factory.LazyFunction(lambda: user_with_role(Role.DATA_PROTECTION_LEAD))
    approved_at = factory.LazyFunction(timezone.now)
    lines = factory.LazyFunction(
        lambda: [
            {
                "model_label": "records.contactrecord",
                "record": "Contact record",
                "category": "Personal data",
                "rule": "6 years after the contact",
                "action": "Delete",
                "deleted": 3,
                "anonymised": 0,
                "blocked": 0,
                "held": 1,
                "excluded": 0,
                "gone": 0,
                "not_due": 0,
                "blocked_reasons": [],
            }
        ]
    )


class EqualityMonitoringFactory(factory.django.DjangoModelFactory):
    """One person's equality monitoring answers, as they chose to give them."""

    class Meta:
        model = models.EqualityMonitoring

    person = factory.SubFactory(PersonFactory)
    ethnicity = models.EqualityMonitoring.Ethnicity.WHITE_BRITISH
    first_language = models.EqualityMonitoring.Language.ENGLISH
    gender = models.EqualityMonitoring.Gender.WOMAN
    disability = models.EqualityMonitoring.Disability.NO
    religion = models.EqualityMonitoring.Religion.PREFER_NOT_TO_SAY
    sexual_orientation = models.EqualityMonitoring.SexualOrientation.PREFER_NOT_TO_SAY


class LiveCommitteeGrantFactory(factory.django.DjangoModelFactory):
    """A committee access request approved by the data protection lead and live for six hours;
    add members and items to it."""

    class Meta:
        model = "access.CommitteeAccessRequest"

    decision = "Item 4: arrears case"
    reason = "The committee decides on possession proceedings."
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=6))
    status = "approved"
    requested_by = factory.LazyFunction(lambda: user_with_role(Role.HOUSING_OFFICER))
    decided_by = factory.LazyFunction(lambda: user_with_role(Role.DATA_PROTECTION_LEAD))
    decided_at = factory.LazyFunction(timezone.now)
