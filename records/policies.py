"""One access policy per protected model of the register.

Each queryset's `scope(user)` is the only place that says which rows a role may see; views, search,
exports, downloads and admin pages all go through `Model.objects.visible_to(user)` or
`access.policy.get_visible_or_404`. Superusers and model-wide permissions get nothing extra.
"""

import datetime
import re

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from access.policy import PolicyQuerySet, granted_scope
from access.roles import Role, roles_of

# Sensitive Person fields, and the roles whose work needs them. Anyone who may see the person sees
# the rest (name, contact details) and the markers.
PERSON_FIELD_ROLES = {
    "date_of_birth": {
        Role.HOUSING_OFFICER,
        Role.FINANCE_OFFICER,
        Role.HR_OFFICER,
        Role.SENIOR_OFFICER,
        Role.DATA_PROTECTION_LEAD,
    },
    "ni_number": {Role.FINANCE_OFFICER, Role.HR_OFFICER, Role.DATA_PROTECTION_LEAD},
    "bank_account_name": {Role.FINANCE_OFFICER, Role.DATA_PROTECTION_LEAD},
    "bank_sort_code": {Role.FINANCE_OFFICER, Role.DATA_PROTECTION_LEAD},
    "bank_account_number": {Role.FINANCE_OFFICER, Role.DATA_PROTECTION_LEAD},
}
SENSITIVE_INFORMATION_ROLES = {
    Role.HOUSING_OFFICER,
    Role.SENIOR_OFFICER,
    Role.DATA_PROTECTION_LEAD,
}
# A person's equality monitoring answers: the housing officer who records them with the person,
# and the data protection lead. Nobody else needs one person's answers; the committee and senior
# officers see anonymised counts only.
EQUALITIES_ROLES = {Role.HOUSING_OFFICER, Role.DATA_PROTECTION_LEAD}
# Roles that create and edit resident records (people, households, contacts, documents).
RESIDENT_EDITOR_ROLES = {
    Role.HOUSING_OFFICER,
    Role.REPAIRS_OFFICER,
    Role.FINANCE_OFFICER,
    Role.SENIOR_OFFICER,
    Role.DATA_PROTECTION_LEAD,
}


# A UK postcode typed without its space ("se10ab"): the stored postcodes have the space.
COMPACT_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$", re.IGNORECASE)


def _model(name):
    return apps.get_model("records", name)


def _current_tenancy() -> Q:
    today = timezone.localdate()
    return Q(tenancy__end_date__isnull=True) | Q(tenancy__end_date__gte=today)


def person_field_allowed(user, field_name: str) -> bool:
    roles = PERSON_FIELD_ROLES.get(field_name)
    return roles is None or bool(roles_of(user) & roles)


class PersonQuerySet(PolicyQuerySet):
    # Read by the published code and inventory (access.published): fields only some roles see.
    field_roles = PERSON_FIELD_ROLES

    def scope(self, user) -> Q:
        roles = roles_of(user)
        if Role.DATA_PROTECTION_LEAD in roles:
            return Q()
        members = _model("HouseholdMember").objects
        applications = _model("HousingApplication").objects
        query = granted_scope(self.model, user, "view_person")
        if Role.HOUSING_OFFICER in roles:
            query |= Q(
                pk__in=members.filter(tenancy__property__patch__officers=user).values("person")
            )
            query |= Q(pk__in=applications.filter(assigned_officer=user).values("person"))
        if Role.REPAIRS_OFFICER in roles:
            query |= Q(
                pk__in=members.filter(
                    _current_tenancy(), tenancy__property__patch__officers=user
                ).values("person")
            )
        if Role.FINANCE_OFFICER in roles:
            query |= Q(pk__in=members.values("person"))
        if Role.HR_OFFICER in roles:
            query |= Q(pk__in=_model("StaffRecord").objects.values("person"))
            query |= Q(pk__in=_model("JobApplication").objects.values("person"))
        if Role.CONTRACTS_OFFICER in roles:
            query |= Q(pk__in=_model("ContractorContact").objects.values("person"))
        if Role.SENIOR_OFFICER in roles:
            query |= Q(pk__in=members.values("person"))
            query |= Q(pk__in=applications.values("person"))
            query |= Q(pk__in=_model("PersonUserObjectPermission").objects.values("content_object"))
        return query

    def search(self, term: str):
        """Name or address words, or an exact NI number, email or phone through the blind indexes."""
        from tmo import crypto

        term = " ".join(COMPACT_POSTCODE.sub(r"\1 \2", word) for word in term.split())
        if not term:
            return self.none()
        query = Q()
        for word in term.split():
            query &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(
                    household_memberships__tenancy__property__in=_model("Property").objects.filter(
                        Q(address_line_1__icontains=word)
                        | Q(address_line_2__icontains=word)
                        | Q(postcode__icontains=word.replace(" ", ""))
                        | Q(postcode__icontains=word)
                    )
                )
            )
        exact = Q()
        for field_name, normaliser in (
            ("ni_number_index", crypto.normalise_compact),
            ("email_index", crypto.normalise_text),
            ("phone_index", crypto.normalise_phone),
        ):
            normalised = normaliser(term)
            if normalised:
                exact |= Q(**{field_name: crypto.blind_index(normalised)})
        matches = self.filter(query | exact) if exact else self.filter(query)
        return self.filter(pk__in=matches.values("pk"))

    def due_for_reconfirmation(self, today: datetime.date | None = None):
        """People with a contact detail unconfirmed or confirmed over CONTACT_RECONFIRM_DAYS ago.

        Encrypted values cannot be filtered, so presence is read from the blind index: an email or
        phone number is held when its index is set (it is empty for a blank value), and then a
        missing or old confirmation date makes it due. The correspondence address has no index;
        person_save stamps it whenever one is entered, so a null date there means "no separate
        address" and only an old date makes it due, as Person.stale_contact_details agrees.
        """
        today = today or timezone.localdate()
        cut_off = today - datetime.timedelta(days=settings.CONTACT_RECONFIRM_DAYS)
        email_due = ~Q(email_index="") & (
            Q(email_confirmed_on__isnull=True) | Q(email_confirmed_on__lt=cut_off)
        )
        phone_due = ~Q(phone_index="") & (
            Q(phone_confirmed_on__isnull=True) | Q(phone_confirmed_on__lt=cut_off)
        )
        return self.filter(email_due | phone_due | Q(address_confirmed_on__lt=cut_off))


