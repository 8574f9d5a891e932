"""Access pages: committee access for a decision (ask, decide, revoke, and see who read what)."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.models import CommitteeAccessRequest, Meeting
from access.reauth import PasswordConfirmationMixin
from access.roles import STAFF_ROLES
from access.services import grants as services
from tmo.forms import GovukFormMixin

RECENT_LIMIT = 50


# --- forms -----------------------------------------------------------------------------------------


def _item_token(key: str, object_id) -> str:
    return "%s:%s" % (key, object_id)


def parse_items(value: str) -> list[tuple[str, str]]:
    """The hidden list of named records: "records.person:12 records.document:3"."""
    items = []
    for token in (value or "").split():
        key, _, object_id = token.partition(":")
        items.append((key, object_id))
    return list(dict.fromkeys(items))


class CommitteeAccessRequestForm(GovukFormMixin, forms.Form):
    decision = forms.CharField(
        label="Decision or agenda item",
        max_length=300,
        help_text="What the committee must decide, for example 'Item 4: request to transfer'.",
        error_messages={"required": "Enter the decision or agenda item"},
    )
    meeting = forms.ModelChoiceField(
        label="Meeting (optional)",
        queryset=Meeting.objects.none(),
        required=False,
        empty_label="No meeting",
        help_text="Access ends at the end of the meeting day unless you choose another date.",
    )
    reason = forms.CharField(
        label="Why the committee needs these records",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the committee cannot decide without these records"},
    )
    members = forms.ModelMultipleChoiceField(
        label="Committee members who need to see them",
        queryset=services.committee_members(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one committee member"},
    )
    ends_day = forms.CharField(required=False, label="Day")
    ends_month = forms.CharField(required=False, label="Month")
    ends_year = forms.CharField(required=False, label="Year")
    items = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["meeting"].queryset = Meeting.objects.filter(
            held_on__gte=timezone.localdate()
        ).order_by("held_on", "title")
        self.fields["members"].label_from_instance = lambda member: (
            member.get_full_name() or member.get_username()
        )
        for name in ("ends_day", "ends_month", "ends_year"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"

    def clean_items(self):
        items = []
        for key, object_id in parse_items(self.cleaned_data.get("items", "")):
            try:
                services.check_record_choice(self.user, key, object_id)
            except ValidationError as error:
                self.add_error(None, error)
            else:
                items.append((key, int(object_id)))
        return items

    def clean(self):
        cleaned = super().clean()
        cleaned["expires_at"] = self._expiry(cleaned)
        return cleaned

    def _expiry(self, cleaned):
        parts = [
            (cleaned.get(name) or "").strip() for name in ("ends_day", "ends_month", "ends_year")
        ]
        if not any(parts):
            return None
        if not all(parts):
            self.add_error("ends_day", "The date access ends must include a day, month and year")
            return None
        try:
            day = datetime.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.add_error("ends_day", "The date access ends must be a real date")
            return None
        if day < timezone.localdate():
            self.add_error("ends_day", "The date access ends must be today or in the future")
            return None
        return services.end_of_day(day)


class AddRecordForm(GovukFormMixin, forms.Form):
    """One record to add to the request, named by its kind and number."""

    add_kind = forms.ChoiceField(label="Kind of record", required=False)
    add_id = forms.CharField(
        label="Record number",
        required=False,
        max_length=20,
        help_text="The number at the end of the record's web address, for example 1234.",
    )

    def __init__(self, *args, user, required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.required = required
        self.fields["add_kind"].choices = [("", "Choose a kind of record")] + [
            (kind.key, kind.label) for kind in services.record_kinds()
        ]
        self.fields["add_id"].widget.attrs["inputmode"] = "numeric"

    def clean(self):
        cleaned = super().clean()
        key, object_id = cleaned.get("add_kind", ""), (cleaned.get("add_id") or "").strip()
        cleaned["item"] = None
        if not key and not object_id:
            if self.required:
                self.add_error("add_id", "Add at least one record the committee needs")
            return cleaned
        try:
            services.check_record_choice(self.user, key, object_id)
        except ValidationError as error:
            self.add_error("add_id", error)
        else:
            cleaned["item"] = (key, int(object_id))
        return cleaned


class DecisionForm(GovukFormMixin, PasswordConfirmationMixin):
    outcome = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to approve or refuse the request"},
    )
    reason = forms.CharField(
        label="Reason for your decision",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the reason for your decision"},
    )
    field_order = ["outcome", "reason", "password"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class RevokeForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why the access is being revoked",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the access is being revoked"},
    )


# --- pages -----------------------------------------------------------------------------------------


def _listed(queryset):
    return (
        queryset.select_related("meeting", "requested_by", "decided_by")
        .annotate(
            item_count=Count("items", distinct=True), member_count=Count("members", distinct=True)
        )
        .order_by("-requested_at")
    )


def _visible_request(user, pk) -> CommitteeAccessRequest:
    queryset = services.requests_for(user).select_related(
        "meeting", "requested_by", "decided_by", "revoked_by"
    )
    try:
        return queryset.get(pk=pk)
    except CommitteeAccessRequest.DoesNotExist as exc:
        raise Http404 from exc


@roles_required(*STAFF_ROLES)
def committee_access_list(request):
    user = request.user
    decider = services.is_decider(user)
    live = services.live_grants()
    context = {
        "decider": decider,
        "waiting": _listed(services.pending_requests().exclude(requested_by=user))
        if decider
        else None,
        "mine": _listed(CommitteeAccessRequest.objects.filter(requested_by=user))[:RECENT_LIMIT],
        "live": _listed(live if decider else live.filter(requested_by=user)),
    }
    return render(request, "access/grants/list.html", context)


@roles_required(*STAFF_ROLES)
def committee_access_new(request):
    user = request.user
    if request.method != "POST":
        return _request_form_start(request)
    items = parse_items(request.POST.get("items", ""))
    remove = request.POST.get("remove")
    if remove or request.POST.get("action") == "add":
        return _request_form_step(request, items, remove=remove)
    form = CommitteeAccessRequestForm(request.POST, user=user)
    add_form = AddRecordForm(request.POST, user=user, required=not items)
    if form.is_valid() and add_form.is_valid():
        data = form.cleaned_data
        added = [add_form.cleaned_data["item"]] if add_form.cleaned_data["item"] else []
        try:
            grant = services.committee_access_request(
                requested_by=user,
                decision=data["decision"],
                reason=data["reason"],
                members=data["members"],
                items=[*data["items"], *added],
                meeting=data["meeting"],
                expires_at=data["expires_at"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Your request has been sent. A senior officer or the data protection lead "
                "will decide it.",
            )
            return redirect("committee_access_detail", pk=grant.pk)
    return _render_request_form(request, form, add_form, items)


def _request_form_start(request):
    """An empty request; a link from a record's page names it: ?kind=records.person&id=12"""
    user = request.user
    items, add_initial = [], {}
    kind, object_id = request.GET.get("kind", ""), request.GET.get("id", "")[:20]
    if kind or object_id:
        try:
            services.check_record_choice(user, kind, object_id)
        except ValidationError:
            add_initial = {"add_kind": kind, "add_id": object_id}
        else:
            items = [(kind, object_id)]
    form = CommitteeAccessRequestForm(
        initial={"items": " ".join(_item_token(*item) for item in items)}, user=user
    )
    return _render_request_form(request, form, AddRecordForm(initial=add_initial, user=user), items)


