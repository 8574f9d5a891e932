"""Breach pages: the report form for everyone signed in, and the breach log for the DPO (senior
officers may read it). Every step of the record is its own small form, through one service each.

Only the DPO and senior officers reach a breach; for anyone else every breach URL is a 403 before
anything is looked up, so no page says whether a breach exists.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from access.decorators import roles_required
from access.models import Breach, BreachOutcome, BreachSubject, EmergencyAccess
from access.models.breaches import BREACH_VIEWER_ROLES
from access.policy import get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from access.services import breaches as services
from access.services import unusual_access
from tmo.audit import record_access
from tmo.concurrency import StaleEdit, add_version_field, stale_messages
from tmo.forms import GovukFormMixin, run_service

REPORTER_ROLES = (*STAFF_ROLES, Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR)
VIEWER_ROLES = tuple(BREACH_VIEWER_ROLES)
DPO = Role.DATA_PROTECTION_LEAD
FINISHED_SHOWN = 50
TEXT_MAX = 10000
DATETIME_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d %m %Y %H:%M",
    "%d-%m-%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
]
LOGGED_BY_HAND = {"online", "email", "phone", "in_person", "letter"}
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


# --- forms ------------------------------------------------------------------------------------


class GovukForm(GovukFormMixin, forms.Form):
    pass


def _text(label, *, required=True, rows=4, help_text="", message=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": message or "Enter %s" % str(label).lower().rstrip("?")},
    )


def _moment(label, *, required=False, help_text="For example, 27/3/2026 14:30"):
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        help_text=help_text,
        error_messages={
            "required": "Enter %s" % str(label).lower().rstrip("?"),
            "invalid": "%s must be a real date and time, like 27/3/2026 14:30" % label,
        },
        widget=forms.TextInput(attrs={"class": "govuk-input--width-20"}),
    )


def _local(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


class ReportForm(GovukForm):
    summary = _text(
        "What happened?",
        rows=6,
        help_text="For example: an email with a tenant's details went to the wrong person; a "
        "paper file was left on a bus; someone opened records they had no reason to.",
        message="Enter what happened",
    )
    became_aware_at = _moment(
        "When did you find out? (optional)",
        help_text="Leave it empty if you found out just now. For example, 27/3/2026 14:30",
    )
    occurred_at = _moment("When did it happen, if you know? (optional)")
    data_description = _text(
        "What information was involved, and whose? (optional)",
        required=False,
        help_text="As far as you know. Say what kind of information; you need not copy it here.",
    )
    source_details = _text(
        "Did someone else tell you? Who? (optional)",
        required=False,
        rows=2,
        help_text="For example a resident, a contractor or another organisation.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if DPO in roles_of(user):
            # The DPO also logs reports that came by phone, email or letter.
            self.fields["how_reported"] = forms.ChoiceField(
                label="How did the report reach you?",
                choices=[
                    choice for choice in Breach.HowReported.choices if choice[0] in LOGGED_BY_HAND
                ],
                initial=Breach.HowReported.ONLINE,
                widget=forms.RadioSelect,
            )
            self.style_field(self.fields["how_reported"])
            self.order_fields(["how_reported"])


class TriageForm(GovukForm):
    decision = forms.ChoiceField(
        label="What is it?",
        choices=services.Triage.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether it may be a breach"},
    )
    notes = _text(
        "Notes",
        required=False,
        help_text="Required if it is not a breach: say why, so the decision can be checked.",
    )


class DetailsForm(GovukForm):
    summary = _text("What happened?", rows=6, message="Enter what happened")
    occurred_at = _moment("When it happened (optional)")
    became_aware_at = _moment(
        "When the organisation became aware",
        required=True,
        help_text="When any of its staff knew. The 72 hours for telling the ICO run from here.",
    )
    data_description = _text("The data involved", required=False)
    data_categories = forms.MultipleChoiceField(
        label="Kinds of data involved, from the personal-data map",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approx_people = forms.IntegerField(
        label="About how many people are affected? (optional)", min_value=0, required=False
    )
    approx_records = forms.IntegerField(
        label="About how many records are involved? (optional)", min_value=0, required=False
    )
    source_details = _text("Who told us, if not the reporter (optional)", required=False, rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_categories"].choices = services.data_category_choices()


class RiskForm(GovukForm):
    likelihood = forms.ChoiceField(
        label="How likely is harm to the people affected?",
        choices=Breach.Likelihood.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how likely harm to people is"},
    )
    severity = forms.ChoiceField(
        label="How severe could the harm be?",
        choices=Breach.Severity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how severe the harm could be"},
    )
    notes = _text(
        "Reasons for the assessment",
        help_text="For example: special category data, a safe address, a child's details, "
        "whether the data was recovered or encrypted.",
        message="Enter the reasons for the assessment",
    )


class ContainmentForm(GovukForm):
    containment = _text(
        "What was done to contain it?", message="Enter what was done to contain the breach"
    )
    recovery = _text(
        "What was done to recover the data or limit the harm? (optional)", required=False
    )


class IcoForm(GovukForm):
    decision = forms.ChoiceField(
        label="Telling the ICO",
        choices=[c for c in Breach.IcoDecision.choices if c[0]],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the decision on telling the ICO"},
    )
    reference = forms.CharField(label="The ICO's reference", required=False, max_length=100)
    reported_at = _moment("When it was reported to the ICO")
    late_reasons = _text(
        "Reasons for reporting after 72 hours",
        required=False,
        help_text="Needed when the report was made after the deadline (Art. 33(1)).",
    )
    reasons = _text(
        "Why it is not reportable",
        required=False,
        help_text="For example: the data was encrypted and the key was not lost, so the breach "
        "is unlikely to result in a risk to people.",
    )


class PeopleToldForm(GovukForm):
    decision = forms.ChoiceField(
        label="Were the people affected told?",
        choices=[c for c in Breach.PeopleTold.choices if c[0]],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the people affected were told"},
    )
    told_at = _moment("When they were told")
    how = _text("How they were told", required=False, rows=2)
    reasons = _text(
        "Why they were not told",
        required=False,
        help_text="Where the risk is high, only an exception in Art. 34(3) allows this.",
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "%s (%s)" % (obj.get_full_name() or obj.get_username(), obj.get_username())


class OutcomeForm(GovukForm):
    kind = forms.ChoiceField(
        label="What follows?",
        choices=BreachOutcome.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome"},
    )
    user = UserChoiceField(
        label="Who is it about?",
        queryset=services.outcome_candidates().none(),
        empty_label="Choose a person",
        error_messages={"required": "Choose who the outcome is about"},
    )
    referred_to = forms.CharField(
        label="Referred to (disciplinary referral)",
        required=False,
        max_length=200,
        help_text="The name and position of the manager or HR officer.",
    )
    referred_on = forms.DateField(
        label="Date of the referral (disciplinary referral)",
        required=False,
        input_formats=DATE_FORMATS,
        help_text="For example, 27/3/2026",
        error_messages={"invalid": "Enter the date as day/month/year, like 27/3/2026"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    notes = _text("Notes (optional)", required=False, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = services.outcome_candidates()


class CloseForm(GovukForm):
    lessons_learned = _text(
        "Lessons learned",
        rows=6,
        help_text="What changes so that it does not happen again.",
        message="Enter the lessons learned",
    )


# --- pages ------------------------------------------------------------------------------------


def _breach_or_404(request, pk) -> Breach:
    return get_visible_or_404(
        Breach.objects.select_related(
            "reported_by", "concerns_user", "acknowledged_by", "ico_decided_by", "closed_by"
        ),
        request.user,
        pk=pk,
    )


@roles_required(*REPORTER_ROLES)
def breach_report(request):
    form = ReportForm(request.POST or None, user=request.user)
    breach = run_service(
        request,
        form,
        lambda data: services.report_breach(
            reported_by=request.user,
            summary=data["summary"],
            became_aware_at=data["became_aware_at"],
            occurred_at=data["occurred_at"],
            data_description=data["data_description"],
            source_details=data["source_details"],
            how_reported=data.get("how_reported") or Breach.HowReported.ONLINE,
        ),
        success=lambda made: (
            "Thank you. Your report (breach #%s) has gone to the data protection lead." % made.pk
        ),
    )
    if breach is not None:
        if services.may_view_breaches(request.user):
            return redirect("breach_detail", pk=breach.pk)
        return redirect("dashboard")
    return render(request, "access/breaches/report.html", {"form": form})


@roles_required(*VIEWER_ROLES)
def breach_list(request):
    rows = list(services.breach_list(request.user))
    live = [breach for breach in rows if not breach.is_finished]
    return render(
        request,
        "access/breaches/list.html",
        {
            "untriaged": [breach for breach in live if breach.is_untriaged],
            "open": [breach for breach in live if not breach.is_untriaged],
            "finished": [breach for breach in rows if breach.is_finished][:FINISHED_SHOWN],
            "is_dpo": services.is_data_protection_lead(request.user),
        },
    )


@roles_required(*VIEWER_ROLES)
def breach_detail(request, pk):
    breach = _breach_or_404(request, pk)
    record_access(user=request.user, obj=breach)
    finding = (
        getattr(breach, "finding", None) if breach.kind == Breach.Kind.UNUSUAL_ACCESS else None
    )
    return render(
        request,
        "access/breaches/detail.html",
        {
            "breach": breach,
            "clock": breach.clock(),
            "subjects": services.subjects_shown_to(breach, request.user),
            "outcomes": breach.outcomes.select_related("user", "decided_by"),
            "categories": services.category_labels(breach.data_categories),
            "finding": finding,
            "finding_entries": unusual_access.finding_entries(finding) if finding else [],
            "emergency_accesses": EmergencyAccess.objects.filter(breach=breach).select_related(
                "user", "content_type"
            ),
            "events": services.breach_events(breach),
            "is_dpo": services.is_data_protection_lead(request.user),
            "closure_problems": services.closure_problems(breach),
        },
    )


def _step(request, pk, *, form_class, title, service, success, initial=None, intro="", **extra):
    """One step of the record: a form, one service call, back to the breach."""
    breach = _breach_or_404(request, pk)
    form = form_class(request.POST or None, initial=initial(breach) if initial else None)
    add_version_field(form, breach)

    def action(data):
        # The version the page was drawn from: the service refuses if someone saved since.
        breach.drawn_version = data.pop("edit_version", None)
        try:
            return service(breach, data)
        except StaleEdit as stale:
            raise ValidationError(stale_messages(form, stale)) from stale

    if run_service(request, form, action, success=success):
        return redirect("breach_detail", pk=breach.pk)
    context = {
        "breach": breach,
        "clock": breach.clock(),
        "form": form,
        "title": title,
        "intro": intro,
        **extra,
    }
    return render(request, "access/breaches/step.html", context)


@roles_required(DPO)
def breach_acknowledge(request, pk):
    return _step(
        request,
        pk,
        form_class=TriageForm,
        title="Acknowledge the report",
        intro="Open it as a suspected breach, or record why it is not one. Either way the "
        "report stops waiting, and is not escalated.",
        service=lambda breach, data: services.acknowledge_breach(
            user=request.user, breach=breach, decision=data["decision"], notes=data["notes"]
        ),
        success="Report acknowledged.",
    )


@roles_required(DPO)
def breach_edit(request, pk):
    return _step(
        request,
        pk,
        form_class=DetailsForm,
        title="What happened and the data involved",
        initial=lambda breach: {
            "summary": breach.summary,
            "occurred_at": _local(breach.occurred_at),
            "became_aware_at": _local(breach.became_aware_at),
            "data_description": breach.data_description,
            "data_categories": breach.data_categories,
            "approx_people": breach.approx_people,
            "approx_records": breach.approx_records,
            "source_details": breach.source_details,
        },
        service=lambda breach, data: services.update_breach_details(
            user=request.user, breach=breach, **data
        ),
        success="Details saved.",
    )


@roles_required(DPO)
def breach_risk(request, pk):
    return _step(
        request,
        pk,
        form_class=RiskForm,
        title="Assess the risk to people",
        intro="The risk level follows from how likely and how severe the harm is. A high risk "
        "means telling the people affected without undue delay.",
        initial=lambda breach: {
            "likelihood": breach.likelihood,
            "severity": breach.severity,
            "notes": breach.risk_notes,
        },
        service=lambda breach, data: services.assess_breach_risk(
            user=request.user,
            breach=breach,
            likelihood=data["likelihood"],
            severity=data["severity"],
            notes=data["notes"],
        ),
        success=lambda breach: "Risk assessed: %s." % breach.get_risk_level_display().lower(),
    )


@roles_required(DPO)
def breach_containment(request, pk):
    return _step(
        request,
        pk,
        form_class=ContainmentForm,
        title="Containment and recovery",
        initial=lambda breach: {"containment": breach.containment, "recovery": breach.recovery},
        service=lambda breach, data: services.record_containment(
            user=request.user, breach=breach, **data
        ),
        success="Containment recorded.",
    )


@roles_required(DPO)
def breach_ico(request, pk):
    return _step(
        request,
        pk,
        form_class=IcoForm,
        title="Telling the ICO",
        intro="A breach that risks people's rights is reported to the ICO within 72 hours of "
        "becoming aware of it. A decision not to report is recorded with its reasons.",
        service=lambda breach, data: services.record_ico_decision(
            user=request.user, breach=breach, **data
        ),
        success=lambda breach: (
            "ICO decision recorded: %s." % breach.get_ico_decision_display().lower()
        ),
    )


@roles_required(DPO)
def breach_notify(request, pk):
    return _step(
        request,
        pk,
        form_class=PeopleToldForm,
        title="Telling the people affected",
        intro="Where the risk is high they must be told without undue delay (Art. 34).",
        service=lambda breach, data: services.record_people_told(
            user=request.user, breach=breach, **data
        ),
        success="Recorded whether the people affected were told.",
    )


def _record_outcome(user, breach, data):
    if data["kind"] == BreachOutcome.Kind.COMMITTEE_REMOVAL:
        return services.remove_from_committee(
            user=user, breach=breach, member=data["user"], notes=data["notes"]
        )
    return services.refer_for_discipline(
        user=user,
        breach=breach,
        staff_member=data["user"],
        referred_to=data["referred_to"],
        referred_on=data["referred_on"],
        notes=data["notes"],
    )


@roles_required(DPO)
def breach_outcome(request, pk):
    return _step(
        request,
        pk,
        form_class=OutcomeForm,
        title="What follows for the person responsible",
        intro="Under the confidentiality code a committee member who leaks is normally removed "
        "from the committee, which takes away their committee access at once; a member of "
        "staff is referred for disciplinary action.",
        initial=lambda breach: {"user": breach.concerns_user_id},
        service=lambda breach, data: _record_outcome(request.user, breach, data),
        success=lambda outcome: "Recorded: %s." % outcome.get_kind_display().lower(),
    )


@roles_required(DPO)
def breach_close(request, pk):
    return _step(
        request,
        pk,
        form_class=CloseForm,
        title="Close the breach",
        initial=lambda breach: {"lessons_learned": breach.lessons_learned},
        service=lambda breach, data: services.close_breach(
            user=request.user, breach=breach, lessons_learned=data["lessons_learned"]
        ),
        success="Breach closed.",
    )


@roles_required(DPO)
def breach_people(request, pk):
    """The people affected: search the register (within the DPO's own scope) and link them."""
    breach = _breach_or_404(request, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                subject = get_object_or_404(
                    BreachSubject, pk=request.POST.get("subject"), breach=breach
                )
                services.remove_breach_subject(user=request.user, subject=subject)
                messages.success(request, "Removed from the people affected.")
            else:
                person = services.person_for_id(
                    user=request.user, person_id=request.POST.get("person")
                )
                services.add_breach_subject(user=request.user, breach=breach, obj=person)
                messages.success(request, "Added to the people affected.")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("breach_people", pk=breach.pk)
    term = " ".join(request.GET.get("q", "").split())[:100]
    return render(
        request,
        "access/breaches/people.html",
        {
            "breach": breach,
            "clock": breach.clock(),
            "term": term,
            "results": services.find_people(user=request.user, term=term) if term else [],
            "subjects": services.subjects_shown_to(breach, request.user),
        },
    )


urlpatterns = [
    path("report/", breach_report, name="breach_report"),
    path("", breach_list, name="breach_list"),
    path("<int:pk>/", breach_detail, name="breach_detail"),
    path("<int:pk>/acknowledge/", breach_acknowledge, name="breach_acknowledge"),
    path("<int:pk>/details/", breach_edit, name="breach_edit"),
    path("<int:pk>/people/", breach_people, name="breach_people"),
    path("<int:pk>/risk/", breach_risk, name="breach_risk"),
    path("<int:pk>/containment/", breach_containment, name="breach_containment"),
    path("<int:pk>/ico/", breach_ico, name="breach_ico"),
    path("<int:pk>/people-told/", breach_notify, name="breach_notify"),
    path("<int:pk>/outcome/", breach_outcome, name="breach_outcome"),
    path("<int:pk>/close/", breach_close, name="breach_close"),
]
