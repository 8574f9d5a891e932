"""Rights requests for staff: the dashboard of open requests, logging one received by letter,
email, phone or in person, a request's page with its clock, the clock's actions, and the register
with its CSV export and the committee's anonymised figures.

Views parse, call sar.services.requests, and render; every request is fetched through
SubjectAccessRequest.objects.visible_to, so one outside the user's scope is a 404.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from records.forms.people import GovukDateField
from records.models import AuthorisedRepresentative, Person
from records.policies import unshown_encrypted
from records.views.common import paginate
from sar.models import InternalReview, SubjectAccessRequest
from sar.models.requests import HANDLER_ROLES
from sar.services import requests as services
from sar.services import rights
from tmo.audit import record_access
from tmo.forms import GovukFormMixin
from tmo.reports import SUPPRESSED

Kind = SubjectAccessRequest.Kind
Channel = SubjectAccessRequest.Channel
Status = SubjectAccessRequest.Status
REGISTER_ROLES = (Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD)
# The figures hold no personal data: counts only, small ones suppressed.
FIGURES_ROLES = (*REGISTER_ROLES, Role.COMMITTEE_MEMBER)
SEARCH_RESULTS = 20
YES_NO = [("yes", "Yes"), ("no", "No")]


# --- forms -------------------------------------------------------------------------------------


class PersonFindForm(GovukFormMixin, forms.Form):
    q = forms.CharField(
        label="Name, address, NI number, email or phone number", max_length=100, required=False
    )


class LogRequestForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What is the person asking for?",
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of request"},
    )
    channel = forms.ChoiceField(
        label="How was the request received?",
        choices=[c for c in Channel.choices if c[0] != Channel.ONLINE],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the request was received"},
    )
    requester_name = forms.CharField(
        label="Name of the person making the request",
        max_length=200,
        error_messages={"required": "Enter the name of the person making the request"},
    )
    requester_email = forms.EmailField(
        label="Their email address",
        required=False,
        max_length=254,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com"
        },
    )
    requester_address = forms.CharField(
        label="Their postal address",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Give an email address, a postal address or both, for the reply.",
    )
    representative = forms.ModelChoiceField(
        label="Is someone acting for the person?",
        queryset=AuthorisedRepresentative.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="Only representatives recorded on the person's record with current authority "
        "are listed. Leave this unselected if the person is asking for themselves.",
    )
    details = forms.CharField(
        label="What did they ask for?",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="In their words, as far as you can.",
        error_messages={"required": "Enter what the requester asked for"},
    )
    date_from = GovukDateField(label="Period asked about: from", required=False)
    date_to = GovukDateField(label="Period asked about: to", required=False)
    received_on = GovukDateField(label="Date received", past_only=False)
    identity_required = forms.ChoiceField(
        label="Do you need evidence of their identity?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text="Only ask where you are not already sure who they are. The clock starts when "
        "the evidence arrives.",
        error_messages={"required": "Say whether you need evidence of their identity"},
    )
    identity_received_on = GovukDateField(
        label="Date identity evidence arrived",
        required=False,
        help_text="Leave empty if it has not arrived yet.",
    )

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        if person is not None:
            self.fields["representative"].queryset = AuthorisedRepresentative.objects.filter(
                person=person, valid_from__lte=today
            ).exclude(expires_on__lt=today)
        else:
            del self.fields["representative"]


def authority_label(representative) -> str:
    label = "%s, %s: %s" % (
        representative.name,
        representative.get_relationship_display().lower(),
        representative.get_scope_display().lower(),
    )
    if representative.expires_on:
        label += " (until %s)" % representative.expires_on.strftime("%-d %B %Y")
    return label


class MatchForm(GovukFormMixin, forms.Form):
    """Which of the person's recorded authorities the requester acts under, if any."""

    representative = forms.ChoiceField(
        label="Is someone acting for them?", required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, representatives, acting: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.representatives = {str(rep.pk): rep for rep in representatives}
        field = self.fields["representative"]
        choices = [(key, authority_label(rep)) for key, rep in self.representatives.items()]
        if acting:
            field.label = "Whose recorded authority is the requester acting under?"
            field.help_text = (
                "The requester told us they act for someone else. Only authority recorded on "
                "the person's record and in force today is listed."
            )
        else:
            choices.append(("none", "No one is acting for them"))
            field.help_text = (
                "Only authority recorded on the person's record and in force today is listed."
            )
        field.choices = choices

    def chosen_representative(self):
        return self.representatives.get(self.cleaned_data.get("representative") or "")


class AskAuthorityForm(GovukFormMixin, forms.Form):
    """No fields: the button alone. The form carries the service's refusal to the page."""


class DateForm(GovukFormMixin, forms.Form):
    on = GovukDateField(label="Date")


class IdentityForm(DateForm):
    on = GovukDateField(label="Date the identity evidence arrived")


class StopForm(GovukFormMixin, forms.Form):
    on = GovukDateField(label="Date the clock stopped")
    reason = forms.CharField(
        label="What clarification are you waiting for?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the clarification you are waiting for"},
    )


