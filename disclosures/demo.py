"""Demo disclosures for `manage.py seed_demo`: agreements with the contractors, requests at each
stage, a work order and an enquiry, made through the services so their audit trail is real.

records' seed_demo finds this module by name (it may not import disclosures)."""

import datetime

from django.utils import timezone

from disclosures import services, sharing
from disclosures.models import Basis, DataSharingAgreement, InformationEnquiry, RequesterType
from records.models import Contractor, HouseholdMember, Marker, Person, Tenancy

REPAIR_ITEMS = [
    "records.person.first_name",
    "records.person.last_name",
    "records.person.phone",
    "records.tenancy.property",
    "records.tenancy.access_notes",
]


def seed_demo(*, users, log) -> None:
    today = timezone.localdate()
    senior, housing, repairs = users["senior"], users["housing"], users["repairs"]
    agreements = [
        sharing.agreement_save(
            saved_by=senior,
            partner=contractor.name,
            purpose="Responsive and planned repairs to tenants' homes.",
            data_items=REPAIR_ITEMS,
            legal_basis=Basis.TENANCY_AGREEMENT,
            signed_on=today - datetime.timedelta(days=300),
            # One agreement is overdue for review, so the warning can be seen.
            review_on=today + datetime.timedelta(days=200 if index else -10),
            status=DataSharingAgreement.Status.ACTIVE,
            contractor=contractor,
        )
        for index, contractor in enumerate(Contractor.objects.order_by("name"))
    ]
    tenants = list(
        Person.objects.visible_to(housing)
        .filter(household_memberships__relationship=HouseholdMember.Relationship.TENANT)
        .exclude(markers__kind__in=Marker.SAFETY_KINDS)
        .order_by("pk")
        .distinct()[:3]
    )
    waiting = services.disclosure_log(
        logged_by=housing,
        person=tenants[0],
        requester_type=RequesterType.POLICE,
        requester_organisation="Metropolitan Police Service",
        requester_name="DC Sam Holloway, Lambeth CID",
        requester_contact="sam.holloway@met.police.example",
        identity_check="Called back on the station's published switchboard number",
        requested_items=["records.person.phone", "records.person.date_of_birth"],
        request_details="Current phone number and date of birth.",
        purpose="Tracing a witness to a burglary on the estate.",
        basis=Basis.CRIME_TAXATION,
        received_on=today - datetime.timedelta(days=1),
        urgency="urgent",
    )
    refused = services.disclosure_log(
        logged_by=housing,
        person=tenants[1],
        requester_type=RequesterType.DEBT_COLLECTOR,
        requester_organisation="Northgate Recoveries Ltd",
        requester_name="Accounts team",
        requester_contact="accounts@northgate-recoveries.example",
        identity_check="Letter on headed paper; no court order",
        requested_items=["records.person.phone", "records.person.email"],
        request_details="Contact details for a customer in arrears.",
        purpose="Collecting a private debt.",
        basis=Basis.CONSENT,
        received_on=today - datetime.timedelta(days=12),
        urgency="routine",
    )
    services.disclosure_decide(
        request=refused,
        decided_by=senior,
        outcome="refuse",
        released_items=[],
        necessity="",
        reasons="No consent from the tenant and no legal basis: a private debt is not a reason "
        "to share contact details. The collector was told to use the courts.",
        decider_position="Housing services manager",
    )
    # A current tenant of a home still let: in a small demo the third tenant may have moved on.
    tenancy, tenant = next(
        (tenancy, person)
        for person in tenants[2:] + tenants[:2]
        for tenancy in Tenancy.objects.filter(members__person=person).order_by("-start_date")
        if tenancy.is_current() and person in sharing.current_tenants(tenancy, housing)
    )
    sharing.work_order_raise(
        raised_by=repairs
        if Tenancy.objects.visible_to(repairs).filter(pk=tenancy.pk).exists()
        else housing,
        tenancy=tenancy,
        person=tenant,
        agreement=agreements[-1],
        job="Kitchen tap leaking under the sink; isolate and replace the tap.",
    )
    sharing.enquiry_log(
        answered_by=housing,
        enquirer="A resident of the next block",
        property=tenancy.property,
        about_repair=True,
        question="When will the leaking gutter over the entrance be fixed?",
        response=InformationEnquiry.Response.ANSWERED,
        response_details="The roofer is booked for next Tuesday; scaffolding goes up on Monday.",
    )
    log(
        "Disclosures: %d sharing agreements, requests %s (waiting) and %s (refused), one work "
        "order, one enquiry" % (len(agreements), waiting.reference, refused.reference)
    )
