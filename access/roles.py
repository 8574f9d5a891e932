"""Roles are Django groups with fixed names; a user may hold several."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HOUSING_OFFICER = "housing_officer", _("Housing officer")
    REPAIRS_OFFICER = "repairs_officer", _("Repairs officer")
    FINANCE_OFFICER = "finance_officer", _("Finance officer")
    HR_OFFICER = "hr_officer", _("HR officer")
    CONTRACTS_OFFICER = "contracts_officer", _("Contracts officer")
    SENIOR_OFFICER = "senior_officer", _("Senior officer")
    DATA_PROTECTION_LEAD = "data_protection_lead", _("Data protection lead")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    TENANT = "tenant", _("Tenant")
    SYSTEM_ADMINISTRATOR = "system_administrator", _("System administrator")


STAFF_ROLES = frozenset(
    {
        Role.HOUSING_OFFICER,
        Role.REPAIRS_OFFICER,
        Role.FINANCE_OFFICER,
        Role.HR_OFFICER,
        Role.CONTRACTS_OFFICER,
        Role.SENIOR_OFFICER,
        Role.DATA_PROTECTION_LEAD,
    }
)
# Roles that by default see no confidential record at all.
NO_RECORD_ROLES = frozenset({Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR, Role.TENANT})


def roles_of(user) -> frozenset[str]:
    """The user's roles, read once per request and kept on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_tmo_roles", None)
    if cached is None:
        valid = set(Role.values)
        cached = frozenset(
            name for name in user.groups.values_list("name", flat=True) if name in valid
        )
        user._tmo_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user) -> bool:
    return bool(roles_of(user) & STAFF_ROLES)


def forget_roles(user) -> None:
    if hasattr(user, "_tmo_roles"):
        del user._tmo_roles
