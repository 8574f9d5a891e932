"""Access pages: meetings, their confidential minutes, and numbered copies of confidential reports.

Public minutes are on the meeting page for anyone who may see the meeting. Confidential minutes
have their own page, reached only by those present and the DPO; everyone else gets a 404 and
never a link, an excerpt or a hint of them.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache

from access.decorators import roles_required
from access.models import ConfidentialReport, Meeting, ReportCopy
from access.models.meetings import MEETING_MANAGER_ROLES, MEETING_READER_ROLES
from access.policy import get_visible_or_404
from access.roles import roles_of
from access.services import meetings as services
from tmo.concurrency import StaleEdit, VersionedFormMixin, add_version_field, stale_messages
from tmo.forms import GovukFormMixin

PAGE_SIZE = 25
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


# --- forms ------------------------------------------------------------------------------------


class GovukForm(GovukFormMixin, forms.Form):
    pass


class GovukModelForm(GovukFormMixin, forms.ModelForm):
    pass


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def _staff_and_committee():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=MEETING_READER_ROLES)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class MeetingForm(VersionedFormMixin, GovukModelForm):
    held_on = forms.DateField(
        label="Date of the meeting",
        help_text="For example, 27/3/2026",
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date of the meeting",
            "invalid": "Date of the meeting must be a real date, like 27/3/2026",
        },
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    attendees = PeopleChoiceField(
        label="Who was present?",
        help_text="Committee members and staff. Only they, and the data protection lead, "
        "can read the confidential minutes.",
        queryset=get_user_model().objects.none(),
        required=False,
    )

    class Meta:
        model = Meeting
        fields = ["title", "held_on", "location", "attendees", "public_minutes"]
        labels = {
            "title": "Title",
            "location": "Where was it held? (optional)",
            "public_minutes": "Public minutes",
        }
        help_texts = {
            "public_minutes": "Anyone on the staff or committee can read these. Put nothing "
            "confidential here: it goes in the confidential minutes.",
        }
        error_messages = {"title": {"required": "Enter the title of the meeting"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = _staff_and_committee()


class MeetingCreateForm(MeetingForm):
    confidential_minutes = forms.CharField(
        label="Confidential minutes (optional)",
        help_text="Kept apart from the public minutes. Only those present and the data "
        "protection lead can read them, so tick yourself as present if you need to.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    class Meta(MeetingForm.Meta):
        fields = [*MeetingForm.Meta.fields, "confidential_minutes"]


class ConfidentialMinutesForm(GovukForm):
    minutes = forms.CharField(
        label="Confidential minutes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 15}),
    )


class ReportForm(GovukModelForm):
    class Meta:
        model = ConfidentialReport
        fields = ["number", "title", "body"]
        labels = {"number": "Report number", "title": "Title", "body": "Report"}
        help_texts = {
            "number": "For example, CR-2026-07",
            "body": "Printed on each numbered copy; it is not shown on screen.",
        }
        widgets = {
            "number": forms.TextInput(attrs={"class": "govuk-input--width-10"}),
            "body": forms.Textarea(attrs={"rows": 15}),
        }
        error_messages = {
            "number": {
                "required": "Enter the report number",
                "unique": "A report with this number already exists; each number is used once",
            },
            "title": {"required": "Enter the title of the report"},
        }

    def clean_number(self):
        number = self.cleaned_data["number"].strip().upper()
        if not number.replace("-", "").replace("/", "").isalnum():
            raise ValidationError(
                "Report number must contain only letters, numbers and hyphens, like CR-2026-07"
            )
        return number

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        if not body.strip():
            raise ValidationError("Enter the text of the report")
        return body


class IssueCopiesForm(GovukForm):
    members = PeopleChoiceField(
        label="Who is receiving a numbered copy?",
        help_text="People recorded as present who do not yet hold a copy.",
        queryset=get_user_model().objects.none(),
        error_messages={"required": "Select who is receiving a copy"},
    )

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (
            report.meeting.attendees.exclude(report_copies__report=report)
            .order_by("first_name", "last_name", "username")
            .distinct()
        )


class LostCopyForm(GovukForm):
    reason = forms.CharField(
        label="What happened to the copy?",
        help_text="For example, where and when it was last seen. The data protection lead will "
        "treat it as a possible breach.",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Say what happened to the copy"},
    )


# --- pages ------------------------------------------------------------------------------------


def _paginate(request, queryset, label: str):
    """One page, with the links templates/includes/pagination.html expects (access cannot use
    records' helper: arrows run from records to access, never back)."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))

    def url(number) -> str:
        query = request.GET.copy()
        query["page"] = number
        return "?" + query.urlencode()

    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    page.links = {
        "label": label,
        "items": [
            {"number": n, "url": url(n), "current": n == page.number}
            if isinstance(n, int)
            else {"ellipsis": True}
            for n in numbers
        ],
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }
    return page


def _posted(request):
    """The POST data for a POST, even an empty one (nothing ticked is still an answer)."""
    return request.POST if request.method == "POST" else None


def _may_manage(user) -> bool:
    return bool(roles_of(user) & MEETING_MANAGER_ROLES)


@roles_required(*MEETING_READER_ROLES)
def meeting_list(request):
    meetings = (
        Meeting.objects.visible_to(request.user)
        .annotate(attendee_count=Count("attendees", distinct=True))
        .order_by("-held_on", "title", "pk")
    )
    page = _paginate(request, meetings, "Meetings pages")
    return render(
        request,
        "access/meetings/meeting_list.html",
        {"page": page, "may_manage": _may_manage(request.user)},
    )


def _meeting_form_page(request, form: MeetingForm, save, done: str, **context):
    """The meeting form; a valid POST goes through `save` (a meetings service with its acting
    user already given) and on to the meeting."""
    if request.method == "POST" and form.is_valid():
        try:
            meeting = form.save(commit=False)
            meeting.drawn_version = form.drawn_version
            meeting = save(meeting=meeting, attendees=form.cleaned_data["attendees"])
        except StaleEdit as stale:
            form.show_stale(stale)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, done)
            return redirect("meeting_detail", pk=meeting.pk)
    return render(request, "access/meetings/meeting_form.html", {"form": form, **context})


