"""The DPIA register: data protection impact assessments of new projects and systems, for the
data protection lead and senior officers."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from access.decorators import roles_required
from access.models import ImpactAssessment
from access.roles import Role, roles_of
from access.services import breaches as breach_services
from access.services import dpia as services
from tmo.concurrency import StaleEdit, add_version_field, stale_messages
from tmo.forms import GovukFormMixin, run_service

ROLES = tuple(services.DPIA_ROLES)
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
TEXT_MAX = 20000


class GovukForm(GovukFormMixin, forms.Form):
    pass


def _text(label, *, required=False, rows=6, help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": "Enter %s" % str(label).lower()},
    )


class AssessmentForm(GovukForm):
    title = forms.CharField(
        label="Project or system",
        max_length=200,
        error_messages={"required": "Enter the name of the project or system"},
    )
    description = _text(
        "Description",
        required=True,
        help_text="What it does with personal data, for whom, and why.",
    )
    covers = forms.MultipleChoiceField(
        label="Parts of the personal-data map it covers",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risks = _text(
        "Risks to people", help_text="What could go wrong for the people whose data it is."
    )
    measures = _text("Measures", help_text="What is done to reduce each risk.")
    dpo_advice = _text("The data protection lead's advice")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["covers"].choices = breach_services.data_category_choices()
        if Role.DATA_PROTECTION_LEAD not in roles_of(user):
            # Only the DPO gives DPO advice; others see it on the assessment itself.
            del self.fields["dpo_advice"]


class SignOffForm(GovukForm):
    review_on = forms.DateField(
        label="Review by",
        input_formats=DATE_FORMATS,
        help_text="When the assessment is to be looked at again. For example, 27/3/2027",
        error_messages={
            "required": "Enter the date to review the assessment by",
            "invalid": "Enter the review date as day/month/year, like 27/3/2027",
        },
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    notes = _text("Notes (optional)", rows=3)


def _assessment_or_404(pk) -> ImpactAssessment:
    return get_object_or_404(
        ImpactAssessment.objects.select_related("author", "signed_off_by"), pk=pk
    )


@roles_required(*ROLES)
def dpia_list(request):
    assessments = ImpactAssessment.objects.select_related("author", "signed_off_by")
    return render(request, "access/dpia/list.html", {"assessments": assessments})


@roles_required(*ROLES)
def dpia_create(request):
    form = AssessmentForm(request.POST or None, user=request.user)
    assessment = run_service(
        request,
        form,
        lambda data: services.create_assessment(user=request.user, values=data),
        success="Impact assessment added as a draft.",
    )
    if assessment is not None:
        return redirect("dpia_detail", pk=assessment.pk)
    return render(request, "access/dpia/form.html", {"form": form, "assessment": None})


@roles_required(*ROLES)
def dpia_detail(request, pk):
    assessment = _assessment_or_404(pk)
    return render(
        request,
        "access/dpia/detail.html",
        {
            "assessment": assessment,
            "covers": services.covers_labels(assessment),
            "sign_off_problems": services.sign_off_problems(assessment),
            "may_sign_off": assessment.status == ImpactAssessment.Status.DRAFT
            and assessment.author_id != request.user.pk,
        },
    )


@roles_required(*ROLES)
def dpia_edit(request, pk):
    assessment = _assessment_or_404(pk)
    if request.method == "POST" and request.POST.get("action") == "retire":
        try:
            services.retire_assessment(user=request.user, assessment=assessment)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Marked as no longer in use.")
        return redirect("dpia_detail", pk=assessment.pk)
    form = AssessmentForm(
        request.POST or None,
        user=request.user,
        initial={
            "title": assessment.title,
            "description": assessment.description,
            "covers": assessment.covers,
            "risks": assessment.risks,
            "measures": assessment.measures,
            "dpo_advice": assessment.dpo_advice,
        },
    )
    add_version_field(form, assessment)

    def save(data):
        # The version the page was drawn from: the service refuses if someone saved since.
        assessment.drawn_version = data.pop("edit_version", None)
        try:
            return services.update_assessment(user=request.user, assessment=assessment, values=data)
        except StaleEdit as stale:
            raise ValidationError(stale_messages(form, stale)) from stale

    if run_service(request, form, save, success="Impact assessment saved."):
        return redirect("dpia_detail", pk=assessment.pk)
    return render(request, "access/dpia/form.html", {"form": form, "assessment": assessment})


@roles_required(*ROLES)
def dpia_sign_off(request, pk):
    assessment = _assessment_or_404(pk)
    form = SignOffForm(request.POST or None)
    if run_service(
        request,
        form,
        lambda data: services.sign_off_assessment(
            user=request.user,
            assessment=assessment,
            review_on=data["review_on"],
            notes=data["notes"],
        ),
        success="Impact assessment signed off.",
    ):
        return redirect("dpia_detail", pk=assessment.pk)
    return render(
        request,
        "access/dpia/sign_off.html",
        {
            "form": form,
            "assessment": assessment,
            "covers": services.covers_labels(assessment),
        },
    )


urlpatterns = [
    path("", dpia_list, name="dpia_list"),
    path("new/", dpia_create, name="dpia_create"),
    path("<int:pk>/", dpia_detail, name="dpia_detail"),
    path("<int:pk>/edit/", dpia_edit, name="dpia_edit"),
    path("<int:pk>/sign-off/", dpia_sign_off, name="dpia_sign_off"),
]
