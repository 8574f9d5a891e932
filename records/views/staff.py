"""The HR area: staff records and job applications, for HR officers and the data protection lead.

Both models share one policy (records.policies.HRQuerySet); housing staff, the committee and
system administrators are refused at the door and would find nothing behind it either.
"""

from django.shortcuts import render
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import Role
from records import services
from records.forms.staff import HRFilterForm
from records.models import JobApplication, Person, StaffRecord
from records.policies import person_field_allowed
from records.views.households import paginate

HR_ROLES = (Role.HR_OFFICER, Role.DATA_PROTECTION_LEAD)


@roles_required(*HR_ROLES)
def hr_home(request):
    user = request.user
    form = HRFilterForm(request.GET)
    staff = form.filter_staff(
        StaffRecord.objects.visible_to(user)
        .select_related("person")
        .prefetch_related("person__markers")
    )
    applications = form.filter_applications(
        JobApplication.objects.visible_to(user)
        .select_related("person")
        .prefetch_related("person__markers")
    )
    staff_page, staff_pagination = paginate(
        request, staff, param="staff_page", label="Staff records pages"
    )
    applications_page, applications_pagination = paginate(
        request, applications, param="applications_page", label="Job applications pages"
    )
    return render(
        request,
        "records/hr_home.html",
        {
            "form": form,
            "staff_page": staff_page,
            "staff_pagination": staff_pagination,
            "applications_page": applications_page,
            "applications_pagination": applications_pagination,
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


@roles_required(*HR_ROLES)
def staff_record_detail(request, pk):
    user = request.user
    record = get_visible_or_404(
        StaffRecord.objects.select_related("person").prefetch_related("person__markers"),
        user,
        pk=pk,
    )
    services.record_open(user=user, obj=record)
    context = _person_context(user, record.person)
    context.update(
        {
            "record": record,
            "is_current": record.end_date is None or record.end_date >= timezone.localdate(),
        }
    )
    return render(request, "records/staff_record_detail.html", context)


@roles_required(*HR_ROLES)
def job_application_detail(request, pk):
    user = request.user
    application = get_visible_or_404(
        JobApplication.objects.select_related("person").prefetch_related("person__markers"),
        user,
        pk=pk,
    )
    services.record_open(user=user, obj=application)
    context = _person_context(user, application.person)
    context["application"] = application
    return render(request, "records/job_application_detail.html", context)
