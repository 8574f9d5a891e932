"""Routine sharing: the register of data sharing agreements, repairs work orders sent to
contractors under them, and enquiries (often from neighbours) about repairs.

A work order carries only what a contractor needs to do the job: name, address, phone, access
notes and two plain flags. Health, sensitive information and what a marker says never go out, and
a safety marker on anyone in the household stops the address going at all unless the data
protection lead records why it must.
"""

import datetime
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from access.roles import STAFF_ROLES, Role, roles_of
from disclosures.models import DataSharingAgreement, InformationEnquiry, WorkOrder
from records.models import Contractor, HouseholdMember, Marker, Person, Property, Tenancy
from tmo import datamap
from tmo.audit import record_access, record_event
from tmo.concurrency import lock_current

AGREEMENT_MANAGER_ROLES = frozenset({Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD})
WORK_ORDER_ROLES = frozenset(
    {
        Role.REPAIRS_OFFICER,
        Role.HOUSING_OFFICER,
        Role.SENIOR_OFFICER,
        Role.DATA_PROTECTION_LEAD,
    }
)

NEEDS_APPOINTMENT = "Needs an appointment"
STAFF_SAFETY = "Staff safety: do not attend alone"
# Markers turn into plain flags only; the marker's kind and details stay with us.
APPOINTMENT_MARKERS = frozenset(
    {Marker.Kind.VULNERABLE, Marker.Kind.INTERPRETER, Marker.Kind.NO_HOME_VISITS}
)
STAFF_SAFETY_MARKERS = frozenset({Marker.Kind.STAFF_SAFETY})
# What a work order shares, as the data map names it, for the person's sharing history.
WORK_ORDER_ITEMS = (
    "records.person.first_name",
    "records.person.last_name",
    "records.tenancy.property",
    "records.person.phone",
    "records.tenancy.access_notes",
)

REPAIR_NOT_PERSONAL_DATA = (
    "Factual information about a repair (what is being repaired, when, and how far along it is) "
    "is not personal data and must not be withheld for data protection reasons. Choose "
    "Answered, or give another reason for refusing."
)


# Data sharing agreements


@transaction.atomic
def agreement_save(
    *,
    saved_by,
    agreement: DataSharingAgreement | None = None,
    partner: str,
    purpose: str,
    data_items: list[str],
    legal_basis: str,
    signed_on: datetime.date | None,
    review_on: datetime.date,
    status: str,
    contractor: Contractor | None = None,
) -> DataSharingAgreement:
    """Add an agreement to the register, or change one already on it."""
    if not roles_of(saved_by) & AGREEMENT_MANAGER_ROLES:
        raise ValidationError(
            "Only a senior officer or the data protection lead manages data sharing agreements."
        )
    if not data_items:
        raise ValidationError({"data_items": "Choose the data items the agreement covers."})
    known = {item.key for item in datamap.disclosable_items()}
    unknown = [key for key in data_items if key not in known]
    if unknown:
        raise ValidationError({"data_items": "Choose data items from the list."})
    created = agreement is None
    if not created:
        # Refused (StaleEdit) when the page was drawn from an older version: tmo.concurrency.
        lock_current(agreement)
    agreement = agreement or DataSharingAgreement()
    agreement.partner = partner.strip()
    agreement.purpose = purpose.strip()
    agreement.data_items = list(dict.fromkeys(data_items))
    agreement.legal_basis = legal_basis
    agreement.signed_on = signed_on
    agreement.review_on = review_on
    agreement.status = status
    agreement.contractor = contractor
    agreement.full_clean()
    agreement.save()
    record_event(
        actor=saved_by,
        obj=agreement,
        event="agreement_created" if created else "agreement_changed",
        status=agreement.status,
    )
    return agreement


def agreement_items(agreement: DataSharingAgreement) -> list[str]:
    """The labels of the data items an agreement covers, in the data map's order."""
    labels = {item.key: item.label for item in datamap.disclosable_items()}
    return [labels.get(key, key) for key in agreement.data_items]


# Work orders


