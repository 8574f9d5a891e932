"""Who may see disclosure records: the staff member who logged a request, and the senior officers
and data protection lead who decide them. Anyone else gets a 404."""

from django.apps import apps
from django.db.models import Q

from access.policy import NOTHING, PolicyQuerySet, rows_in, rows_of_people_in_scope
from access.roles import STAFF_ROLES, Role, roles_of

OVERSIGHT_ROLES = {Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD}


class DisclosureRequestQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        roles = roles_of(user)
        if roles & OVERSIGHT_ROLES:
            return Q()
        if roles & STAFF_ROLES:
            return Q(logged_by=user)
        return NOTHING


class EvidenceQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        requests = apps.get_model("disclosures", "DisclosureRequest").objects.in_scope(user)
        return rows_in(requests, outer="request")


class WorkOrderQuerySet(PolicyQuerySet):
    """Work orders follow the person: staff who can see the tenant can see the order."""

    def scope(self, user) -> Q:
        if not roles_of(user) & STAFF_ROLES:
            return NOTHING
        return rows_of_people_in_scope(apps.get_model("records", "Person"), user)
