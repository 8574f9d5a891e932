"""Give a user a role from the command line: how the first system administrator gets theirs."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from access.roles import Role


class Command(BaseCommand):
    help = (
        "Add a role to a user, e.g. `grant_role alex system_administrator` after createsuperuser. "
        "Roles: " + ", ".join(Role.values)
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)

    @transaction.atomic
    def handle(self, *args, username, role, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError("There is no user called %r." % username) from exc
        user.groups.add(Group.objects.get(name=role))
        if role == Role.SYSTEM_ADMINISTRATOR and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        self.stdout.write("%s now has the role %s." % (username, Role(role).label))
