"""Carrying a rights request through to the records: erase what may go, correct the register,
restrict processing and lift the restriction. Each page parses, calls sar.services.rights and
renders; the request is fetched through its policy, so one outside the user's scope is a 404."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.reauth import PasswordConfirmationMixin
from access.roles import STAFF_ROLES
from records.forms.people import GovukDateField, PersonForm
from sar.models.requests import HANDLER_ROLES
from sar.services import rights as services
from sar.views.requests import _request_or_404
from tmo.audit import record_access
from tmo.concurrency import StaleEdit, stale_messages
from tmo.forms import GovukFormMixin, run_service


class EraseForm(GovukFormMixin, PasswordConfirmationMixin):
    erase = forms.MultipleChoiceField(
        label="Records to erase",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Those the map says should go are ticked. Anything left unticked is kept, and "
        "the reason shown beside it is recorded with yours.",
    )
    reason = forms.CharField(
        label="Your reasons",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why these records are erased and the rest kept. The requester is told.",
        error_messages={"required": "Enter why these records are erased and the rest kept"},
    )
    field_order = ["erase", "reason", "password"]

    def __init__(self, *args, user, rows, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["erase"].choices = [(row.key, row.key) for row in rows]


class RectifyForm(PersonForm):
    reason = forms.CharField(
        label="What was wrong, and how did you check the correction?",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what was wrong and how you checked it"},
    )


class RestrictForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why is processing restricted, and until when?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: while we check the accuracy of the rent account, or while we "
        "consider the objection.",
        error_messages={"required": "Enter why processing is restricted, and until when"},
    )


class LiftForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why can the restriction be lifted?",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the restriction can be lifted"},
    )
    told_on = GovukDateField(
        label="When was the person told it will be lifted?",
        help_text="The law requires them to be told before it is lifted.",
    )


def _back(rights_request):
    return redirect("sar_request_detail", pk=rights_request.pk)


@roles_required(*HANDLER_ROLES)
def sar_rights_erase(request, pk):
    user = request.user
    rights_request = _request_or_404(user, pk)
    if not services.may_carry_out(user, rights_request, services.ERASE_KINDS):
        return _back(rights_request)
    person = rights_request.person
    rows = services.erasure_rows(person)
    form = EraseForm(
        request.POST if request.method == "POST" else None,
        user=user,
        rows=rows,
        initial={"erase": [row.key for row in rows if row.suggestion == services.Suggestion.ERASE]},
    )

    def erase(data):
        return services.rights_erase(
            request=rights_request, erased_by=user, erase=data["erase"], reason=data["reason"]
        )

    if run_service(
        request,
        form,
        erase,
        success="What was erased and what was kept, with the reasons, is recorded.",
        error_field="erase",
    ):
        return _back(rights_request)
    record_access(user=user, obj=person)
    chosen = set(form["erase"].value() or [])
    return render(
        request,
        "sar/rights_erase.html",
        {
            "rights_request": rights_request,
            "person": person,
            "rows": [(row, row.key in chosen) for row in rows],
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@roles_required(*STAFF_ROLES)
def sar_rights_rectify(request, pk):
    user = request.user
    rights_request = _request_or_404(user, pk)
    if not services.may_carry_out(user, rights_request, services.RECTIFY_KINDS):
        return _back(rights_request)
    person = rights_request.person
    form = RectifyForm(
        request.POST if request.method == "POST" else None, instance=person, user=user
    )

    def rectify(data):
        person = form.save(commit=False)
        # The version the form was drawn from: refused if someone saved the person since.
        person.drawn_version = form.drawn_version
        try:
            return services.rights_rectify(
                request=rights_request, rectified_by=user, person=person, reason=data["reason"]
            )
        except StaleEdit as stale:
            raise ValidationError(stale_messages(form, stale)) from stale

    if run_service(
        request,
        form,
        rectify,
        success=lambda action: (
            "Corrected: %s. The change is recorded on the request." % action.changed_fields
        ),
    ):
        return _back(rights_request)
    # Validation copies the posted values onto the instance: the header shows the stored name.
    rights_request = _request_or_404(user, pk) if form.errors else rights_request
    record_access(user=user, obj=rights_request.person)
    return render(
        request,
        "sar/rights_rectify.html",
        {"rights_request": rights_request, "person": rights_request.person, "form": form},
        status=400 if form.errors else 200,
    )


def _restriction_step(request, rights_request, form, call, *, success: str, lifting: bool):
    """Setting and lifting a restriction: one reason-giving form each, on the same page."""
    if run_service(request, form, call, success=success):
        return _back(rights_request)
    return render(
        request,
        "sar/rights_restriction.html",
        {
            "rights_request": rights_request,
            "person": rights_request.person,
            "form": form,
            "lifting": lifting,
        },
        status=400 if form.errors else 200,
    )


@roles_required(*STAFF_ROLES)
def sar_rights_restrict(request, pk):
    user = request.user
    rights_request = _request_or_404(user, pk)
    if not services.may_carry_out(user, rights_request, services.RESTRICT_KINDS):
        return _back(rights_request)
    return _restriction_step(
        request,
        rights_request,
        RestrictForm(request.POST if request.method == "POST" else None),
        lambda data: services.rights_restrict(
            request=rights_request, restricted_by=user, reason=data["reason"]
        ),
        success="Processing is restricted. Every page about the person now says so.",
        lifting=False,
    )


@roles_required(*HANDLER_ROLES)
def sar_rights_lift(request, pk):
    user = request.user
    rights_request = _request_or_404(user, pk)
    if rights_request.person is None or services.active_restriction(rights_request.person) is None:
        return _back(rights_request)
    return _restriction_step(
        request,
        rights_request,
        LiftForm(
            request.POST if request.method == "POST" else None,
            initial={"told_on": timezone.localdate()},
        ),
        lambda data: services.rights_restriction_lift(
            request=rights_request, lifted_by=user, reason=data["reason"], told_on=data["told_on"]
        ),
        success="The restriction is lifted and the reason recorded.",
        lifting=True,
    )


urlpatterns = [
    path("<int:pk>/erase/", sar_rights_erase, name="sar_rights_erase"),
    path("<int:pk>/rectify/", sar_rights_rectify, name="sar_rights_rectify"),
    path("<int:pk>/restrict/", sar_rights_restrict, name="sar_rights_restrict"),
    path("<int:pk>/lift-restriction/", sar_rights_lift, name="sar_rights_lift"),
]