class RestartForm(GovukFormMixin, forms.Form):
    on = GovukDateField(label="Date the clarification arrived")


class ExtendForm(GovukFormMixin, forms.Form):
    months = forms.TypedChoiceField(
        label="Extend by",
        choices=[(1, "One month"), (2, "Two months")],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an extension of one or two months"},
    )
    reason = forms.CharField(
        label="Why is the request complex or numerous?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the request is complex or numerous"},
    )
    told_on = GovukDateField(label="Date the requester was told of the extension and why")


class AssignForm(GovukFormMixin, forms.Form):
    handler = forms.ModelChoiceField(
        label="Handler",
        queryset=services.handler_choices(),
        empty_label="Choose a member of staff",
        error_messages={"required": "Choose a member of staff to handle the request"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = services.handler_choices()
        self.fields["handler"].label_from_instance = lambda u: u.get_full_name() or u.username


class CompleteForm(GovukFormMixin, forms.Form):
    result = forms.ChoiceField(
        label="Outcome",
        choices=[("completed", "Done as asked (in full or in part)"), ("refused", "Refused")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome"},
    )
    outcome = forms.CharField(
        label="What was done, and the reasons for any refusal",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Carry any changes into the records first: this starts from what was done.",
        error_messages={"required": "Enter what was done and the reasons for any refusal"},
    )


class ReviewDecideForm(GovukFormMixin, forms.Form):
    review_outcome = forms.ChoiceField(
        label="Outcome of the review",
        choices=InternalReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome of the review"},
    )
    outcome_details = forms.CharField(
        label="Reply to the requester",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The requester reads this in the portal, followed by their right to complain "
        "to the Information Commissioner's Office.",
        error_messages={"required": "Enter the reply to the requester"},
    )


class RegisterFilterForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *Kind.choices]
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *services.STATUS_FILTER_CHOICES],
    )
    date_from = GovukDateField(label="Received from", required=False)
    date_to = GovukDateField(label="Received up to", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error(
                "date_to", "The ‘received up to’ date must be the same as or after the ‘from’ date"
            )
        return cleaned

    def filters(self) -> services.RegisterFilters:
        if not self.is_bound or not self.is_valid():
            return services.RegisterFilters()
        return services.RegisterFilters(
            **{name: value for name, value in self.cleaned_data.items() if value}
        )


# --- the dashboard and logging -----------------------------------------------------------------


@roles_required(*STAFF_ROLES)
def sar_request_list(request):
    # The dashboard shows references, kinds and dates: the encrypted details stay unread.
    open_requests = services.open_requests(request.user)
    rows = services.dashboard_rows(open_requests.defer(*unshown_encrypted(SubjectAccessRequest)))
    return render(
        request,
        "sar/request_list.html",
        {
            "rows": rows,
            "overdue": sum(row.overdue for row in rows),
            "is_handler": bool(roles_of(request.user) & HANDLER_ROLES),
        },
    )


@roles_required(*STAFF_ROLES)
def sar_request_log(request):
    user = request.user
    people = Person.objects.visible_to(user)
    chosen = request.POST.get("person") or request.GET.get("person", "")
    person = None
    if chosen and chosen != "none":
        person = people.filter(pk=chosen).first() if chosen.isdigit() else None
        if person is None:
            # Outside the user's scope or not there: the same answer, start again.
            return redirect("sar_request_log")
    if not chosen:
        find_form = PersonFindForm(request.GET or None)
        results = None
        if find_form.is_bound and find_form.is_valid() and find_form.cleaned_data["q"]:
            term = " ".join(find_form.cleaned_data["q"].split())
            results = list(people.search(term).prefetch_related("markers")[:SEARCH_RESULTS])
        return render(
            request, "sar/request_find_person.html", {"find_form": find_form, "results": results}
        )

    if request.method == "POST":
        form = LogRequestForm(request.POST, person=person)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rights_request = services.rights_request_create(
                    logged_by=user,
                    kind=data["kind"],
                    channel=data["channel"],
                    person=person,
                    requester_name=data["requester_name"],
                    requester_email=data["requester_email"],
                    requester_address=data["requester_address"],
                    details=data["details"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    received_on=data["received_on"],
                    identity_required=data["identity_required"] == "yes",
                    identity_received_on=data["identity_received_on"],
                    representative=data.get("representative"),
                    handler=None if roles_of(user) & HANDLER_ROLES else user,
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, "Request %s is logged." % rights_request.reference)
                return redirect("sar_request_detail", pk=rights_request.pk)
    else:
        form = LogRequestForm(
            initial={"received_on": timezone.localdate(), "identity_required": "no"},
            person=person,
        )
    return render(
        request,
        "sar/request_log.html",
        {
            "form": form,
            "person": person,
            "person_value": person.pk if person else "none",
            "markers": person.active_markers() if person else [],
        },
    )


# --- one request -------------------------------------------------------------------------------


def _request_or_404(user, pk) -> SubjectAccessRequest:
    return get_visible_or_404(
        SubjectAccessRequest.objects.select_related(
            "person", "handler", "logged_by", "representative", "portal"
        ).prefetch_related("person__markers"),
        user,
        pk=pk,
    )


def _render_detail(request, rights_request, *, forms_given=None, status=200):
    user = request.user
    record_access(user=user, obj=rights_request)
    today = timezone.localdate()
    stops = list(rights_request.clock_stops.select_related("stopped_by"))
    open_stop = next((stop for stop in stops if stop.restarted_on is None), None)
    is_open = rights_request.is_open()
    running = rights_request.status in services.RUNNING_STATUSES
    first_month = services.first_month_due_date(rights_request)
    reviews = list(rights_request.internal_reviews.select_related("reviewer"))
    open_review = next((review for review in reviews if not review.is_decided()), None)
    may = {
        "identity": is_open and rights_request.status == Status.AWAITING_IDENTITY,
        "stop": is_open and running,
        "restart": is_open and open_stop is not None,
        "extend": is_open
        and first_month is not None
        and today <= first_month
        and rights_request.extension_months < 2,
        "assign": is_open and bool(roles_of(user) & HANDLER_ROLES),
        "complete": is_open and rights_request.kind != Kind.ACCESS,
        "review": open_review is not None and services.may_decide_review(user, rights_request),
    }
    rights_actions = list(rights_request.rights_actions.select_related("done_by"))
    handler_roles = bool(roles_of(user) & HANDLER_ROLES)
    person = rights_request.person
    restriction = rights.active_restriction(person) if person else None
    carry_out = {
        "rectify": rights.may_carry_out(user, rights_request, rights.RECTIFY_KINDS),
        "erase": handler_roles and rights.may_carry_out(user, rights_request, rights.ERASE_KINDS),
        "restrict": restriction is None
        and rights.may_carry_out(user, rights_request, rights.RESTRICT_KINDS),
        "lift": restriction is not None and handler_roles,
    }
    portal = services.portal_of(rights_request)
    authority_missing = is_open and services.authority_missing(rights_request)
    blank = {
        "identity": IdentityForm(initial={"on": today}),
        "stop": StopForm(initial={"on": today}),
        "restart": RestartForm(initial={"on": today}),
        "extend": ExtendForm(initial={"told_on": today}),
        "assign": AssignForm(initial={"handler": rights_request.handler_id}),
        "complete": CompleteForm(initial={"outcome": rights.outcome_summary(rights_request)}),
        "review": ReviewDecideForm(),
    }
    action_forms = {
        name: (forms_given or {}).get(name) or blank[name]
        for name, allowed in may.items()
        if allowed
    }
    days_left = None
    if rights_request.due_date is not None:
        days_left = services.clock.working_days_between(today, rights_request.due_date)
    return render(
        request,
        "sar/request_detail.html",
        {
            "rights_request": rights_request,
            "person": person,
            "markers": person.active_markers() if person else [],
            "changes": list(rights_request.due_date_changes.select_related("changed_by")),
            "stops": stops,
            "open_stop": open_stop,
            "first_month": first_month,
            "days_left": days_left,
            "overdue": running and days_left is not None and days_left < 0,
            "forms": action_forms,
            "reviews": reviews,
            "open_review": open_review,
            "reviewer_barred": open_review is not None
            and not services.may_decide_review(user, rights_request),
            "error_form": next(iter((forms_given or {}).values()), None),
            "portal": portal,
            "may_match": is_open,
            "carry_out": {name: True for name, allowed in carry_out.items() if allowed},
            "rights_actions": rights_actions,
            "authority_missing": authority_missing,
            "may_ask_authority": authority_missing
            and portal.account_id is not None
            and bool(roles_of(user) & HANDLER_ROLES),
        },
        status=status,
    )


@roles_required(*STAFF_ROLES)
def sar_request_detail(request, pk):
    return _render_detail(request, _request_or_404(request.user, pk))


def _action(request, pk, *, name, form_class, call, done):
    """A POST-only clock action: validate, call the service, or show the page with the errors."""
    rights_request = _request_or_404(request.user, pk)
    if request.method != "POST":
        return redirect("sar_request_detail", pk=rights_request.pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(rights_request, form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, done)
            return redirect("sar_request_detail", pk=rights_request.pk)
    return _render_detail(request, rights_request, forms_given={name: form}, status=400)


@roles_required(*STAFF_ROLES)
def sar_request_identity(request, pk):
    return _action(
        request,
        pk,
        name="identity",
        form_class=IdentityForm,
        call=lambda r, data: services.identity_received(
            request=r, recorded_by=request.user, on=data["on"]
        ),
        done="Identity evidence recorded. The clock runs from the day it arrived.",
    )


@roles_required(*STAFF_ROLES)
def sar_request_stop(request, pk):
    return _action(
        request,
        pk,
        name="stop",
        form_class=StopForm,
        call=lambda r, data: services.clock_stop(
            request=r, stopped_by=request.user, on=data["on"], reason=data["reason"]
        ),
        done="The clock is stopped until the clarification arrives.",
    )


@roles_required(*STAFF_ROLES)
def sar_request_restart(request, pk):
    return _action(
        request,
        pk,
        name="restart",
        form_class=RestartForm,
        call=lambda r, data: services.clock_restart(
            request=r, restarted_by=request.user, on=data["on"]
        ),
        done="The clock is running again. The days it stood stopped are added to the due date.",
    )


@roles_required(*STAFF_ROLES)
def sar_request_extend(request, pk):
    return _action(
        request,
        pk,
        name="extend",
        form_class=ExtendForm,
        call=lambda r, data: services.extend(
            request=r,
            extended_by=request.user,
            months=data["months"],
            reason=data["reason"],
            told_on=data["told_on"],
        ),
        done="The extension is recorded and the due date moved.",
    )


@roles_required(*HANDLER_ROLES)
def sar_request_assign(request, pk):
    return _action(
        request,
        pk,
        name="assign",
        form_class=AssignForm,
        call=lambda r, data: services.assign_handler(
            request=r, assigned_by=request.user, handler=data["handler"]
        ),
        done="The handler is recorded.",
    )


@roles_required(*STAFF_ROLES)
def sar_request_complete(request, pk):
    return _action(
        request,
        pk,
        name="complete",
        form_class=CompleteForm,
        call=lambda r, data: services.complete(
            request=r,
            completed_by=request.user,
            outcome=data["outcome"],
            refused=data["result"] == "refused",
        ),
        done="The request is closed and the outcome recorded.",
    )


@roles_required(*HANDLER_ROLES)
def sar_request_review(request, pk):
    return _action(
        request,
        pk,
        name="review",
        form_class=ReviewDecideForm,
        call=lambda r, data: services.internal_review_decide(
            review=services.open_review_of(r) or _no_open_review(),
            decided_by=request.user,
            outcome=data["review_outcome"],
            details=data["outcome_details"],
        ),
        done="The review is decided. The requester has been told a reply is waiting.",
    )


@roles_required(*HANDLER_ROLES)
def sar_request_ask_authority(request, pk):
    # Handlers only: the question goes out as a portal message, which only they send.
    return _action(
        request,
        pk,
        name="ask_authority",
        form_class=AskAuthorityForm,
        call=lambda r, data: services.authority_ask(request=r, asked_by=request.user),
        done="The requester has been asked, through the portal, for evidence of their authority.",
    )


def _no_open_review():
    raise ValidationError("There is no review waiting for a decision.")


# --- matching a request to the register -------------------------------------------------------


@roles_required(*STAFF_ROLES)
def sar_request_match(request, pk):
    """Find the person the request is about, then choose the authority the requester acts under."""
    user = request.user
    rights_request = _request_or_404(user, pk)
    if not rights_request.is_open():
        messages.info(request, "This request is closed: it can no longer be matched.")
        return redirect("sar_request_detail", pk=rights_request.pk)
    record_access(user=user, obj=rights_request)
    people = Person.objects.visible_to(user)
    chosen = request.POST.get("person") or request.GET.get("person", "")
    context = {
        "rights_request": rights_request,
        "portal": services.portal_of(rights_request),
        "current": rights_request.person,
    }
    if not chosen:
        find_form = PersonFindForm(request.GET or None)
        results = None
        if find_form.is_bound and find_form.is_valid() and find_form.cleaned_data["q"]:
            term = " ".join(find_form.cleaned_data["q"].split())
            results = list(people.search(term).prefetch_related("markers")[:SEARCH_RESULTS])
        return render(
            request,
            "sar/request_match.html",
            {**context, "find_form": find_form, "results": results},
        )
    person = (
        people.prefetch_related("markers").filter(pk=chosen).first() if chosen.isdigit() else None
    )
    if person is None:
        # Outside the user's scope or not there: the same answer, start again.
        return redirect("sar_request_match", pk=rights_request.pk)
    today = timezone.localdate()
    representatives = [
        rep
        for rep in AuthorisedRepresentative.objects.visible_to(user).filter(person=person)
        if rep.is_current_on(today)
    ]
    form_kwargs = {
        "representatives": representatives,
        "acting": services.acting_for_someone(rights_request),
    }
    if request.method == "POST":
        form = MatchForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.request_match(
                    request=rights_request,
                    matched_by=user,
                    person=person,
                    representative=form.chosen_representative(),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    "Request %s is matched to %s." % (rights_request.reference, person.full_name),
                )
                return redirect("sar_request_detail", pk=rights_request.pk)
        status = 400
    else:
        keep = rights_request.representative_id if rights_request.person_id == person.pk else None
        initial = {"representative": str(keep) if keep else ""}
        if not form_kwargs["acting"] and not keep and rights_request.person_id == person.pk:
            initial["representative"] = "none"
        form = MatchForm(initial=initial, **form_kwargs)
        status = 200
    return render(
        request,
        "sar/request_match.html",
        {**context, "person": person, "markers": person.active_markers(), "form": form},
        status=status,
    )


# --- the register ------------------------------------------------------------------------------


def _filtered(request):
    form = RegisterFilterForm(request.GET or None)
    filters = form.filters()
    return form, filters, services.register_requests(request.user, filters)


def _export_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_register(request, form, filters, requests):
    page = paginate(request, requests, label="Register pages")
    today = timezone.localdate()
    return render(
        request,
        "sar/register_list.html",
        {
            "form": form,
            "page": page,
            "rows": [services.register_row(r, today) for r in page.object_list],
            "filtering": filters.is_set(),
            "export_query": _export_query(request),
        },
    )


@roles_required(*REGISTER_ROLES)
def sar_register(request):
    return _render_register(request, *_filtered(request))


@roles_required(*REGISTER_ROLES)
def sar_register_csv(request):
    form, filters, requests = _filtered(request)
    if form.errors:
        # Nothing leaves the system on filters the officer did not mean: show the errors.
        return _render_register(request, form, filters, requests)
    today = timezone.localdate()
    rows = [services.register_row(r, today) for r in requests]
    services.register_export_record(exported_by=request.user, filters=filters, rows=rows)
    # The byte-order mark lets spreadsheet programs read names with accents correctly.
    response = HttpResponse(
        "\ufeff" + services.register_csv(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        'attachment; filename="rights-request-register-%s.csv"' % today.isoformat()
    )
    return response


@roles_required(*REGISTER_ROLES)
def sar_register_pdf(request):
    form, filters, requests = _filtered(request)
    if form.errors:
        return _render_register(request, form, filters, requests)
    today = timezone.localdate()
    rows = [services.register_row(r, today) for r in requests]
    services.register_pdf_export_record(exported_by=request.user, filters=filters, rows=rows)
    pdf = services.register_pdf(rows, filters=filters, exported_by=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        'attachment; filename="rights-request-register-%s.pdf"' % today.isoformat()
    )
    return response


@roles_required(*FIGURES_ROLES)
def sar_figures(request):
    return render(
        request,
        "sar/register_figures.html",
        {"figures": services.monthly_figures(), "suppressed": SUPPRESSED},
    )


urlpatterns = [
    path("", sar_request_list, name="sar_request_list"),
    path("new/", sar_request_log, name="sar_request_log"),
    path("<int:pk>/", sar_request_detail, name="sar_request_detail"),
    path("<int:pk>/identity/", sar_request_identity, name="sar_request_identity"),
    path("<int:pk>/stop/", sar_request_stop, name="sar_request_stop"),
    path("<int:pk>/restart/", sar_request_restart, name="sar_request_restart"),
    path("<int:pk>/extend/", sar_request_extend, name="sar_request_extend"),
    path("<int:pk>/assign/", sar_request_assign, name="sar_request_assign"),
    path("<int:pk>/complete/", sar_request_complete, name="sar_request_complete"),
    path("<int:pk>/match/", sar_request_match, name="sar_request_match"),
    path("<int:pk>/ask-authority/", sar_request_ask_authority, name="sar_request_ask_authority"),
    path("register/", sar_register, name="sar_register"),
    path("register/export.csv", sar_register_csv, name="sar_register_csv"),
    path("<int:pk>/review/", sar_request_review, name="sar_request_review"),
    path("register/export.pdf", sar_register_pdf, name="sar_register_pdf"),
    path("register/figures/", sar_figures, name="sar_figures"),
]
