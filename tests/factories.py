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
