"""Committee meetings: public minutes, confidential minutes kept apart, numbered report copies."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from access.policy import NOTHING, PolicyQuerySet
from access.roles import STAFF_ROLES, Role, roles_of
from tmo.concurrency import VersionedModel
from tmo.datamap import Category, LawfulBasis, PersonalData, Retention
from tmo.fields import EncryptedTextField

__all__ = ["ConfidentialReport", "Meeting", "ReportCopy"]

# The committee's secretary is usually a senior officer; the DPO may stand in.
MEETING_MANAGER_ROLES = frozenset({Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD})
MEETING_READER_ROLES = STAFF_ROLES | {Role.COMMITTEE_MEMBER}


def _may_read(user) -> bool:
    from access.compliance import may_read_records

    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return may_read_records(user)


class MeetingQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        roles = roles_of(user)
        if roles & STAFF_ROLES:
            return Q()
        if Role.COMMITTEE_MEMBER in roles:
            # Members are tenants and neighbours: they see the meetings they sat in, no others.
            return Q(pk__in=Meeting.attendees.through.objects.filter(user=user).values("meeting"))
        return NOTHING

    def confidential_minutes_visible_to(self, user):
        """Meetings whose confidential minutes this user may read: those they attended, or any
        for the data protection lead. Seniority or managing the meeting gives no right to them."""
        if not _may_read(user):
            return self.none()
        if Role.DATA_PROTECTION_LEAD in roles_of(user):
            return self.all()
        return self.filter(
            pk__in=Meeting.attendees.through.objects.filter(user=user).values("meeting")
        )


class Meeting(VersionedModel):
    title = models.CharField(max_length=200)
    held_on = models.DateField()
    location = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="meetings_attended"
    )
    public_minutes = models.TextField(blank=True)
    # Never listed beside the public minutes; only those present and the DPO may read them.
    confidential_minutes = EncryptedTextField()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "title"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Recording committee decisions, including confidential matters about residents.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=6, after="the meeting", field="held_on"),
        sensitive_fields=("confidential_minutes",),
        unlinked_reason="Confidential minutes name people in free text; they are found by search.",
        internal_fields=("edit_version",),
    )

    def __str__(self):
        return "%s, %s" % (self.title, self.held_on.isoformat())


class ManagerOnlyQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        if roles_of(user) & MEETING_MANAGER_ROLES:
            return Q()
        return NOTHING


class ConfidentialReport(models.Model):
    """A confidential paper put to a meeting, handed out only as individually numbered copies."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="reports")
    number = models.CharField(
        max_length=30, unique=True, help_text="The report's reference, for example CR-2026-07."
    )
    title = models.CharField(max_length=200)
    body = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ManagerOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["number"]

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Putting confidential matters about residents, staff or contractors to the committee.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=6, after="the meeting", field="meeting__held_on"),
        sensitive_fields=("body",),
        unlinked_reason="Reports name people in free text; they are found by search.",
    )

    def __str__(self):
        return "%s %s" % (self.number, self.title)


class CopyQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        if roles_of(user) & MEETING_MANAGER_ROLES:
            return Q()
        return Q(member=user)

    def outstanding(self):
        """Copies not yet handed back, lost ones included: each is a possible leak until resolved."""
        return self.filter(returned_at__isnull=True)


class ReportCopy(models.Model):
    """One numbered copy of a report, handed to one member and to be handed back before they leave."""

    report = models.ForeignKey(ConfidentialReport, on_delete=models.PROTECT, related_name="copies")
    copy_number = models.PositiveIntegerField()
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_copies"
    )
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lost_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.TextField(blank=True)
    lost_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CopyQuerySet.as_manager()

    class Meta:
        ordering = ["report", "copy_number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "copy_number"], name="one_copy_per_number"),
            models.UniqueConstraint(fields=["report", "member"], name="one_copy_per_member"),
        ]
        verbose_name_plural = "report copies"

    personal_data = PersonalData(
        category=Category.PERSONAL,
        purpose="Showing who held each copy of a confidential report and that it came back.",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        retention=Retention(years=6, after="the meeting", field="report__meeting__held_on"),
        sensitive_fields=("lost_reason",),
        unlinked_reason="Copies are held by committee members and staff, who are users, not people on file.",
    )

    def __str__(self):
        return "%s copy %d" % (self.report.number, self.copy_number)

    @property
    def is_returned(self) -> bool:
        return self.returned_at is not None

    @property
    def is_lost(self) -> bool:
        return self.returned_at is None and self.lost_at is not None
