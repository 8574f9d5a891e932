"""The shape every object policy takes: a queryset scope and its object twin.

A protected model's manager is built from `PolicyQuerySet`; its `scope(user)` says which rows the
user may see. `visible_to(user)` answers "which?", `get_visible_or_404` answers "this one?" with the
same rule, and anything outside scope is a 404 indistinguishable from a row that does not exist.
Superuser status and model-wide permissions grant nothing here.
"""

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.http import Http404
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model


class PolicyQuerySet(models.QuerySet):
    def scope(self, user) -> Q:
        raise NotImplementedError("%s must say which rows a user may see" % type(self).__name__)

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(self.scope(user))


def granted_scope(model, user, codename: str) -> Q:
    """Rows the user holds an object permission on, directly or through a group (guardian's
    direct foreign-key tables), never through a global permission."""
    user_table = get_user_obj_perms_model(model)
    group_table = get_group_obj_perms_model(model)
    direct = user_table.objects.filter(user=user, permission__codename=codename)
    through_groups = group_table.objects.filter(
        group__in=Group.objects.filter(user=user), permission__codename=codename
    )
    return Q(pk__in=direct.values("content_object")) | Q(
        pk__in=through_groups.values("content_object")
    )


def get_visible_or_404(queryset, user, **lookup):
    """The object twin of `visible_to`: one object in the user's scope, or 404."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