def current_tenants(tenancy: Tenancy, user) -> list[Person]:
    """The tenancy's current tenants that the user may see: whom a work order can name."""
    today = timezone.localdate()
    members = HouseholdMember.objects.filter(
        tenancy=tenancy, relationship__in=HouseholdMember.TENANT_RELATIONSHIPS
    ).exclude(end_date__lt=today)
    return list(
        Person.objects.visible_to(user)
        .filter(pk__in=members.values("person"))
        .prefetch_related("markers")
    )


def _household(tenancy: Tenancy) -> list[Person]:
    today = timezone.localdate()
    members = HouseholdMember.objects.filter(tenancy=tenancy).exclude(end_date__lt=today)
    return list(Person.objects.filter(pk__in=members.values("person")).prefetch_related("markers"))


def safety_blocked_people(tenancy: Tenancy, person: Person) -> list[Person]:
    """Who at this address has a safety marker. The address protects all of them, so one safe
    address in the household holds back the whole work order."""
    people = {p.pk: p for p in _household(tenancy)}
    people.setdefault(person.pk, person)
    return [p for p in people.values() if p.has_safety_block()]


def address_safety_blocked(tenancy: Tenancy) -> bool:
    """Whether a safety marker on anyone now living here protects the address."""
    return any(p.has_safety_block() for p in _household(tenancy))


def work_order_flags(tenancy: Tenancy, person: Person) -> list[str]:
    """The plain flags a contractor gets instead of markers. Staff safety follows anyone at the
    address, since the contractor meets whoever opens the door."""
    flags = []
    if {m.kind for m in person.active_markers()} & APPOINTMENT_MARKERS:
        flags.append(NEEDS_APPOINTMENT)
    household_kinds = {m.kind for p in _household(tenancy) for m in p.active_markers()}
    household_kinds |= {m.kind for m in person.active_markers()}
    if household_kinds & STAFF_SAFETY_MARKERS:
        flags.append(STAFF_SAFETY)
    return flags


def usable_agreements():
    """Agreements naming a contractor: the ones a work order can go out under, problems and all,
    so that a form can say why one cannot be used rather than hide it."""
    return (
        DataSharingAgreement.objects.filter(contractor__isnull=False)
        .exclude(status=DataSharingAgreement.Status.ENDED)
        .select_related("contractor")
    )


def work_order_problems(
    *, user, tenancy: Tenancy, person: Person, agreement: DataSharingAgreement
) -> list[str]:
    """Why this work order cannot go out as asked; empty when it can (safety aside)."""
    problems = []
    if not roles_of(user) & WORK_ORDER_ROLES:
        problems.append("Only repairs, housing and senior officers raise work orders.")
        return problems
    if not Tenancy.objects.visible_to(user).filter(pk=tenancy.pk).exists():
        problems.append("You cannot raise a work order for this tenancy.")
        return problems
    if not tenancy.is_current():
        problems.append("The tenancy has ended: raise the work order for the current tenancy.")
    if person.pk not in {p.pk for p in current_tenants(tenancy, user)}:
        problems.append("Choose a current tenant of this home.")
    if agreement.contractor_id is None:
        problems.append(
            "The agreement with %s does not name a repairs contractor." % agreement.partner
        )
    problems += agreement.problems()
    return problems


def work_order_content(
    *, reference: str, tenancy: Tenancy, person: Person, agreement: DataSharingAgreement, job: str
) -> dict:
    """Exactly what the contractor is sent, and nothing else about the person."""
    return {
        "reference": reference,
        "contractor": agreement.contractor.name,
        "agreement": agreement.partner,
        "job": job,
        "name": person.full_name,
        "address": tenancy.property.address,
        "phone": person.phone,
        "access_notes": tenancy.access_notes,
        "flags": work_order_flags(tenancy, person),
    }


def _next_reference() -> str:
    year = timezone.localdate().year
    count = WorkOrder.objects.filter(reference__startswith="WO-%d-" % year).count()
    return "WO-%d-%04d" % (year, count + 1)