class PersonLinkedQuerySet(PolicyQuerySet):
    """Rows about one person are visible exactly when the person is."""

    def scope(self, user) -> Q:
        return Q(person__in=_model("Person").objects.in_scope(user).values("pk"))


class DocumentQuerySet(PersonLinkedQuerySet):
    pass


class SensitiveInformationQuerySet(PersonLinkedQuerySet):
    def scope(self, user) -> Q:
        if not roles_of(user) & SENSITIVE_INFORMATION_ROLES:
            return Q(pk__in=[])
        return super().scope(user)


class EqualityMonitoringQuerySet(PersonLinkedQuerySet):
    """Equality answers of the people the user may see, for the roles that record them; never
    through a committee grant, since no committee decision needs one person's answers."""

    def scope(self, user) -> Q:
        if not roles_of(user) & EQUALITIES_ROLES:
            return Q(pk__in=[])
        return super().scope(user)

    def visible_to(self, user):
        return self.in_scope(user)


class TenancyQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        roles = roles_of(user)
        if roles & {Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER, Role.FINANCE_OFFICER}:
            return Q()
        query = Q(pk__in=[])
        if Role.HOUSING_OFFICER in roles:
            query |= Q(property__patch__officers=user)
        if Role.REPAIRS_OFFICER in roles:
            today = timezone.localdate()
            query |= Q(property__patch__officers=user) & (
                Q(end_date__isnull=True) | Q(end_date__gte=today)
            )
        return Q(pk__in=self.model.objects.filter(query).values("pk"))


class HousingApplicationQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        roles = roles_of(user)
        if roles & {Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER}:
            return Q()
        if Role.HOUSING_OFFICER in roles:
            return Q(assigned_officer=user) | Q(
                person__in=_model("Person").objects.in_scope(user).values("pk")
            )
        return Q(pk__in=[])


class HRQuerySet(PolicyQuerySet):
    """Staff records and job applications: HR and the data protection lead only."""

    def scope(self, user) -> Q:
        if roles_of(user) & {Role.HR_OFFICER, Role.DATA_PROTECTION_LEAD}:
            return Q()
        return Q(pk__in=[])


class ContractsQuerySet(PolicyQuerySet):
    """Contractors, their contacts and their bids: contracts officers and the DPO only."""

    def scope(self, user) -> Q:
        if roles_of(user) & {Role.CONTRACTS_OFFICER, Role.DATA_PROTECTION_LEAD}:
            return Q()
        return Q(pk__in=[])


class PropertyQuerySet(PolicyQuerySet):
    """Homes are not personal data on their own, but the register is for staff only."""

    def scope(self, user) -> Q:
        from access.roles import STAFF_ROLES

        if roles_of(user) & STAFF_ROLES:
            return Q()
        return Q(pk__in=[])
