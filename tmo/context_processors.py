from django.conf import settings

from access.roles import STAFF_ROLES, roles_of


def site(request):
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None and user.is_authenticated else frozenset()
    return {
        "organisation_name": settings.ORGANISATION_NAME,
        "demo_mode": getattr(settings, "DEMO_MODE", False),
        "user_roles": roles,
        "is_staff_member": bool(roles & STAFF_ROLES),
    }