@roles_required(*MEETING_MANAGER_ROLES)
def meeting_create(request):
    return _meeting_form_page(
        request,
        MeetingCreateForm(_posted(request)),
        partial(services.meeting_create, created_by=request.user),
        "Meeting added.",
    )


@roles_required(*MEETING_READER_ROLES)
def meeting_detail(request, pk):
    user = request.user
    meeting = get_visible_or_404(Meeting.objects.prefetch_related("attendees"), request.user, pk=pk)
    may_manage = _may_manage(user)
    reports = []
    if may_manage:
        reports = (
            ConfidentialReport.objects.visible_to(user)
            .filter(meeting=meeting)
            .prefetch_related(
                Prefetch("copies", queryset=ReportCopy.objects.select_related("member"))
            )
        )
    return render(
        request,
        "access/meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "may_manage": may_manage,
            "may_read_confidential": Meeting.objects.confidential_minutes_visible_to(user)
            .filter(pk=meeting.pk)
            .exists(),
            "reports": reports,
            "outstanding_count": ReportCopy.objects.visible_to(user)
            .outstanding()
            .filter(report__meeting=meeting)
            .count()
            if may_manage
            else 0,
            "my_copies": ReportCopy.objects.visible_to(user)
            .outstanding()
            .filter(report__meeting=meeting, member=user)
            .select_related("report"),
        },
    )


@roles_required(*MEETING_MANAGER_ROLES)
def meeting_edit(request, pk):
    meeting = get_visible_or_404(Meeting, request.user, pk=pk)
    return _meeting_form_page(
        request,
        MeetingForm(_posted(request), instance=meeting),
        partial(services.meeting_update, updated_by=request.user),
        "Meeting updated.",
        meeting=meeting,
    )


def _confidential_minutes_or_404(request, pk) -> Meeting:
    return get_visible_or_404(
        Meeting.objects.confidential_minutes_visible_to(request.user), request.user, pk=pk
    )


@roles_required(*MEETING_READER_ROLES)
@never_cache
def meeting_confidential_minutes(request, pk):
    meeting = _confidential_minutes_or_404(request, pk)
    services.confidential_minutes_open(user=request.user, meeting=meeting)
    return render(
        request,
        "access/meetings/confidential_minutes.html",
        {"meeting": meeting, "may_manage": _may_manage(request.user)},
    )


@roles_required(*MEETING_MANAGER_ROLES)
@never_cache
def meeting_confidential_minutes_edit(request, pk):
    meeting = _confidential_minutes_or_404(request, pk)
    # The form shows the minutes, so opening it is a read like any other.
    services.confidential_minutes_open(user=request.user, meeting=meeting)
    form = ConfidentialMinutesForm(
        _posted(request), initial={"minutes": meeting.confidential_minutes}
    )
    add_version_field(form, meeting)
    if request.method == "POST" and form.is_valid():
        meeting.drawn_version = form.cleaned_data["edit_version"]
        try:
            services.confidential_minutes_update(
                updated_by=request.user, meeting=meeting, minutes=form.cleaned_data["minutes"]
            )
        except StaleEdit as stale:
            for message in stale_messages(form, stale, {"minutes": "confidential_minutes"}):
                form.add_error(None, message)
        else:
            messages.success(request, "Confidential minutes saved.")
            return redirect("meeting_confidential_minutes", pk=meeting.pk)
    return render(
        request,
        "access/meetings/confidential_minutes_form.html",
        {"meeting": meeting, "form": form},
    )


