from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


def create_role_groups(sender=None, using="default", **kwargs):
    """Every role is a group with a fixed name. Made after every migrate and flush, so a test
    database built without migrations, or emptied by a transactional test, still has them."""
    from django.contrib.auth.models import Group

    from access.roles import Role

    for role in Role.values:
        Group.objects.using(using).get_or_create(name=role)


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access and audit"

    def ready(self):
        from access import (
            checks,  # noqa: F401
            services,  # noqa: F401  (registers the dashboard panels)
        )
        from access.policy import forget_policy_reads

        post_migrate.connect(create_role_groups, sender=self)
        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(forget_policy_reads, dispatch_uid="access.policy.forget_policy_reads")
