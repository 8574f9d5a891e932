"""Access pages: emergency ("break the glass") access, and the DPO's review of each use."""

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.models import EmergencyAccess, EmergencyAccessAttempt
from access.reauth import PasswordConfirmationMixin
from access.roles import STAFF_ROLES, Role
from access.services import emergency as services
from tmo.forms import add_service_error

RECENT_SHOWN = 20
REASON_MAX_LENGTH = 2000


class EmergencyAccessForm(PasswordConfirmationMixin, forms.Form):
    identifier_kind = forms.ChoiceField(
        label="How will you identify the person?",
        choices=EmergencyAccessAttempt.Kind.choices,
        initial=EmergencyAccessAttempt.Kind.RECORD_NUMBER,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you will identify the person."},
    )
    identifier = forms.CharField(
        label="Record number, National Insurance number, email or phone",
        max_length=254,
        error_messages={"required": "Enter the record number or exact detail."},
    )
    reason = forms.CharField(
        label="Why do you need this record now?",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter why you need this record now."},
    )

    field_order = ["identifier_kind", "identifier", "reason", "password"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class JustifiedForm(forms.Form):
    notes = forms.CharField(
        label="Why was this use justified?",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the use was justified."},
    )


class BreachForm(forms.Form):
    summary = forms.CharField(
        label="Summary of the breach",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter a summary of the breach."},
    )
    notes = forms.CharField(
        label="Review notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@roles_required(*STAFF_ROLES)
def emergency_access_start(request):
    form = EmergencyAccessForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.request_emergency_access(
                user=request.user,
                kind=form.cleaned_data["identifier_kind"],
                identifier=form.cleaned_data["identifier"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            outcome = EmergencyAccessAttempt.Outcome
            if attempt.outcome == outcome.OPENED:
                messages.warning(
                    request,
                    "You are using emergency access until %s. Every record you open is logged and "
                    "the data protection lead has been told."
                    % timezone.localtime(attempt.access.expires_at).strftime("%H:%M"),
                )
                return redirect("person_detail", pk=attempt.access.object_id)
            if attempt.outcome == outcome.IN_SCOPE:
                messages.info(
                    request, "You can already open this record: no emergency access used."
                )
                return redirect("person_detail", pk=attempt.target.pk)
            form.add_error("identifier", services.NO_MATCH_MESSAGE)
    return render(request, "access/emergency/start.html", {"form": form})


@roles_required(Role.DATA_PROTECTION_LEAD)
def emergency_review_list(request):
    accesses = EmergencyAccess.objects.select_related("user", "content_type", "reviewed_by")
    context = {
        "pending": accesses.filter(review=EmergencyAccess.Review.PENDING).order_by("started_at"),
        "reviewed": accesses.exclude(review=EmergencyAccess.Review.PENDING).order_by(
            "-reviewed_at"
        )[:RECENT_SHOWN],
        "unmatched": EmergencyAccessAttempt.objects.filter(
            outcome=EmergencyAccessAttempt.Outcome.NO_MATCH
        ).select_related("user")[:RECENT_SHOWN],
    }
    return render(request, "access/emergency/review_list.html", context)


@roles_required(Role.DATA_PROTECTION_LEAD)
def emergency_review_detail(request, pk):
    access = get_object_or_404(
        EmergencyAccess.objects.select_related("user", "content_type", "reviewed_by", "breach"),
        pk=pk,
    )
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and action not in {"justified", "breach"}:
        # Only a tampered or stale page posts another action: say so rather than redraw silently.
        raise BadRequest("Unknown action")
    justified_form = JustifiedForm(
        request.POST if action == "justified" else None, prefix="justified"
    )
    breach_form = BreachForm(request.POST if action == "breach" else None, prefix="breach")
    if action == "justified" and justified_form.is_valid():
        try:
            services.mark_emergency_access_justified(
                reviewer=request.user, access=access, notes=justified_form.cleaned_data["notes"]
            )
        except ValidationError as error:
            add_service_error(justified_form, error)
        else:
            messages.success(request, "Emergency access #%s marked justified." % access.pk)
            return redirect("emergency_review_list")
    elif action == "breach" and breach_form.is_valid():
        try:
            breach = services.open_breach_for_emergency_access(
                reviewer=request.user,
                access=access,
                summary=breach_form.cleaned_data["summary"],
                notes=breach_form.cleaned_data["notes"],
            )
        except ValidationError as error:
            add_service_error(breach_form, error)
        else:
            messages.success(
                request, "Breach #%s opened for emergency access #%s." % (breach.pk, access.pk)
            )
            return redirect("emergency_review_list")
    context = {
        "access": access,
        "target": access.content_object,
        "reads": services.reads_during(access),
        "attempts": access.attempts.all(),
        "justified_form": justified_form,
        "breach_form": breach_form,
        "may_review": access.is_pending and access.user_id != request.user.pk,
    }
    return render(request, "access/emergency/review_detail.html", context)


urlpatterns = [
    path("", emergency_access_start, name="emergency_access_start"),
    path("review/", emergency_review_list, name="emergency_review_list"),
    path("review/<int:pk>/", emergency_review_detail, name="emergency_review_detail"),
]