def _request_form_step(request, items, *, remove=None):
    """Add or remove one named record and show the form again, saving nothing."""
    user = request.user
    data = request.POST.copy()
    add_form = AddRecordForm(request.POST, user=user)
    if remove:
        items = [item for item in items if _item_token(*item) != remove]
        add_form = AddRecordForm(initial=_values(data, AddRecordForm), user=user)
    elif add_form.is_valid() and add_form.cleaned_data["item"]:
        items = list(dict.fromkeys([*items, add_form.cleaned_data["item"]]))
        add_form = AddRecordForm(user=user)
    elif not add_form.errors:
        add_form.add_error("add_id", "Choose the kind of record and enter its number")
    data["items"] = " ".join(_item_token(*item) for item in items)
    initial = _values(data, CommitteeAccessRequestForm)
    initial["members"] = data.getlist("members")
    form = CommitteeAccessRequestForm(initial=initial, user=user)
    return _render_request_form(request, form, add_form, items)


def _values(data, form_class) -> dict:
    return {name: data.get(name, "") for name in form_class.base_fields}


def _render_request_form(request, form, add_form, items):
    """Label each named record for the requester, who may see every one of them."""
    labelled = []
    for key, object_id in items:
        kind = services.record_kind(key)
        row = None
        if kind is not None and str(object_id).isdigit():
            row = kind.model._default_manager.visible_to(request.user).filter(pk=object_id).first()
        if row is not None:
            labelled.append(
                {"token": _item_token(key, object_id), "kind": kind.label, "label": str(row)}
            )
    return render(
        request,
        "access/grants/request_form.html",
        {
            "form": form,
            "add_form": add_form,
            "errors": form.govuk_errors + add_form.govuk_errors,
            "items": labelled,
            "items_value": " ".join(item["token"] for item in labelled),
        },
    )


