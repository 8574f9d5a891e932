"""Contractors and their commercially confidential details: contracts officers and the DPO only."""

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import Role
from records import services
from records.forms.contractors import ContractorFilterForm
from records.models import Contractor, ContractorBid, ContractorContact, Person
from records.views.common import paginate

CONTRACTS_ROLES = (Role.CONTRACTS_OFFICER, Role.DATA_PROTECTION_LEAD)


@roles_required(*CONTRACTS_ROLES)
def contractor_list(request):
    form = ContractorFilterForm(request.GET)
    # Meta.ordering is dropped from aggregate queries, so the page order is stated here.
    contractors = (
        form.filter(Contractor.objects.visible_to(request.user))
        .annotate(
            bid_count=Count("bids", distinct=True), contact_count=Count("contacts", distinct=True)
        )
        .order_by("name")
    )
    page = paginate(request, contractors)
    return render(
        request,
        "records/contractor_list.html",
        {
            "form": form,
            "page_obj": page,
            "today": timezone.localdate(),
        },
    )


@roles_required(*CONTRACTS_ROLES)
def contractor_detail(request, pk):
    user = request.user
    contractor = get_visible_or_404(Contractor, user, pk=pk)
    services.record_open(user=user, obj=contractor)
    contacts = list(
        ContractorContact.objects.visible_to(user)
        .filter(contractor=contractor)
        .select_related("person")
        .prefetch_related("person__markers")
    )
    openable = set(
        Person.objects.visible_to(user)
        .filter(pk__in=[contact.person_id for contact in contacts])
        .values_list("pk", flat=True)
    )
    for contact in contacts:
        contact.can_open_person = contact.person_id in openable
        contact.markers = contact.person.active_markers()
    bids = ContractorBid.objects.visible_to(user).filter(contractor=contractor)
    today = timezone.localdate()
    return render(
        request,
        "records/contractor_detail.html",
        {
            "contractor": contractor,
            "contacts": contacts,
            "bids": bids,
            "insurance_expired": contractor.insurance_expires_on is not None
            and contractor.insurance_expires_on < today,
        },
    )
