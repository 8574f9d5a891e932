"""Retention pages: the schedule, disposal reviews, legal holds and disposal certificates.

The data protection lead keeps the schedule and decides disposal; senior officers may read the
schedule and the certificates. Reviews and certificates show records by type and number only."""

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache

from access.decorators import roles_required
from access.reauth import PasswordConfirmationMixin
from access.roles import Role, roles_of
from access.services import retention as services
from tmo import datamap, retention
from tmo.concurrency import StaleEdit, add_version_field, stale_messages
from tmo.forms import GovukFormMixin, add_service_error
from tmo.retention_models import (
    DisposalCandidate,
    DisposalCertificate,
    DisposalReview,
    LegalHold,
    RetentionRule,
)

DPO = Role.DATA_PROTECTION_LEAD
READERS = services.READER_ROLES
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
# Rows shown per kind of record on a review page; the rest are counted.
ROWS_SHOWN = 500
RECENT_SHOWN = 50
Status = DisposalCandidate.Status


def _reason_field(label: str, message: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": message},
    )


def _ends_on_field() -> forms.DateField:
    return forms.DateField(
        label="End date (optional)",
        help_text="Leave empty to keep the hold until it is lifted. For example, 27/3/2027",
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": "End date must be a real date, like 27/3/2027"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )


class RuleForm(GovukFormMixin, forms.Form):
    years = forms.IntegerField(
        label="Years kept",
        min_value=0,
        max_value=services.MAX_YEARS,
        error_messages={
            "required": "Enter how many years the records are kept",
            "invalid": "Years kept must be a whole number, like 6",
            "min_value": "Years kept must be 0 or more",
            "max_value": "Years kept must be %d or fewer" % services.MAX_YEARS,
        },
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
    )
    after = forms.CharField(
        label="Counted from",
        help_text="The event the period counts from, for example: the tenancy ends.",
        max_length=200,
        error_messages={"required": "Enter the event the period counts from"},
    )
    date_field = forms.ChoiceField(
        label="Date that records the event",
        help_text="The sweep finds rows past their date from this. Choose none where no date "
        "records the event: those rows are reviewed by hand.",
        required=False,
    )
    action = forms.ChoiceField(
        label="At the end of the period",
        choices=RetentionRule.Action.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happens at the end of the period"},
    )
    extra_fields = forms.MultipleChoiceField(
        label="Also blank these details when anonymising",
        help_text="Details the data map already marks as personal are always blanked.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label="Notes (optional)",
        help_text="Why this period, for example the law or guidance it follows.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, entry: datamap.PersonalData, **kwargs):
        super().__init__(*args, **kwargs)
        model = entry.model
        self.fields["date_field"].choices = [("", "None: reviewed by hand")] + list(
            retention.date_choices(model)
        )
        covered = retention.covered_fields(entry)
        self.fields["extra_fields"].choices = [
            (f.name, str(f.verbose_name).capitalize())
            for f in retention.blankable_fields(model)
            if f.name not in covered
        ]


class CandidatesForm(GovukFormMixin, forms.Form):
    candidates = forms.TypedMultipleChoiceField(
        label="Rows",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one row"},
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["candidates"].choices = [(pk, pk) for pk in choices]


class ExcludeForm(CandidatesForm):
    reason = _reason_field("Why are these rows kept this time?", "Enter why these rows are kept")


class HoldForm(GovukFormMixin, forms.Form):
    reason = _reason_field(
        "Why must the record be kept?",
        "Enter why the record must be kept",
    )
    ends_on = _ends_on_field()


class NewHoldForm(HoldForm):
    model_label = forms.ChoiceField(
        label="Kind of record", error_messages={"required": "Choose the kind of record"}
    )
    object_id = forms.CharField(
        label="Record number",
        max_length=20,
        error_messages={"required": "Enter the record number"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "numeric"}),
    )

    field_order = ["model_label", "object_id", "reason", "ends_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_label"].choices = [("", "Choose a kind of record")] + sorted(
            (
                (entry.model._meta.label_lower, entry.model_name)
                for entry in datamap.personal_entries()
            ),
            key=lambda choice: choice[1],
        )


class LiftForm(GovukFormMixin, forms.Form):
    reason = _reason_field(
        "Why does the record no longer need keeping?",
        "Enter why the record no longer needs keeping",
    )


class ApproveForm(GovukFormMixin, PasswordConfirmationMixin, forms.Form):
    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


# --- the schedule ----------------------------------------------------------------------------


@roles_required(*READERS)
def retention_schedule(request):
    rows = services.schedule_rows()
    return render(
        request,
        "access/retention/schedule.html",
        {
            "rows": rows,
            "by_hand": [row for row in rows if row.by_hand],
            "may_edit": DPO in roles_of(request.user),
        },
    )


@roles_required(DPO)
def retention_rule_edit(request, pk):
    rule = get_object_or_404(RetentionRule, pk=pk)
    entry = retention.entry_for_label(rule.model_label)
    if entry is None or not entry.is_personal:
        raise Http404
    initial = {
        "years": rule.years,
        "after": rule.after,
        "date_field": rule.date_field,
        "action": rule.action,
        "extra_fields": rule.extra_fields,
        "notes": rule.notes,
    }
    form = RuleForm(request.POST or None, initial=initial, entry=entry)
    add_version_field(form, rule)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        # The version the page was drawn from: the service refuses if someone saved since.
        rule.drawn_version = values.pop("edit_version", None)
        try:
            services.update_rule(changed_by=request.user, rule=rule, **values)
        except StaleEdit as stale:
            for message in stale_messages(form, stale):
                form.add_error(None, message)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Retention rule for %s saved." % entry.model_name.lower())
            return redirect("retention_schedule")
    return render(
        request,
        "access/retention/rule_form.html",
        {"form": form, "rule": rule, "row": services.schedule_row(entry, rule)},
    )


# --- disposal reviews ------------------------------------------------------------------------


def _review_counts(reviews):
    return reviews.annotate(
        proposed=Count("candidates", filter=Q(candidates__status=Status.PROPOSED)),
        total=Count("candidates"),
    ).select_related("approved_by")


@roles_required(DPO)
def disposal_review_list(request):
    reviews = _review_counts(DisposalReview.objects.all())
    return render(
        request,
        "access/retention/review_list.html",
        {
            "open": reviews.filter(status=DisposalReview.Status.OPEN).first(),
            "past": reviews.exclude(status=DisposalReview.Status.OPEN)[:RECENT_SHOWN],
        },
    )


@roles_required(DPO)
def disposal_sweep_now(request):
    if request.method != "POST":
        return redirect("disposal_review_list")
    result = services.sweep(actor=request.user)
    messages.success(request, result.summary())
    if result.review is not None:
        return redirect("disposal_review_detail", pk=result.review.pk)
    return redirect("disposal_review_list")


def _groups(review: DisposalReview) -> list[dict]:
    """The review's rows by kind of record, each with its rule and counts."""
    groups: dict[str, dict] = {}
    counts = review.candidates.values("model_label", "status").annotate(n=Count("pk"))
    for row in counts:
        label = row["model_label"]
        group = groups.setdefault(label, _group(label))
        group["counts"][row["status"]] = row["n"]
        group["total"] += row["n"]
    for label, group in groups.items():
        group["rows"] = list(review.candidates.filter(model_label=label)[:ROWS_SHOWN])
        group["more"] = group["total"] - len(group["rows"])
        group["status_counts"] = [
            (Status(status).label, count) for status, count in group["counts"].items()
        ]
    return sorted(groups.values(), key=lambda group: group["record"])


def _group(label: str) -> dict:
    entry = retention.entry_for_label(label)
    rule = retention.rule_for(entry) if entry else None
    return {
        "label": label,
        "record": entry.model_name if entry else label,
        "rule": rule.period if rule else "",
        "counts": {},
        "total": 0,
    }


@roles_required(DPO)
@never_cache
def disposal_review_detail(request, pk):
    review = get_object_or_404(DisposalReview.objects.select_related("approved_by"), pk=pk)
    candidates = review.candidates.all()
    proposed = list(candidates.filter(status=Status.PROPOSED).values_list("pk", flat=True))
    excluded = list(candidates.filter(status=Status.EXCLUDED).values_list("pk", flat=True))
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and action not in {"exclude", "restore"}:
        # Only a tampered or stale page posts another action: say so rather than redraw silently.
        raise BadRequest("Unknown action")
    exclude_form = ExcludeForm(
        request.POST if action == "exclude" else None, choices=proposed, prefix="exclude"
    )
    restore_form = CandidatesForm(
        request.POST if action == "restore" else None, choices=excluded, prefix="restore"
    )
    if action == "exclude" and exclude_form.is_valid():
        try:
            count = services.exclude_candidates(
                decided_by=request.user,
                review=review,
                candidate_ids=exclude_form.cleaned_data["candidates"],
                reason=exclude_form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_error(exclude_form, error)
        else:
            messages.success(
                request, "%d row%s kept this time." % (count, "" if count == 1 else "s")
            )
            return redirect("disposal_review_detail", pk=review.pk)
    elif action == "restore" and restore_form.is_valid():
        try:
            count = services.restore_candidates(
                decided_by=request.user,
                review=review,
                candidate_ids=restore_form.cleaned_data["candidates"],
            )
        except ValidationError as error:
            add_service_error(restore_form, error)
        else:
            messages.success(
                request, "%d row%s put back for disposal." % (count, "" if count == 1 else "s")
            )
            return redirect("disposal_review_detail", pk=review.pk)
    certificate = DisposalCertificate.objects.filter(review=review).first()
    return render(
        request,
        "access/retention/review_detail.html",
        {
            "review": review,
            "groups": _groups(review),
            "proposed_count": len(proposed),
            "exclude_form": exclude_form,
            "restore_form": restore_form,
            "certificate": certificate,
        },
    )


@roles_required(DPO)
@never_cache
def disposal_review_approve(request, pk):
    review = get_object_or_404(DisposalReview, pk=pk)
    form = ApproveForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.approve_review(approved_by=request.user, review=review)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Disposal approved. The records are being disposed of; the certificate appears "
                "here when it is done.",
            )
            return redirect("disposal_review_detail", pk=review.pk)
    return render(
        request,
        "access/retention/review_approve.html",
        {"form": form, "review": review, "groups": _groups(review)},
    )


@roles_required(DPO)
def disposal_candidate_hold(request, pk):
    candidate = get_object_or_404(DisposalCandidate.objects.select_related("review"), pk=pk)
    entry = retention.entry_for_label(candidate.model_label)
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.place_hold(
                placed_by=request.user,
                model_label=candidate.model_label,
                object_id=candidate.object_id,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Legal hold placed.")
            return redirect("disposal_review_detail", pk=candidate.review_id)
    return render(
        request,
        "access/retention/hold_form.html",
        {
            "form": form,
            "candidate": candidate,
            "record": entry.model_name if entry else candidate.model_label,
        },
    )


# --- legal holds -----------------------------------------------------------------------------


def _record_names() -> dict[str, str]:
    return {entry.model._meta.label_lower: entry.model_name for entry in datamap.entries()}


@roles_required(DPO)
def legal_hold_list(request):
    form = NewHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.place_hold(placed_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Legal hold placed.")
            return redirect("legal_hold_list")
    holds = LegalHold.objects.select_related("placed_by", "lifted_by")
    names = _record_names()
    live = list(holds.filter(LegalHold.live_filter()))
    ended = list(holds.exclude(pk__in=[hold.pk for hold in live])[:RECENT_SHOWN])
    for hold in live + ended:
        hold.record_name = names.get(hold.model_label, hold.model_label)
    return render(
        request,
        "access/retention/hold_list.html",
        {"form": form, "live": live, "ended": ended},
    )


@roles_required(DPO)
def legal_hold_lift(request, pk):
    hold = get_object_or_404(LegalHold.objects.select_related("placed_by"), pk=pk)
    hold.record_name = _record_names().get(hold.model_label, hold.model_label)
    form = LiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lift_hold(
                lifted_by=request.user, hold=hold, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Legal hold lifted.")
            return redirect("legal_hold_list")
    return render(request, "access/retention/hold_lift.html", {"form": form, "hold": hold})


# --- certificates ----------------------------------------------------------------------------


@roles_required(*READERS)
def disposal_certificate_list(request):
    certificates = DisposalCertificate.objects.select_related("approved_by", "review")
    return render(
        request,
        "access/retention/certificate_list.html",
        {"certificates": certificates[:RECENT_SHOWN]},
    )


@roles_required(*READERS)
def disposal_certificate_detail(request, pk):
    certificate = get_object_or_404(
        DisposalCertificate.objects.select_related("approved_by", "review"), pk=pk
    )
    return render(request, "access/retention/certificate_detail.html", {"certificate": certificate})


@roles_required(*READERS)
def disposal_certificate_pdf(request, pk):
    certificate = get_object_or_404(
        DisposalCertificate.objects.select_related("approved_by", "review"), pk=pk
    )
    services.certificate_exported(exported_by=request.user, certificate=certificate)
    pdf = services.certificate_pdf(certificate, exported_by=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="disposal-certificate-%s.pdf"' % (
        certificate.number
    )
    return response


urlpatterns = [
    path("", retention_schedule, name="retention_schedule"),
    path("rules/<int:pk>/", retention_rule_edit, name="retention_rule_edit"),
    path("reviews/", disposal_review_list, name="disposal_review_list"),
    path("reviews/sweep/", disposal_sweep_now, name="disposal_sweep_now"),
    path("reviews/<int:pk>/", disposal_review_detail, name="disposal_review_detail"),
    path("reviews/<int:pk>/approve/", disposal_review_approve, name="disposal_review_approve"),
    path("rows/<int:pk>/hold/", disposal_candidate_hold, name="disposal_candidate_hold"),
    path("holds/", legal_hold_list, name="legal_hold_list"),
    path("holds/<int:pk>/lift/", legal_hold_lift, name="legal_hold_lift"),
    path("certificates/", disposal_certificate_list, name="disposal_certificate_list"),
    path("certificates/<int:pk>/", disposal_certificate_detail, name="disposal_certificate_detail"),
    path(
        "certificates/<int:pk>/certificate.pdf",
        disposal_certificate_pdf,
        name="disposal_certificate_pdf",
    ),
]