@transaction.atomic
def work_order_raise(
    *,
    raised_by,
    tenancy: Tenancy,
    person: Person,
    agreement: DataSharingAgreement,
    job: str,
    safety_override_reason: str = "",
) -> WorkOrder:
    """Send a repair to a contractor under an agreement, recorded as sharing on the person.

    A safety marker on anyone at the address blocks it unless the data protection lead raises it
    with a recorded reason."""
    agreement = DataSharingAgreement.objects.select_for_update().get(pk=agreement.pk)
    problems = work_order_problems(
        user=raised_by, tenancy=tenancy, person=person, agreement=agreement
    )
    if problems:
        raise ValidationError(problems)
    job = job.strip()
    if not job:
        raise ValidationError({"job": "Describe the repair to be done."})
    safety_override_reason = safety_override_reason.strip()
    blocked = safety_blocked_people(tenancy, person)
    overridden = False
    if blocked:
        if Role.DATA_PROTECTION_LEAD not in roles_of(raised_by):
            raise ValidationError(
                "A safety marker protects the address of someone in this household: no work "
                "order can go out unless the data protection lead overrides it with a "
                "recorded reason."
            )
        if not safety_override_reason:
            raise ValidationError(
                {
                    "safety_override_reason": "A safety marker protects this address: record "
                    "why the contractor must have it before the work order goes out."
                }
            )
        overridden = True
    elif safety_override_reason:
        safety_override_reason = ""  # nothing to override; keep the record honest
    reference = _next_reference()
    content = work_order_content(
        reference=reference, tenancy=tenancy, person=person, agreement=agreement, job=job
    )
    order = WorkOrder(
        reference=reference,
        agreement=agreement,
        contractor=agreement.contractor,
        person=person,
        tenancy=tenancy,
        job=job,
        shared_content=json.dumps(content),
        raised_by=raised_by,
    )
    if overridden:
        order.safety_override_by = raised_by
        order.safety_override_reason = safety_override_reason
    order.full_clean()
    order.save()
    if overridden:
        record_event(
            actor=raised_by,
            obj=person,
            event="work_order_safety_override",
            reference=reference,
        )
    record_event(
        actor=raised_by,
        obj=person,
        event="shared_under_agreement",
        agreement=agreement.partner,
        agreement_id=agreement.pk,
        recipient=agreement.contractor.name,
        reference=reference,
        items=list(WORK_ORDER_ITEMS),
    )
    return order


def shared_content(order: WorkOrder) -> dict:
    return json.loads(order.shared_content or "{}")


@transaction.atomic
def work_order_open(*, user, order: WorkOrder) -> WorkOrder:
    """Audit a read of a work order fetched through its policy."""
    record_access(user=user, obj=order)
    return order


@transaction.atomic
def work_order_pdf(*, user, order: WorkOrder) -> bytes:
    """The work order as the contractor got it, drawn only from what was recorded as shared."""
    from weasyprint import HTML

    record_access(user=user, obj=order)
    html = render_to_string(
        "disclosures/work_order_pdf.html",
        {"order": order, "content": shared_content(order)},
    )
    return HTML(string=html).write_pdf()


# Information enquiries


@transaction.atomic
def enquiry_log(
    *,
    answered_by,
    enquirer: str,
    property: Property | None,
    about_repair: bool,
    question: str,
    response: str,
    response_details: str,
) -> InformationEnquiry:
    """Record an enquiry and how it was answered. Repair facts are never refused as personal
    data: a tenant was once refused repair information "because of data protection"."""
    if not roles_of(answered_by) & STAFF_ROLES:
        raise ValidationError("Only staff record enquiries.")
    if about_repair and response == InformationEnquiry.Response.REFUSED_DATA_PROTECTION:
        raise ValidationError({"response": REPAIR_NOT_PERSONAL_DATA})
    enquiry = InformationEnquiry(
        enquirer=enquirer.strip(),
        property=property,
        about_repair=about_repair,
        question=question.strip(),
        response=response,
        response_details=response_details.strip(),
        answered_by=answered_by,
    )
    enquiry.full_clean()
    enquiry.save()
    return enquiry


@transaction.atomic
def enquiry_open(*, user, enquiry: InformationEnquiry) -> InformationEnquiry:
    record_access(user=user, obj=enquiry)
    return enquiry
