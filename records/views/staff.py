"""The HR area: staff records and job applications, for HR officers and the data protection lead.

Both models share one policy (records.policies.HRQuerySet); housing staff, the committee and
system administrators are refused at the door and would find nothing behind it either.
"""

from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import Role
from records import services
from records.forms.staff import HRFilterForm
from records.models import JobApplication, Person, StaffRecord
from records.policies import listed_markers, person_field_allowed, unshown_encrypted
from records.views.common import paginate

HR_ROLES = (Role.HR_OFFICER, Role.DATA_PROTECTION_LEAD)


def _listed(records):
    """HR rows as the lists show them: names, posts and dates, markers as tags; the encrypted
    notes, salaries and personal details are left unread."""
    return (
        records.select_related("person")
        .defer(
            *unshown_encrypted(records.model),
            *unshown_encrypted(Person, prefix="person__"),
        )
        .prefetch_related(Prefetch("person__markers", queryset=listed_markers()))
    )


@roles_required(*HR_ROLES)
def hr_home(request):
    user = request.user
    form = HRFilterForm(request.GET)
    staff = form.filter_staff(_listed(StaffRecord.objects.visible_to(user)))
    applications = form.filter_applications(_listed(JobApplication.objects.visible_to(user)))
    staff_page = paginate(request, staff, param="staff_page", label="Staff records pages")
    applications_page = paginate(
        request, applications, param="applications_page", label="Job applications pages"
    )
    return render(
        request,
        "records/hr_home.html",
        {
            "form": form,
            "staff_page": staff_page,
            "applications_page": applications_page,
            "staff_status": form.staff_status,
            "today": timezone.localdate(),
        },
    )


def _person_context(user, person: Person) -> dict:
    return {
        "person": person,
        "markers": person.active_markers(),
        "can_open_person": Person.objects.visible_to(user).filter(pk=person.pk).exists(),
        "show_date_of_birth": person_field_allowed(user, "date_of_birth"),
        "show_ni_number": person_field_allowed(user, "ni_number"),
    }


def _open_hr_record(request, model, pk):
    """A staff record or job application, with its person and markers, fetched and audited."""
    record = get_visible_or_404(
        model.objects.select_related("person").prefetch_related("person__markers"),
        request.user,
        pk=pk,
    )
    services.record_open(user=request.user, obj=record)
    return record


@roles_required(*HR_ROLES)
def staff_record_detail(request, pk):
    record = _open_hr_record(request, StaffRecord, pk)
    context = _person_context(request.user, record.person)
    context.update(
        {
            "record": record,
            "is_current": record.end_date is None or record.end_date >= timezone.localdate(),
        }
    )
    return render(request, "records/staff_record_detail.html", context)


@roles_required(*HR_ROLES)
def job_application_detail(request, pk):
    application = _open_hr_record(request, JobApplication, pk)
    context = _person_context(request.user, application.person)
    context["application"] = application
    return render(request, "records/job_application_detail.html", context)
