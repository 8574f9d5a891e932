from django.core.checks import Error, register
from django.db import DatabaseError

from access.roles import Role
from tmo import datamap


@register()
def no_model_wide_view_for_committee_or_admin(app_configs, **kwargs):
    """Committee members and administrators must never hold a model-wide right to read personal
    data: their access to any confidential record comes only from a specific, live grant."""
    from django.contrib.auth.models import Permission

    personal = {entry.model for entry in datamap.personal_entries()}
    errors = []
    try:
        held = list(
            Permission.objects.filter(
                group__name__in=[Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR],
                codename__startswith="view_",
            )
            .select_related("content_type")
            .values_list("group__name", "content_type__app_label", "content_type__model")
        )
    except DatabaseError:
        return []  # no tables yet (before the first migrate): nothing can be held
    for group_name, app_label, model_name in held:
        model = _model(app_label, model_name)
        if model in personal:
            errors.append(
                Error(
                    "Group '%s' holds a model-wide view permission on %s, which holds personal data."
                    % (group_name, model._meta.label),
                    hint="Remove the permission; grant specific objects for a specific decision instead.",
                    id="access.E001",
                )
            )
    return errors


def _model(app_label, model_name):
    from django.apps import apps

    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None
