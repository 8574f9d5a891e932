"""Routine sharing pages: the data sharing agreements register, repairs work orders raised under
an agreement, and enquiries about repairs."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from disclosures import sharing
from disclosures.forms import disclosable_choices
from disclosures.models import Basis, DataSharingAgreement, InformationEnquiry, WorkOrder
from records.forms.people import GovukDateField
from records.models import Contractor, Person, Property, Tenancy
from records.policies import unshown_encrypted
from records.views.common import paginate
from tmo.concurrency import StaleEdit, add_version_field, stale_messages
from tmo.forms import GovukFormMixin, run_service

AGREEMENT_MANAGERS = sorted(sharing.AGREEMENT_MANAGER_ROLES)
WORK_ORDER_ROLES = sorted(sharing.WORK_ORDER_ROLES)
STAFF = sorted(STAFF_ROLES)


# Forms


class AgreementForm(GovukFormMixin, forms.Form):
    partner = forms.CharField(
        label="Partner organisation",
        max_length=200,
        error_messages={"required": "Enter the partner organisation"},
    )
    purpose = forms.CharField(
        label="Purpose",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what the sharing is for"},
    )
    data_items = forms.MultipleChoiceField(
        label="Data items shared",
        help_text="Share only what the purpose needs.",
        choices=disclosable_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose the data items the agreement covers"},
    )
    legal_basis = forms.ChoiceField(
        label="Legal basis",
        choices=Basis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the legal basis"},
    )
    signed_on = GovukDateField(
        label="Date signed", required=False, help_text="Leave blank if not signed yet."
    )
    review_on = GovukDateField(label="Review date", help_text="For example, 27 3 2027")
    status = forms.ChoiceField(
        label="Status",
        choices=DataSharingAgreement.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the agreement's status"},
    )
    contractor = forms.ModelChoiceField(
        label="Repairs contractor (optional)",
        help_text="For a repairs agreement: the contractor work orders go to.",
        queryset=Contractor.objects.none(),
        required=False,
        empty_label="Not a repairs agreement",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the names, to pick one: a contractor's commercial details stay in the contracts area.
        self.fields["contractor"].queryset = Contractor.objects.only("pk", "name")

    @classmethod
    def initial_for(cls, agreement: DataSharingAgreement) -> dict:
        return {
            "partner": agreement.partner,
            "purpose": agreement.purpose,
            "data_items": agreement.data_items,
            "legal_basis": agreement.legal_basis,
            "signed_on": agreement.signed_on,
            "review_on": agreement.review_on,
            "status": agreement.status,
            "contractor": agreement.contractor_id,
        }


class AgreementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, agreement):
        label = "%s, under the agreement with %s" % (agreement.contractor.name, agreement.partner)
        problems = agreement.problems()
        if problems:
            label += " (cannot be used: %s)" % " ".join(problems)
        return label


class TenantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return person.full_name


class WorkOrderForm(GovukFormMixin, forms.Form):
    person = TenantChoiceField(
        label="Tenant",
        queryset=Person.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the tenant the contractor should contact"},
    )
    agreement = AgreementChoiceField(
        label="Contractor",
        help_text="Only contractors covered by a data sharing agreement are listed.",
        queryset=DataSharingAgreement.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the contractor"},
    )
    job = forms.CharField(
        label="The repair to be done",
        help_text="Describe the job only. Do not write about the tenant's health or circumstances.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Describe the repair to be done"},
    )
    safety_override_reason = forms.CharField(
        label="Why the contractor must have this address",
        help_text="The data protection lead's recorded reason for overriding the safety marker.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, tenants, agreements, allow_override, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.filter(pk__in=[p.pk for p in tenants])
        self.fields["agreement"].queryset = agreements
        if not allow_override:
            del self.fields["safety_override_reason"]


class EnquiryForm(GovukFormMixin, forms.Form):
    enquirer = forms.CharField(
        label="Who asked",
        help_text="For example, a neighbour at 12 Weaver Court.",
        max_length=200,
        error_messages={"required": "Enter who asked"},
    )
    property = forms.ModelChoiceField(
        label="Home it is about (optional)",
        queryset=Property.objects.none(),
        required=False,
        empty_label="Not about one home",
    )
    about_repair = forms.BooleanField(
        label="The enquiry is about a repair",
        help_text="What is being repaired, when, or how far along it is.",
        required=False,
    )
    question = forms.CharField(
        label="What they asked",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what they asked"},
    )
    response = forms.ChoiceField(
        label="How it was answered",
        help_text=sharing.REPAIR_NOT_PERSONAL_DATA,
        choices=InformationEnquiry.Response.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how it was answered"},
    )
    response_details = forms.CharField(
        label="What you told them",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter what you told them"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.visible_to(user)


# Data sharing agreements


@roles_required(*STAFF)
def agreement_list(request):
    agreements = DataSharingAgreement.objects.select_related("contractor")
    rows = [{"agreement": a, "problems": a.problems()} for a in agreements]
    return render(
        request,
        "disclosures/agreement_list.html",
        {
            "rows": rows,
            "may_manage": bool(roles_of(request.user) & sharing.AGREEMENT_MANAGER_ROLES),
        },
    )


@roles_required(*STAFF)
def agreement_detail(request, pk):
    agreement = get_object_or_404(DataSharingAgreement.objects.select_related("contractor"), pk=pk)
    orders = (
        WorkOrder.objects.visible_to(request.user)
        .filter(agreement=agreement)
        .select_related("person", "contractor")
    )
    page = paginate(request, orders)
    return render(
        request,
        "disclosures/agreement_detail.html",
        {
            "agreement": agreement,
            "problems": agreement.problems(),
            "items": sharing.agreement_items(agreement),
            "page": page,
            "may_manage": bool(roles_of(request.user) & sharing.AGREEMENT_MANAGER_ROLES),
        },
    )


def _agreement_form_page(request, agreement):
    initial = AgreementForm.initial_for(agreement) if agreement else None
    form = AgreementForm(request.POST or None, initial=initial)
    if agreement:
        add_version_field(form, agreement)

    def save(data):
        if agreement:
            # The version the page was drawn from: the service refuses if someone saved since.
            agreement.drawn_version = data.pop("edit_version", None)
        try:
            return sharing.agreement_save(
                saved_by=request.user,
                agreement=agreement,
                partner=data["partner"],
                purpose=data["purpose"],
                data_items=data["data_items"],
                legal_basis=data["legal_basis"],
                signed_on=data["signed_on"],
                review_on=data["review_on"],
                status=data["status"],
                contractor=data["contractor"],
            )
        except StaleEdit as stale:
            raise ValidationError(stale_messages(form, stale)) from stale

    saved = run_service(
        request, form, save, success=lambda saved: "Agreement with %s saved." % saved.partner
    )
    if saved:
        return redirect("agreement_detail", pk=saved.pk)
    return render(
        request, "disclosures/agreement_form.html", {"form": form, "agreement": agreement}
    )


@roles_required(*AGREEMENT_MANAGERS)
def agreement_create(request):
    return _agreement_form_page(request, None)


@roles_required(*AGREEMENT_MANAGERS)
def agreement_edit(request, pk):
    agreement = get_object_or_404(DataSharingAgreement, pk=pk)
    return _agreement_form_page(request, agreement)


# Work orders


@roles_required(*WORK_ORDER_ROLES)
def work_order_list(request):
    orders = (
        WorkOrder.objects.visible_to(request.user)
        .select_related("person", "contractor", "tenancy__property")
        # The list names the person and the contractor; what was shared is on each order's page.
        .defer(*unshown_encrypted(WorkOrder), *unshown_encrypted(Person, prefix="person__"))
    )
    page = paginate(request, orders)
    return render(request, "disclosures/work_order_list.html", {"page": page})


@roles_required(*WORK_ORDER_ROLES)
def work_order_create(request, pk):
    user = request.user
    tenancy = get_visible_or_404(Tenancy.objects.select_related("property"), user, pk=pk)
    tenants = sharing.current_tenants(tenancy, user)
    agreements = sharing.usable_agreements()
    blocked = sharing.address_safety_blocked(tenancy)
    is_dpo = Role.DATA_PROTECTION_LEAD in roles_of(user)
    form = WorkOrderForm(
        request.POST or None,
        tenants=tenants,
        agreements=agreements,
        allow_override=blocked and is_dpo,
    )
    order = run_service(
        request,
        form,
        lambda data: sharing.work_order_raise(
            raised_by=user,
            tenancy=tenancy,
            person=data["person"],
            agreement=data["agreement"],
            job=data["job"],
            safety_override_reason=data.get("safety_override_reason", ""),
        ),
        success=lambda order: "Work order %s raised." % order.reference,
    )
    if order:
        return redirect("work_order_detail", pk=order.pk)
    return render(
        request,
        "disclosures/work_order_form.html",
        {
            "form": form,
            "tenancy": tenancy,
            "tenants": tenants,
            "agreement_problems": [
                (a, a.problems()) for a in form.fields["agreement"].queryset if a.problems()
            ],
            "blocked": blocked,
            "may_override": blocked and is_dpo,
        },
    )


@roles_required(*WORK_ORDER_ROLES)
def work_order_detail(request, pk):
    order = get_visible_or_404(
        WorkOrder.objects.select_related(
            "agreement", "contractor", "tenancy__property", "raised_by", "safety_override_by"
        ).prefetch_related("person__markers"),
        request.user,
        pk=pk,
    )
    sharing.work_order_open(user=request.user, order=order)
    return render(
        request,
        "disclosures/work_order_detail.html",
        {
            "order": order,
            "person": order.person,
            "content": sharing.shared_content(order),
            "agreement_problems": order.agreement.problems(),
        },
    )


@roles_required(*WORK_ORDER_ROLES)
@never_cache
def work_order_pdf(request, pk):
    order = get_visible_or_404(
        WorkOrder.objects.select_related("contractor", "agreement"), request.user, pk=pk
    )
    pdf = sharing.work_order_pdf(user=request.user, order=order)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename="%s.pdf" % order.reference
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Information enquiries


@roles_required(*STAFF)
def enquiry_list(request):
    enquiries = InformationEnquiry.objects.select_related("property", "answered_by")
    page = paginate(request, enquiries)
    return render(request, "disclosures/enquiry_list.html", {"page": page})


@roles_required(*STAFF)
def enquiry_create(request):
    form = EnquiryForm(request.POST or None, user=request.user)
    enquiry = run_service(
        request,
        form,
        lambda data: sharing.enquiry_log(
            answered_by=request.user,
            enquirer=data["enquirer"],
            property=data["property"],
            about_repair=data["about_repair"],
            question=data["question"],
            response=data["response"],
            response_details=data["response_details"],
        ),
        success="Enquiry recorded.",
    )
    if enquiry:
        return redirect("enquiry_detail", pk=enquiry.pk)
    return render(request, "disclosures/enquiry_form.html", {"form": form})


@roles_required(*STAFF)
def enquiry_detail(request, pk):
    enquiry = get_object_or_404(
        InformationEnquiry.objects.select_related("property", "answered_by"), pk=pk
    )
    sharing.enquiry_open(user=request.user, enquiry=enquiry)
    return render(request, "disclosures/enquiry_detail.html", {"enquiry": enquiry})


urlpatterns = [
    path("agreements/", agreement_list, name="agreement_list"),
    path("agreements/new/", agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/edit/", agreement_edit, name="agreement_edit"),
    path("work-orders/", work_order_list, name="work_order_list"),
    path("tenancies/<int:pk>/work-orders/new/", work_order_create, name="work_order_create"),
    path("work-orders/<int:pk>/", work_order_detail, name="work_order_detail"),
    path("work-orders/<int:pk>/pdf/", work_order_pdf, name="work_order_pdf"),
    path("enquiries/", enquiry_list, name="enquiry_list"),
    path("enquiries/new/", enquiry_create, name="enquiry_create"),
    path("enquiries/<int:pk>/", enquiry_detail, name="enquiry_detail"),
]
