"""Rights-request pages: collect the data for an access request, review every item and proposed
redaction, sign off (another officer, password again), watch the build, and download the bundle.

Views parse, call sar.services.bundles, and render. Bundles and their items are fetched through
their policies, which follow the rights request's: outside the user's scope is a 404.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.reauth import PasswordConfirmationMixin
from access.roles import STAFF_ROLES, roles_of
from records.services import record_open
from sar import redaction
from sar.models import Bundle, SarItem, SarRedaction, SubjectAccessRequest
from sar.models.requests import HANDLER_ROLES
from sar.services import bundles as services
from tmo.forms import GovukFormMixin, add_service_error

STAFF = tuple(sorted(STAFF_ROLES))
SIGNERS = tuple(sorted(HANDLER_ROLES))
Status = Bundle.Status
Exemption = SarItem.Exemption
PROGRESS_REFRESH_SECONDS = 3


# --- forms ----------------------------------------------------------------------------------------


class ItemDecisionForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Include or withhold this item",
        choices=[
            (SarItem.Decision.INCLUDED, "Include it (with any redactions)"),
            (SarItem.Decision.WITHHELD, "Withhold it"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to include or withhold the item"},
    )
    exemption = forms.ChoiceField(
        label="Exemption relied on (if withheld)",
        choices=[("", "Choose an exemption")] + list(Exemption.choices),
        required=False,
    )
    reason = forms.CharField(
        label="Factors considered, or which other exemption applies and why",
        help_text="For third-party information: consent sought or not, duty of confidence, what "
        "the requester already knows, and why disclosure is or is not reasonable.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class RedactForm(GovukFormMixin, forms.Form):
    field_name = forms.ChoiceField(label="Part of the record")
    text = forms.CharField(
        label="Words to redact",
        max_length=500,
        error_messages={"required": "Enter the words to redact"},
    )

    def __init__(self, *args, item_fields, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = [(f["name"], f["label"]) for f in item_fields]


class IncludePendingForm(GovukFormMixin, forms.Form):
    read = forms.BooleanField(
        label="I have read every item not yet decided, and none needs withholding or redacting",
        error_messages={"required": "Confirm that you have read every item not yet decided"},
    )


class SignOffForm(GovukFormMixin, PasswordConfirmationMixin):
    confirm = forms.BooleanField(
        label="I have checked the review and the bundle may be released to the requester",
        error_messages={"required": "Confirm that the bundle may be released"},
    )
    field_order = ["confirm", "password"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


# --- helpers --------------------------------------------------------------------------------------


def _bundle_or_404(user, pk) -> Bundle:
    return get_visible_or_404(
        Bundle.objects.select_related(
            "request", "request__person", "reviewed_by", "signed_off_by", "released_by"
        ),
        user,
        pk=pk,
    )


def _item_rows(bundle: Bundle, *, bound: dict | None = None) -> list[dict]:
    """Every item with its fields as they would leave (redactions marked), the proposals on it,
    and its decision form."""
    bound = bound or {}
    rows = []
    items = bundle.items.prefetch_related("redactions").select_related("decided_by")
    for item in items:
        data = json.loads(item.data)
        redactions = list(item.redactions.all())
        accepted: dict[str, list] = {}
        for red in redactions:
            if red.status == SarRedaction.Status.ACCEPTED:
                accepted.setdefault(red.field_name, []).append((red.start, red.end))
        fields = [
            {
                "name": f["name"],
                "label": f["label"],
                "value": f["value"],
                "shown": redaction.apply(f["value"], accepted.get(f["name"], [])),
            }
            for f in data["fields"]
        ]
        labels = {f["name"]: f["label"] for f in fields}
        for red in redactions:
            red.field_label = labels.get(red.field_name, red.field_name)
        forms_for_item = bound.get(item.pk, {})
        rows.append(
            {
                "item": item,
                "fields": fields,
                "files": data["files"],
                "redactions": redactions,
                "form": forms_for_item.get("decide")
                or ItemDecisionForm(
                    prefix="item-%d" % item.pk,
                    initial={
                        "decision": item.decision if item.decision != "pending" else None,
                        "exemption": item.exemption,
                        "reason": item.exemption_reason,
                    },
                ),
                "redact_form": forms_for_item.get("redact")
                or RedactForm(prefix="redact-%d" % item.pk, item_fields=fields),
            }
        )
    return rows


def _render_review(request, bundle, *, bound=None, include_form=None, status=200):
    record_open(user=request.user, obj=bundle)
    rows = _item_rows(bundle, bound=bound)
    errors = [form for forms_for_item in (bound or {}).values() for form in forms_for_item.values()]
    if include_form is not None:
        errors.append(include_form)
    person = bundle.request.person
    return render(
        request,
        "sar/bundle_review.html",
        {
            "bundle": bundle,
            "sar": bundle.request,
            "person": person,
            "markers": person.active_markers() if person else [],
            "rows": rows,
            "error_forms": [form for form in errors if form.errors],
            "include_form": include_form or IncludePendingForm(),
            "reviewing": bundle.status == Status.REVIEWING,
            "pending": sum(1 for row in rows if row["item"].decision == "pending"),
            "proposed": sum(
                1
                for row in rows
                for red in row["redactions"]
                if red.status == SarRedaction.Status.PROPOSED
            ),
        },
        status=status,
    )


# --- pages ----------------------------------------------------------------------------------------


@roles_required(*STAFF)
def bundle_start(request, pk):
    sar = get_visible_or_404(SubjectAccessRequest, request.user, pk=pk)
    error = None
    if request.method == "POST":
        try:
            bundle = services.bundle_collect(request=sar, collected_by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Every record about the requester has been collected.")
            return redirect("sar_bundle_review", pk=bundle.pk)
    return render(
        request,
        "sar/bundle_start.html",
        {"sar": sar, "error": error, "bundles": list(sar.bundles.all())},
        status=400 if error else 200,
    )


@roles_required(*STAFF)
def bundle_review(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    return _render_review(request, bundle)


@roles_required(*STAFF)
def item_decide(request, pk):
    item = get_visible_or_404(SarItem.objects.select_related("bundle"), request.user, pk=pk)
    if request.method != "POST":
        return redirect("sar_bundle_review", pk=item.bundle_id)
    form = ItemDecisionForm(request.POST, prefix="item-%d" % item.pk)
    if form.is_valid():
        try:
            services.item_decide(
                item=item,
                decided_by=request.user,
                decision=form.cleaned_data["decision"],
                exemption=form.cleaned_data["exemption"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect(reverse("sar_bundle_review", args=[item.bundle_id]) + "#item-%d" % pk)
    bundle = _bundle_or_404(request.user, item.bundle_id)
    return _render_review(request, bundle, bound={item.pk: {"decide": form}}, status=400)


@roles_required(*STAFF)
def redaction_decide(request, pk):
    red = get_visible_or_404(SarRedaction.objects.select_related("item"), request.user, pk=pk)
    bundle_id = red.item.bundle_id
    if request.method == "POST":
        try:
            services.redaction_decide(
                redaction=red,
                decided_by=request.user,
                accept=request.POST.get("accept") == "yes",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(reverse("sar_bundle_review", args=[bundle_id]) + "#item-%d" % red.item_id)


@roles_required(*STAFF)
def item_redact(request, pk):
    item = get_visible_or_404(SarItem.objects.select_related("bundle"), request.user, pk=pk)
    if request.method != "POST":
        return redirect("sar_bundle_review", pk=item.bundle_id)
    fields = json.loads(item.data)["fields"]
    form = RedactForm(request.POST, prefix="redact-%d" % item.pk, item_fields=fields)
    if form.is_valid():
        try:
            services.redaction_add(
                item=item,
                added_by=request.user,
                field_name=form.cleaned_data["field_name"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            form.add_service_error(exc, "text")
        else:
            return redirect(reverse("sar_bundle_review", args=[item.bundle_id]) + "#item-%d" % pk)
    bundle = _bundle_or_404(request.user, item.bundle_id)
    return _render_review(request, bundle, bound={item.pk: {"redact": form}}, status=400)


@roles_required(*STAFF)
def include_pending(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    if request.method != "POST":
        return redirect("sar_bundle_review", pk=bundle.pk)
    form = IncludePendingForm(request.POST)
    if form.is_valid():
        try:
            count = services.items_include_pending(bundle=bundle, decided_by=request.user)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "%d items have been included." % count)
            return redirect("sar_bundle_review", pk=bundle.pk)
    return _render_review(request, bundle, include_form=form, status=400)


@roles_required(*STAFF)
def review_complete(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    if request.method == "POST":
        try:
            services.review_complete(bundle=bundle, reviewed_by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "The bundle has been sent for sign-off.")
    return redirect("sar_bundle_review", pk=bundle.pk)


@roles_required(*SIGNERS)
def sign_off(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    form = SignOffForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.bundle_sign_off(bundle=bundle, signed_off_by=request.user)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Signed off: the bundle is being built.")
            return redirect("sar_bundle_progress", pk=bundle.pk)
    record_open(user=request.user, obj=bundle)
    withheld = bundle.items.filter(decision=SarItem.Decision.WITHHELD)
    return render(
        request,
        "sar/bundle_sign_off.html",
        {
            "bundle": bundle,
            "sar": bundle.request,
            "form": form,
            "items": bundle.items.count(),
            "withheld": list(withheld),
            "redactions": SarRedaction.objects.filter(
                item__bundle=bundle, status=SarRedaction.Status.ACCEPTED
            ).count(),
            "may_sign": bundle.status == Status.AWAITING_SIGN_OFF
            and request.user.pk not in services.reviewers_of(bundle),
        },
        status=400 if form.errors else 200,
    )


@roles_required(*STAFF)
def progress(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    building = bundle.status in {Status.QUEUED, Status.BUILDING}
    response = render(
        request,
        "sar/bundle_progress.html",
        {
            "bundle": bundle,
            "sar": bundle.request,
            "building": building,
            "may_retry": bool(roles_of(request.user) & HANDLER_ROLES),
            "downloads": list(bundle.downloads.select_related("downloaded_by")[:20]),
        },
    )
    if building:
        # The page asks again by itself while the build runs: no script needed.
        response["Refresh"] = str(PROGRESS_REFRESH_SECONDS)
    return response


@roles_required(*SIGNERS)
def retry(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    if request.method == "POST":
        try:
            services.bundle_retry(bundle=bundle, retried_by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("sar_bundle_progress", pk=bundle.pk)


@roles_required(*SIGNERS)
def download(request, pk):
    bundle = _bundle_or_404(request.user, pk)
    try:
        data = services.bundle_open(
            bundle=bundle, downloaded_by=request.user, remote_addr=request.META.get("REMOTE_ADDR")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sar_bundle_progress", pk=bundle.pk)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, "%s.zip" % bundle.request.reference
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("request/<int:pk>/collect/", bundle_start, name="sar_bundle_start"),
    path("<int:pk>/", bundle_review, name="sar_bundle_review"),
    path("items/<int:pk>/decide/", item_decide, name="sar_bundle_item_decide"),
    path("items/<int:pk>/redact/", item_redact, name="sar_bundle_item_redact"),
    path("redactions/<int:pk>/", redaction_decide, name="sar_bundle_redaction_decide"),
    path("<int:pk>/include-pending/", include_pending, name="sar_bundle_include_pending"),
    path("<int:pk>/review-complete/", review_complete, name="sar_bundle_review_complete"),
    path("<int:pk>/sign-off/", sign_off, name="sar_bundle_sign_off"),
    path("<int:pk>/progress/", progress, name="sar_bundle_progress"),
    path("<int:pk>/retry/", retry, name="sar_bundle_retry"),
    path("<int:pk>/download/", download, name="sar_bundle_download"),
]
