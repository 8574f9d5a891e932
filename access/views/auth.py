from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils.decorators import method_decorator

from access.decorators import ViewPolicy, roles_required
from access.roles import Role
from tmo import datamap


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    access_policy = ViewPolicy(name="public", public=True)
    template_name = "access/sign_in.html"
    redirect_authenticated_user = True


@method_decorator(login_not_required, name="dispatch")
class SignOutView(auth_views.LogoutView):
    access_policy = ViewPolicy(name="public", public=True)


@roles_required(Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER)
def data_map(request):
    """The organisation's inventory of what it holds, read straight from the personal-data map."""
    entries = sorted(
        datamap.entries(), key=lambda e: (e.model._meta.app_label, e.model._meta.verbose_name)
    )
    return render(request, "access/data_map.html", {"entries": entries})
