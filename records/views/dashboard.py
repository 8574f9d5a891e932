"""The signed-in landing page: what the user's roles let them do, and their own work to pick up."""

from django.shortcuts import render

from access.dashboard import panels_for
from access.decorators import signed_in
from access.roles import STAFF_ROLES, Role, roles_of
from records.models import ContactRecord, Person
from records.policies import RESIDENT_EDITOR_ROLES

RECENT_CONTACTS = 10


@signed_in
def dashboard(request):
    user = request.user
    roles = roles_of(user)
    context = {
        "roles": roles,
        "role_names": sorted(Role(role).label for role in roles),
        "is_staff_member": bool(roles & STAFF_ROLES),
        "is_administrator": Role.SYSTEM_ADMINISTRATOR in roles,
        "panels": panels_for(user),
    }
    if not context["is_staff_member"]:
        # Committee members, administrators and tenants see no record data here.
        return render(request, "records/dashboard_no_records.html", context)
    works_with_residents = bool(roles & (RESIDENT_EDITOR_ROLES | {Role.DATA_PROTECTION_LEAD}))
    context["works_with_residents"] = works_with_residents
    if works_with_residents:
        context["due_count"] = Person.objects.visible_to(user).due_for_reconfirmation().count()
        context["recent_contacts"] = (
            ContactRecord.objects.visible_to(user)
            .filter(recorded_by=user)
            .select_related("person")
            .prefetch_related("person__markers")[:RECENT_CONTACTS]
        )
    return render(request, "records/dashboard.html", context)