@roles_required(*MEETING_MANAGER_ROLES)
def report_create(request, pk):
    meeting = get_visible_or_404(Meeting, request.user, pk=pk)
    form = ReportForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_create(
                created_by=request.user, meeting=meeting, report=form.save(commit=False)
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Report %s added." % report.number)
            return redirect("meeting_report_detail", pk=report.pk)
    return render(request, "access/meetings/report_form.html", {"form": form, "meeting": meeting})


@roles_required(*MEETING_MANAGER_ROLES)
def report_detail(request, pk):
    """The report's numbered copies, and (on POST) issuing more of them."""
    report = get_visible_or_404(
        ConfidentialReport.objects.select_related("meeting"), request.user, pk=pk
    )
    form = IssueCopiesForm(_posted(request), report=report)
    if request.method == "POST" and form.is_valid():
        try:
            copies = services.issue_copies(
                issued_by=request.user, report=report, members=form.cleaned_data["members"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Issued %s. Print each copy, hand it over, and record it back before the member "
                "leaves." % ", ".join("copy %d" % copy.copy_number for copy in copies),
            )
            return redirect("meeting_report_detail", pk=report.pk)
    copies = (
        ReportCopy.objects.visible_to(request.user)
        .filter(report=report)
        .select_related("member", "returned_to", "issued_by")
    )
    return render(
        request,
        "access/meetings/report_detail.html",
        {"report": report, "meeting": report.meeting, "copies": copies, "form": form},
    )


@roles_required(*MEETING_MANAGER_ROLES)
def report_copy_return(request, pk):
    copy = get_visible_or_404(ReportCopy.objects.select_related("report"), request.user, pk=pk)
    if request.method == "POST":
        try:
            services.record_copy_returned(received_by=request.user, copy=copy)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Copy %d recorded as handed back." % copy.copy_number)
    return redirect("meeting_report_detail", pk=copy.report_id)


@roles_required(*MEETING_MANAGER_ROLES)
def report_copy_lost(request, pk):
    copy = get_visible_or_404(
        ReportCopy.objects.select_related("report__meeting", "member"), request.user, pk=pk
    )
    form = LostCopyForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.record_copy_lost(
                recorded_by=request.user, copy=copy, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "Copy %d recorded as lost. It stays flagged for the data protection lead."
                % copy.copy_number,
            )
            return redirect("meeting_report_detail", pk=copy.report_id)
    return render(request, "access/meetings/copy_lost_form.html", {"copy": copy, "form": form})


@roles_required(*MEETING_MANAGER_ROLES)
@never_cache
def report_copy_print(request, pk):
    copy = get_visible_or_404(
        ReportCopy.objects.select_related("report__meeting", "member"), request.user, pk=pk
    )
    if copy.returned_at is not None:
        # Printing a copy already handed back would put an unrecorded copy in circulation.
        messages.error(
            request, "Copy %d was handed back; issue a new copy instead." % copy.copy_number
        )
        return redirect("meeting_report_detail", pk=copy.report_id)
    pdf = services.copy_print(printed_by=request.user, copy=copy)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="%s-copy-%d.pdf"' % (
        "".join(c for c in copy.report.number if c.isalnum() or c == "-"),
        copy.copy_number,
    )
    return response


@roles_required(*MEETING_MANAGER_ROLES)
def meeting_copies_outstanding(request):
    copies = (
        ReportCopy.objects.visible_to(request.user)
        .outstanding()
        .select_related("report__meeting", "member", "issued_by")
        .order_by("-report__meeting__held_on", "report__number", "copy_number")
    )
    page = _paginate(request, copies, "Copies pages")
    return render(
        request,
        "access/meetings/copies_outstanding.html",
        {"page": page, "lost_count": copies.filter(lost_at__isnull=False).count()},
    )


urlpatterns = [
    path("", meeting_list, name="meeting_list"),
    path("new/", meeting_create, name="meeting_create"),
    path("copies/outstanding/", meeting_copies_outstanding, name="meeting_copies_outstanding"),
    path("<int:pk>/", meeting_detail, name="meeting_detail"),
    path("<int:pk>/edit/", meeting_edit, name="meeting_edit"),
    path(
        "<int:pk>/confidential-minutes/",
        meeting_confidential_minutes,
        name="meeting_confidential_minutes",
    ),
    path(
        "<int:pk>/confidential-minutes/edit/",
        meeting_confidential_minutes_edit,
        name="meeting_confidential_minutes_edit",
    ),
    path("<int:pk>/reports/new/", report_create, name="meeting_report_create"),
    path("reports/<int:pk>/", report_detail, name="meeting_report_detail"),
    path("copies/<int:pk>/return/", report_copy_return, name="meeting_copy_return"),
    path("copies/<int:pk>/lost/", report_copy_lost, name="meeting_copy_lost"),
    path("copies/<int:pk>/print/", report_copy_print, name="meeting_copy_print"),
]
