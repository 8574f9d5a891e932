"""Access workflows: meetings, their confidential minutes, and numbered copies of reports."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from access.dashboard import Panel, dashboard_panel
from access.models import ConfidentialReport, Meeting, ReportCopy
from access.models.meetings import MEETING_READER_ROLES
from access.roles import Role, roles_of
from tmo.audit import record_access
from tmo.concurrency import lock_current

# Enough for the DPO to see what is outstanding at a glance; the full list is one click away.
PANEL_ITEMS = 10


def _check_attendees(attendees: Iterable) -> list:
    attendees = list(attendees)
    outsiders = [user for user in attendees if not roles_of(user) & MEETING_READER_ROLES]
    if outsiders:
        raise ValidationError(
            {"attendees": "Only staff and committee members can be recorded as present."}
        )
    return attendees


def _save_meeting(meeting: Meeting, attendees: Iterable) -> Meeting:
    attendees = _check_attendees(attendees)
    meeting.full_clean()
    meeting.save()
    meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def meeting_create(*, created_by, meeting: Meeting, attendees: Iterable) -> Meeting:
    return _save_meeting(meeting, attendees)


@transaction.atomic
def meeting_update(*, updated_by, meeting: Meeting, attendees: Iterable) -> Meeting:
    # Refused (StaleEdit) when the form was drawn from an older version: see tmo.concurrency.
    lock_current(meeting)
    return _save_meeting(meeting, attendees)


@transaction.atomic
def confidential_minutes_update(*, updated_by, meeting: Meeting, minutes: str) -> Meeting:
    lock_current(meeting)
    meeting.confidential_minutes = minutes
    meeting.save(update_fields=["confidential_minutes"])
    return meeting


def confidential_minutes_open(*, user, meeting: Meeting) -> Meeting:
    """Audit one read of a meeting's confidential minutes (the meeting must come from
    Meeting.objects.confidential_minutes_visible_to)."""
    record_access(user=user, obj=meeting)
    return meeting


@transaction.atomic
def report_create(*, created_by, meeting: Meeting, report: ConfidentialReport):
    report.meeting = meeting
    report.created_by = created_by
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def issue_copies(*, issued_by, report: ConfidentialReport, members: Iterable) -> list[ReportCopy]:
    """Hand one numbered copy to each member, numbering on from the last copy issued."""
    members = list(members)
    if not members:
        raise ValidationError({"members": "Select who is receiving a copy."})
    # Lock the report so two people issuing at once cannot hand out the same number.
    report = ConfidentialReport.objects.select_for_update().get(pk=report.pk)
    present = set(report.meeting.attendees.values_list("pk", flat=True))
    if any(member.pk not in present for member in members):
        raise ValidationError(
            {"members": "Copies can only go to people recorded as present at the meeting."}
        )
    holders = set(report.copies.values_list("member_id", flat=True))
    already = sorted(
        member.get_full_name() or member.get_username()
        for member in members
        if member.pk in holders
    )
    if already:
        raise ValidationError(
            {"members": "Already holds a copy of this report: %s." % ", ".join(already)}
        )
    last = report.copies.aggregate(last=Max("copy_number"))["last"] or 0
    now = timezone.now()
    copies = [
        ReportCopy(
            report=report,
            copy_number=last + number,
            member=member,
            issued_at=now,
            issued_by=issued_by,
        )
        for number, member in enumerate(members, start=1)
    ]
    try:
        for copy in copies:
            copy.save()
    except IntegrityError as error:
        raise ValidationError({"members": "Those copies were issued already."}) from error
    return copies


@transaction.atomic
def record_copy_returned(*, received_by, copy: ReportCopy) -> ReportCopy:
    copy = ReportCopy.objects.select_for_update().get(pk=copy.pk)
    if copy.returned_at is not None:
        raise ValidationError("Copy %d was already handed back." % copy.copy_number)
    copy.returned_at = timezone.now()
    copy.returned_to = received_by
    copy.save(update_fields=["returned_at", "returned_to"])
    return copy


@transaction.atomic
def record_copy_lost(*, recorded_by, copy: ReportCopy, reason: str) -> ReportCopy:
    """Record that a copy cannot be found. It stays outstanding, as a possible breach for the DPO."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say what happened to the copy."})
    copy = ReportCopy.objects.select_for_update().get(pk=copy.pk)
    if copy.returned_at is not None:
        raise ValidationError("Copy %d was handed back; it cannot be lost." % copy.copy_number)
    copy.lost_at = timezone.now()
    copy.lost_reason = reason
    copy.lost_recorded_by = recorded_by
    copy.save(update_fields=["lost_at", "lost_reason", "lost_recorded_by"])
    return copy


def _css_string(value: str) -> str:
    """A CSS string literal for `content:`; anything but plain letters, digits and spaces is
    hex-escaped, so a member's name can neither end the string nor close the style element."""
    escaped = "".join(
        char if (char.isascii() and char.isalnum()) or char == " " else "\\%X " % ord(char)
        for char in value
    )
    return '"%s"' % escaped


def copy_banner(copy: ReportCopy) -> str:
    member = copy.member.get_full_name() or copy.member.get_username()
    return "Copy %d of %d \N{EM DASH} issued to %s \N{EM DASH} CONFIDENTIAL \N{EM DASH} %s" % (
        copy.copy_number,
        copy.report.copies.count(),
        member,
        "return before leaving",
    )


def copy_print(*, printed_by, copy: ReportCopy) -> bytes:
    """The PDF of one numbered copy, its number and holder on every page; each print is audited."""
    from weasyprint import HTML

    banner = copy_banner(copy)
    html = render_to_string(
        "access/meetings/report_copy_print.html",
        {
            "copy": copy,
            "report": copy.report,
            "meeting": copy.report.meeting,
            "banner": banner,
            "banner_css": mark_safe(_css_string(banner)),  # noqa: S308  (escaped above)
        },
    )
    pdf = HTML(string=html).write_pdf()
    record_access(user=printed_by, obj=copy)
    return pdf


@dashboard_panel
def unreturned_copies_panel(user) -> Panel | None:
    if not roles_of(user) & {Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER}:
        return None
    outstanding = ReportCopy.objects.visible_to(user).outstanding()
    count = outstanding.count()
    if not count:
        return None
    items = []
    for copy in outstanding.select_related("report__meeting", "member").order_by(
        "-report__meeting__held_on", "report__number", "copy_number"
    )[:PANEL_ITEMS]:
        items.append(
            "%s: %s copy %d, %s%s"
            % (
                copy.report.meeting,
                copy.report.number,
                copy.copy_number,
                copy.member.get_full_name() or copy.member.get_username(),
                " (lost: possible breach)" if copy.is_lost else " (not returned)",
            )
        )
    return Panel(
        title="Report copies not returned",
        count=count,
        url=reverse("meeting_copies_outstanding"),
        link_text="See copies not returned",
        description="Numbered copies of confidential reports still out, including any lost.",
        urgent=True,
        items=items,
    )
