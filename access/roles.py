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


def remove_role(user, role: str) -> bool:
    """Take one role from a user; True if they held it. Auditlog records the change of groups on
    the account, and the next request reads the roles afresh."""
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=role).first()
    if group is None or not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    forget_roles(user)
    return True


# What each role is for, in plain English: the one place the published code of confidentiality
# and the inventory (access.published) take it from. Which records each role reaches is not
# written here: it is read from the access policies themselves, so it cannot drift from them.
ROLE_DESCRIPTIONS = {
    Role.HOUSING_OFFICER: "Manages the tenancies in their patch: the households living there now "
    "and before, the housing applications assigned to them, and the people assigned to them "
    "one by one. Records equality monitoring answers with residents.",
    Role.REPAIRS_OFFICER: "Arranges repairs to the homes in their patch: sees the households "
    "living there now, and sends a contractor only what a job needs.",
    Role.FINANCE_OFFICER: "Collects rent and deals with arrears for every tenancy: sees every "
    "household, past and present, and the bank details needed for Direct Debit.",
    Role.HR_OFFICER: "Keeps the records of staff and job applicants, which housing staff cannot see.",
    Role.CONTRACTS_OFFICER: "Procures and manages contractors: their details, their staff and "
    "their bids, which are commercially confidential.",
    Role.SENIOR_OFFICER: "Oversees housing management: sees every household and application, "
    "decides requests from other organisations for information about residents, decides "
    "committee access requests, and oversees rights requests.",
    Role.DATA_PROTECTION_LEAD: "Grants and reviews access, handles breaches, rights requests and "
    "retention, and keeps this code up to date. May open any record; every opening is recorded "
    "in the audit log as anyone else's is.",
    Role.COMMITTEE_MEMBER: "A resident on the management committee. Sees no confidential record "
    "unless the committee cannot decide a matter without it; then only the records named in a "
    "grant approved by a senior officer or the data protection lead, for a limited time, on the "
    "meeting papers page. Sees the meetings they attended and anonymised figures.",
    Role.TENANT: "A resident using the online portal: makes rights requests and sees only their "
    "own requests and the answers sent to them.",
    Role.SYSTEM_ADMINISTRATOR: "Runs the system through its administration pages (accounts, roles "
    "and settings). Opens no confidential record.",
}
