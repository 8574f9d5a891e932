"""The administrators' site. It manages users, roles and patch assignments; it is not a back door
into records: every record admin fetches through the same policies as the staff site, so a system
administrator (who holds no record-reading role) sees none."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from access.decorators import ViewPolicy
from access.roles import Role, roles_of

ADMIN_POLICY = ViewPolicy(
    name="roles:system_administrator (admin site)", roles=frozenset({Role.SYSTEM_ADMINISTRATOR})
)


class TmoAdminSite(admin.AdminSite):
    site_header = "Records administration"
    site_title = "Records administration"
    index_title = "Users, roles and settings"

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and Role.SYSTEM_ADMINISTRATOR in roles_of(user)

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)
        wrapped.access_policy = ADMIN_POLICY
        return wrapped

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            callback = getattr(pattern, "callback", None)
            if callback is not None and not hasattr(callback, "access_policy"):
                # The login page: public by nature, shows no personal data.
                callback.access_policy = ViewPolicy(name="public (admin login)", public=True)
        return urls


site = TmoAdminSite(name="admin")


class PolicyAdmin(admin.ModelAdmin):
    """A model admin held to the model's access policy, auditing each change-page read."""

    def get_queryset(self, request):
        return self.model.objects.visible_to(request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from tmo.audit import record_access

        obj = self.get_object(request, object_id)
        if obj is not None:
            record_access(user=request.user, obj=obj)
        return super().change_view(request, object_id, form_url, extra_context)


class RoleUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "is_active", "role_list")
    list_filter = ("is_active", "groups")

    @admin.display(description="Roles")
    def role_list(self, obj):
        return ", ".join(Role(name).label for name in sorted(roles_of(obj)))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


site.register(User, RoleUserAdmin)
site.register(Group, GroupAdmin)