def _detail_context(user, grant: CommitteeAccessRequest) -> dict:
    items = list(grant.items.select_related("content_type"))
    visible = services.objects_by_item(items, user)
    labels = {}
    rows = []
    for item in items:
        obj = visible.get(item.pk)
        kind = services.kind_of_model(item.content_type.model_class())
        label = str(obj) if obj is not None else services.item_label(item)
        labels[(item.content_type_id, str(item.object_id))] = label
        rows.append(
            {
                "kind": kind.label if kind else item.content_type.name,
                "number": item.object_id,
                "label": label,
                "hidden": obj is None,
            }
        )
    reads = [
        {"entry": entry, "label": labels.get((entry.content_type_id, entry.object_pk), "")}
        for entry in services.reads_under(grant)
    ]
    return {
        "grant": grant,
        "items": rows,
        "members": grant.members.order_by("last_name", "first_name", "username"),
        "reads": reads,
        "is_live": grant.is_live(),
        "may_decide": grant.status == services.Status.PENDING
        and services.is_decider(user)
        and grant.requested_by_id != user.pk,
        "may_revoke": services.may_revoke(user, grant),
    }


@roles_required(*STAFF_ROLES)
def committee_access_detail(request, pk):
    grant = _visible_request(request.user, pk)
    return render(request, "access/grants/detail.html", _detail_context(request.user, grant))


@roles_required(*services.DECIDER_ROLES)
def committee_access_decide(request, pk):
    user = request.user
    grant = _visible_request(user, pk)
    form = DecisionForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        decide = (
            services.committee_access_approve
            if form.cleaned_data["outcome"] == "approve"
            else services.committee_access_refuse
        )
        try:
            grant = decide(decided_by=user, request=grant, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The request is now %s." % grant.get_status_display().lower())
            return redirect("committee_access_detail", pk=grant.pk)
    context = _detail_context(user, grant)
    context["form"] = form
    context["own_request"] = grant.requested_by_id == user.pk
    return render(request, "access/grants/decide.html", context)


@roles_required(*services.DECIDER_ROLES)
def committee_access_revoke(request, pk):
    user = request.user
    grant = _visible_request(user, pk)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.committee_access_revoke(
                revoked_by=user, request=grant, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The committee access has been revoked. It ended now.")
            return redirect("committee_access_detail", pk=grant.pk)
    context = _detail_context(user, grant)
    context["form"] = form
    return render(request, "access/grants/revoke.html", context)


urlpatterns = [
    path("", committee_access_list, name="committee_access_list"),
    path("new/", committee_access_new, name="committee_access_new"),
    path("<int:pk>/", committee_access_detail, name="committee_access_detail"),
    path("<int:pk>/decide/", committee_access_decide, name="committee_access_decide"),
    path("<int:pk>/revoke/", committee_access_revoke, name="committee_access_revoke"),
]
