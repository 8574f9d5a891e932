"""The administrators' site. It manages users, roles and patch assignments; it is not a back door
into records: every record admin fetches through the same policies as the staff site, so a system
administrator (who holds no record-reading role) sees none."""

from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.urls import URLResolver, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _

from access.decorators import ViewPolicy
from access.roles import Role, forget_roles, roles_of
from access.services import accounts

ADMIN_POLICY = ViewPolicy(
    name="roles:system_administrator (admin site)", roles=frozenset({Role.SYSTEM_ADMINISTRATOR})
)
OWN_ROLES_MESSAGE = _(
    "You cannot change your own roles. Ask another system administrator to do it, so that no one "
    "can give themselves access to records."
)


class TmoAdminSite(admin.AdminSite):
    site_header = "Records administration"
    site_title = "Records administration"
    index_title = "Users, roles and settings"
    # Unknown admin URLs are a plain 404, not an unnamed catch-all route that redirects.
    final_catch_all_view = False

    def has_permission(self, request):
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and Role.SYSTEM_ADMINISTRATOR in roles_of(user)
            # The second factor too: a password alone never opens the admin.
            and accounts.is_verified(user)
        )

    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        """One sign-in for the whole site, with its second factor and lockout: the admin's
        own password-only form is never shown."""
        if request.user.is_authenticated and not accounts.needs_second_factor(request.user):
            # Signed in fully, but not an administrator: no page here for them.
            raise PermissionDenied
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return redirect_to_login(next_url)

    def logout(self, request, extra_context=None):
        # As on the staff site, signing out ends every session of the account.
        if request.method == "POST" and request.user.is_authenticated:
            accounts.end_all_sessions(user=request.user)
        return super().logout(request, extra_context)

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)
        wrapped.access_policy = ADMIN_POLICY
        return wrapped

    def get_urls(self):
        urls = super().get_urls()
        _declare_admin_views(urls)
        return urls


def _declare_admin_views(patterns) -> None:
    """Declare the policy of every admin URL for the deny-by-default middleware.

    Django's admin wraps its views in admin_view (and so in has_permission) only when they are
    called, so the wrappers the URLs hold carry no declaration of their own. Every one of them
    is for system administrators, except the login page, which is public by nature and shows no
    personal data; it is a bound method, which takes no attributes, so it is wrapped.
    """
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _declare_admin_views(pattern.url_patterns)
        elif pattern.name == "login":
            pattern.callback = _declared_public(pattern.callback)
        elif not hasattr(pattern.callback, "access_policy"):
            pattern.callback.access_policy = ADMIN_POLICY


def _declared_public(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    wrapped.access_policy = ViewPolicy(name="public (admin login)", public=True)
    return wrapped


site = TmoAdminSite(name="admin")


class NamedRoutesAdmin(admin.ModelAdmin):
    """Drops Django's unnamed compatibility redirect (<id>/ to <id>/change/): every route the
    project serves has a name, so the authorization matrix can list and test each one."""

    def get_urls(self):
        return [pattern for pattern in super().get_urls() if pattern.name]


class AdministratorAdmin(NamedRoutesAdmin):
    """Settings the system administrator role manages (users, roles, patches).

    The role is the permission, as everywhere else in the system: Django's model-wide permissions
    and the superuser flag are not consulted, so they cannot widen anyone's reach.
    """

    def _is_administrator(self, request) -> bool:
        return Role.SYSTEM_ADMINISTRATOR in roles_of(request.user)

    def has_module_permission(self, request):
        return self._is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request):
        return self._is_administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)


class PolicyAdmin(NamedRoutesAdmin):
    """A model admin held to the model's access policy, auditing each change-page read.

    Read-only: records change through the workflows in each app's services.py (which validate,
    check markers and write their audit events), never by editing rows in the admin.
    """

    def get_queryset(self, request):
        return self.model.objects.visible_to(request.user)

    def has_module_permission(self, request):
        return True

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from tmo.audit import record_access

        # An object outside the policy is None here: Django then redirects to the index with a
        # "doesn't exist" message naming only the id, exactly as for a missing row.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            record_access(user=request.user, obj=obj)
        return super().change_view(request, object_id, form_url, extra_context)


class RoleUserAdmin(AdministratorAdmin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "is_active", "role_list")
    list_filter = ("is_active", "groups")
    # Roles are groups. The superuser flag and model-wide permissions grant nothing in this
    # system, so they are not offered; showing them would suggest they do.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("groups",)
    readonly_fields = ("last_login", "date_joined")

    @admin.display(description="Roles")
    def role_list(self, obj):
        valid = set(Role.values)
        names = sorted(group.name for group in obj.groups.all() if group.name in valid)
        return ", ".join(str(Role(name).label) for name in names)

    @admin.display(description="Roles")
    def own_roles(self, obj):
        roles = self.role_list(obj) or "None"
        return "%s. %s" % (roles, OWN_ROLES_MESSAGE)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_deleted_objects(self, objs, request):
        # An account named in audit entries is deactivated, never deleted (tmo.auditchain): the
        # admin lists it as protected, so the deletion is refused with the reason, not a 500.
        from tmo.auditchain import audited_actors

        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, [*protected, *audited_actors(list(objs))]

    @admin.action(description="Reset two-factor sign-in (lost phone and recovery codes)")
    def reset_two_factor(self, request, queryset):
        from django.core.exceptions import ValidationError

        for user in queryset:
            try:
                accounts.reset_second_factor(reset_by=request.user, user=user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    "%s will set up a new authenticator app at their next sign-in; their "
                    "sessions have ended." % user.get_username(),
                    messages.SUCCESS,
                )

    actions = ["reset_two_factor"]

    @staticmethod
    def _is_self(request, obj) -> bool:
        return obj is not None and obj.pk is not None and obj.pk == request.user.pk

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._is_self(request, obj):
            return fieldsets
        # On their own record an administrator sees their roles, with why they can't change them.
        return tuple(
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "own_roles" if field == "groups" else field for field in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if self._is_self(request, obj):
            # is_staff and is_active too: an administrator cannot lock themselves out either.
            readonly += ("own_roles", "groups", "is_staff", "is_active")
        return readonly

    def save_model(self, request, obj, form, change):
        if self._is_self(request, obj) and "groups" in request.POST:
            wanted = set(request.POST.getlist("groups"))
            held = {str(pk) for pk in obj.groups.values_list("pk", flat=True)}
            if wanted != held:
                self.message_user(request, OWN_ROLES_MESSAGE, messages.ERROR)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Defence in depth behind the read-only field: even a form that somehow carries groups
        # for the administrator's own account must not change them.
        if self._is_self(request, form.instance) and "groups" in form.cleaned_data:
            form.cleaned_data.pop("groups")
        super().save_related(request, form, formsets, change)
        forget_roles(form.instance)


class RoleGroupAdmin(AdministratorAdmin, GroupAdmin):
    """Roles are groups with fixed names that the code looks for: they are neither renamed nor
    deleted here, so no other group can take a role's name (and with it the role's reach).
    Model-wide permissions grant nothing in this system, so they are not offered."""

    list_display = ("name", "is_role", "member_count")
    fields = ("name",)
    filter_horizontal = ()

    @admin.display(description="Role used by the system", boolean=True)
    def is_role(self, obj):
        return obj.name in Role.values

    @admin.display(description="Members", ordering="members")
    def member_count(self, obj):
        return obj.members

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.name in Role.values:
            return ("name",)
        return ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in Role.values:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("user", distinct=True))


site.register(User, RoleUserAdmin)
site.register(Group, RoleGroupAdmin)
