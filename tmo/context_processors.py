from django.conf import settings

from access.roles import roles_of


def site(request):
    user = getattr(request, "user", None)
    return {
        "organisation_name": settings.ORGANISATION_NAME,
        "demo_mode": getattr(settings, "DEMO_MODE", False),
        "user_roles": roles_of(user) if user is not None and user.is_authenticated else frozenset(),
    }
