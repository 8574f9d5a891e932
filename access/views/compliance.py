"""Access pages: the confidentiality code, training records and access reviews."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from access.compliance import REQUIRED_ROLES, compliance_problems, is_required
from access.decorators import roles_required, signed_in
from access.models import AccessReview, AccessReviewItem, ConfidentialityCode, TrainingModule
from access.roles import Role, roles_of
from access.services import compliance as services
from tmo.forms import GovukFormMixin, add_service_error

DPO = Role.DATA_PROTECTION_LEAD
TRAINING_MANAGERS = sorted(services.TRAINING_MANAGER_ROLES)
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%Y-%m-%d"]


class SignCodeForm(GovukFormMixin, forms.Form):
    agree = forms.BooleanField(
        label="I have read and will follow the confidentiality code",
        error_messages={
            "required": "Confirm that you have read and will follow the confidentiality code"
        },
    )
    full_name = forms.CharField(
        label="Your full name",
        max_length=200,
        help_text="Typing your name signs the undertaking.",
        error_messages={"required": "Enter your full name"},
    )
    version = forms.CharField(widget=forms.HiddenInput)


class PublishCodeForm(GovukFormMixin, forms.Form):
    version = forms.CharField(
        label="Version number",
        max_length=20,
        help_text="For example, 3. Everyone must sign the new version before opening records.",
        error_messages={"required": "Enter the version number"},
    )
    text = forms.CharField(
        label="Text of the code",
        widget=forms.Textarea(attrs={"rows": 20}),
        error_messages={"required": "Enter the text of the code"},
    )


class TrainingModuleForm(GovukFormMixin, forms.Form):
    name = forms.CharField(
        label="Module name", max_length=200, error_messages={"required": "Enter the module name"}
    )
    description = forms.CharField(
        label="Description (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    roles = forms.MultipleChoiceField(
        label="Which roles must complete it?",
        choices=[(r.value, r.label) for r in Role if r.value in REQUIRED_ROLES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select the roles that must complete this module"},
    )
    validity_months = forms.IntegerField(
        label="How many months does it last?",
        min_value=1,
        max_value=60,
        initial=12,
        error_messages={
            "required": "Enter how many months the training lasts",
            "invalid": "Enter how many months the training lasts as a number, like 12",
            "min_value": "Enter how many months the training lasts, from 1 to 60",
            "max_value": "Enter how many months the training lasts, from 1 to 60",
        },
    )


class TrainingRecordForm(GovukFormMixin, forms.Form):
    user = forms.ModelChoiceField(
        label="Who completed it?",
        queryset=None,
        empty_label="Choose a person",
        error_messages={"required": "Choose who completed the training"},
    )
    module = forms.ModelChoiceField(
        label="Training module",
        queryset=TrainingModule.objects.all(),
        empty_label="Choose a module",
        error_messages={"required": "Choose the training module"},
    )
    completed_on = forms.DateField(
        label="Date completed",
        input_formats=DATE_FORMATS,
        help_text="For example, 27/03/2026",
        error_messages={
            "required": "Enter the date the training was completed",
            "invalid": "Enter the date the training was completed as day/month/year, "
            "like 27/03/2026",
        },
    )
    evidence = forms.CharField(
        label="Evidence (optional)",
        required=False,
        max_length=1000,
        help_text="For example, the certificate number or who ran the session.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = services.people_held_to_training()
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.username


class StartReviewForm(GovukFormMixin, forms.Form):
    period = forms.CharField(
        label="Period the review covers",
        max_length=50,
        help_text="For example, 2026 Q3",
        error_messages={"required": "Enter the period the review covers, for example 2026 Q3"},
    )


class ReviewDecisionForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=AccessReviewItem.Decision.choices,
        error_messages={
            "required": "Choose whether to confirm or revoke this access",
            "invalid_choice": "Choose whether to confirm or revoke this access",
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        help_text="Needed when revoking: it is kept with the review.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") == AccessReviewItem.Decision.REVOKED
            and not (data.get("note") or "").strip()
        ):
            self.add_error("note", "Enter why this access is being revoked")
        return data


# --- the user's own position ---------------------------------------------------------------------


@signed_in
def compliance_status(request):
    """Why can't I see records? The user's own undertaking and training, and what to do."""
    user = request.user
    code = services.current_code()
    context = {
        "required": is_required(user),
        "problems": compliance_problems(user),
        "code": code,
        "undertaking": services.own_undertaking(user, code),
        "training": services.own_training(user),
        "today": timezone.localdate(),
    }
    return render(request, "access/compliance/status.html", context)


@signed_in
def compliance_code(request):
    """The current confidentiality code, and for those it binds, the form that signs it."""
    user = request.user
    code = services.current_code()
    undertaking = services.own_undertaking(user, code)
    may_sign = code is not None and undertaking is None and is_required(user)
    form = None
    if may_sign:
        initial = {"version": code.version}
        form = SignCodeForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            signed_code = ConfidentialityCode.objects.filter(
                version=form.cleaned_data["version"]
            ).first()
            try:
                services.sign_code(
                    user=user,
                    code=signed_code or code,
                    full_name=form.cleaned_data["full_name"],
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request, "You signed version %s of the confidentiality code." % code.version
                )
                return redirect("compliance_status")
    context = {
        "code": code,
        "undertaking": undertaking,
        "form": form,
        "required": is_required(user),
    }
    return render(request, "access/compliance/code.html", context)


# --- the DPO's and senior officers' pages ---------------------------------------------------------


@roles_required(DPO)
def compliance_code_publish(request):
    current = services.current_code()
    form = PublishCodeForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            code = services.publish_code(published_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Version %s of the confidentiality code is published. Everyone must sign it "
                "before opening records again." % code.version,
            )
            return redirect("compliance_training")
    return render(
        request, "access/compliance/code_publish.html", {"form": form, "current": current}
    )


@roles_required(*TRAINING_MANAGERS)
def compliance_training(request):
    """Who is due: everyone held to the requirement, problems first."""
    code, rows = services.training_status()
    context = {
        "code": code,
        "rows": rows,
        "modules": TrainingModule.objects.all(),
        "blocked": sum(1 for row in rows if row.blocked),
        "due": sum(1 for row in rows if row.due and not row.blocked),
        "due_within_days": services.DUE_WITHIN_DAYS,
        "is_dpo": DPO in roles_of(request.user),
    }
    return render(request, "access/compliance/training.html", context)


@roles_required(*TRAINING_MANAGERS)
def compliance_training_record(request):
    initial = {"completed_on": timezone.localdate().strftime("%d/%m/%Y")}
    for name in ("user", "module"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    form = TrainingRecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_training(recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Training recorded: %s completed '%s'; it expires on %s."
                % (
                    record.user.get_full_name() or record.user.username,
                    record.module.name,
                    record.expires_on.strftime("%d/%m/%Y"),
                ),
            )
            return redirect("compliance_training")
    return render(request, "access/compliance/training_record.html", {"form": form})


@roles_required(DPO)
def compliance_module_create(request):
    form = TrainingModuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            module = services.create_training_module(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Training module '%s' added. Everyone in its roles needs a completion recorded "
                "before they can open records." % module.name,
            )
            return redirect("compliance_training")
    return render(request, "access/compliance/module_form.html", {"form": form})


# --- access review --------------------------------------------------------------------------------


@roles_required(DPO)
def access_review_list(request):
    form = StartReviewForm(request.POST or None, initial={"period": services.suggested_period()})
    if request.method == "POST" and form.is_valid():
        try:
            review = services.start_access_review(
                started_by=request.user, period=form.cleaned_data["period"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Access review %s started." % review.period)
            return redirect("access_review_detail", pk=review.pk)
    reviews = AccessReview.objects.select_related("started_by")
    context = {
        "form": form,
        "reviews": reviews,
        "open_review": services.open_review(),
        "last_completed": services.last_completed_review(),
        "review_every_days": services.REVIEW_EVERY_DAYS,
    }
    return render(request, "access/compliance/review_list.html", context)


def _render_review(request, review, *, error_item=None, error_form=None, status=200):
    items = list(review.items.select_related("decided_by", "user").order_by("kind", "pk"))
    groups = []
    for kind, label in AccessReviewItem.Kind.choices:
        in_kind = [item for item in items if item.kind == kind]
        for item in in_kind:
            if error_item is not None and item.pk == error_item.pk:
                item.form = error_form
            else:
                item.form = ReviewDecisionForm(auto_id="item%d_%%s" % item.pk)
        groups.append((label, in_kind))
    context = {
        "review": review,
        "groups": groups,
        "left": sum(1 for item in items if not item.is_decided),
        "total": len(items),
        "error_form": error_form,
        "error_item": error_item,
    }
    return render(request, "access/compliance/review_detail.html", context, status=status)


@roles_required(DPO)
def access_review_detail(request, pk):
    review = get_object_or_404(AccessReview.objects.select_related("started_by"), pk=pk)
    return _render_review(request, review)


@roles_required(DPO)
def access_review_decide(request, pk):
    item = get_object_or_404(AccessReviewItem.objects.select_related("review"), pk=pk)
    back = reverse("access_review_detail", args=[item.review_id])
    if request.method != "POST":
        return redirect(back)
    form = ReviewDecisionForm(request.POST, auto_id="item%d_%%s" % item.pk)
    if form.is_valid():
        try:
            services.decide_review_item(decided_by=request.user, item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            item.refresh_from_db()
            messages.success(request, "%s: %s." % (item.get_decision_display(), item.description))
            return redirect(back + "#item-%d" % item.pk)
    return _render_review(request, item.review, error_item=item, error_form=form)


urlpatterns = [
    path("", compliance_status, name="compliance_status"),
    path("code/", compliance_code, name="compliance_code"),
    path("code/publish/", compliance_code_publish, name="compliance_code_publish"),
    path("training/", compliance_training, name="compliance_training"),
    path("training/record/", compliance_training_record, name="compliance_training_record"),
    path("training/modules/new/", compliance_module_create, name="compliance_module_create"),
    path("reviews/", access_review_list, name="access_review_list"),
    path("reviews/<int:pk>/", access_review_detail, name="access_review_detail"),
    path("reviews/items/<int:pk>/", access_review_decide, name="access_review_decide"),
]
