"""One access policy per protected model of the register.

Each queryset's `scope(user)` is the only place that says which rows a role may see; views, search,
exports, downloads and admin pages all go through `Model.objects.visible_to(user)` or
`access.policy.get_visible_or_404`. Superusers and model-wide permissions get nothing extra.
"""

import datetime
import functools
import operator
import re

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from access.policy import (
    PolicyQuerySet,
    granted_scope,
    rows_in,
    rows_in_any,
    rows_of_people_in_scope,
)
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


def _patches_of(user):
    """The patches the user works, from the officers table alone: through the patch table too,
    every check of a home's patch made PostgreSQL plan a join of five tables (twice the time)."""
    return _model("Patch").officers.through.objects.filter(user=user).values("patch_id")


def _current_tenancy() -> Q:
    today = timezone.localdate()
    return Q(tenancy__end_date__isnull=True) | Q(tenancy__end_date__gte=today)


def unshown_encrypted(model, *, prefix: str = "", shown=()) -> list[str]:
    """A model's encrypted columns, for `.defer()` on a list that shows none of them (or only
    `shown`): every encrypted value read is decrypted, so a page of 25 people would otherwise
    decrypt some 250 values only to throw them away. `prefix` names them across a join."""
    from tmo.fields import encrypted_fields

    return [prefix + f.name for f in encrypted_fields(model) if f.name not in shown]


def listed_markers():
    """Markers as list rows show them (as tags, by kind): without their encrypted details."""
    return _model("Marker").objects.defer("details")


def _name_has(word: str, prefix: str = "") -> Q:
    return (
        Q(**{prefix + "first_name__icontains": word})
        | Q(**{prefix + "last_name__icontains": word})
        | Q(**{prefix + "preferred_name__icontains": word})
    )


def _address_has(word: str, prefix: str = "tenancy__property__") -> Q:
    return (
        Q(**{prefix + "address_line_1__icontains": word})
        | Q(**{prefix + "address_line_2__icontains": word})
        | Q(**{prefix + "postcode__icontains": word.replace(" ", "")})
        | Q(**{prefix + "postcode__icontains": word})
    )


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
        # Where the role's people come from, as (rows, the field naming the person).
        sources = []
        if Role.HOUSING_OFFICER in roles:
            sources.append(
                (members.filter(tenancy__property__patch__in=_patches_of(user)), "person")
            )
            sources.append((applications.filter(assigned_officer=user), "person"))
        if Role.REPAIRS_OFFICER in roles:
            sources.append(
                (
                    members.filter(
                        _current_tenancy(), tenancy__property__patch__in=_patches_of(user)
                    ),
                    "person",
                )
            )
        if Role.FINANCE_OFFICER in roles:
            sources.append((members.all(), "person"))
        if Role.HR_OFFICER in roles:
            sources.append((_model("StaffRecord").objects.all(), "person"))
            sources.append((_model("JobApplication").objects.all(), "person"))
        if Role.CONTRACTS_OFFICER in roles:
            sources.append((_model("ContractorContact").objects.all(), "person"))
        if Role.SENIOR_OFFICER in roles:
            sources.append((members.all(), "person"))
            sources.append((applications.all(), "person"))
            sources.append((_model("PersonUserObjectPermission").objects.all(), "content_object"))
        return granted_scope(self.model, user, "view_person") | rows_in_any(sources)

    def search(self, term: str):
        """Name or address words, or an exact NI number, email or phone through the blind indexes."""
        from tmo import crypto

        term = " ".join(COMPACT_POSTCODE.sub(r"\1 \2", word) for word in term.split())
        if not term:
            return self.none()
        words = term.split()
        # A person matches when every word is in their name, or when one home of theirs (now or
        # before) holds every word not in their name. Homes are found from the few addresses
        # that match a word, not by joining every person to every household they were in.
        in_name = Q()
        for word in words:
            in_name &= _name_has(word)
        homes = _model("HouseholdMember").objects.filter(
            functools.reduce(operator.or_, (_address_has(word) for word in words))
        )
        for word in words:
            homes = homes.filter(_name_has(word, "person__") | _address_has(word))
        # The matches are one UNION of small index-answered parts (trigram indexes, records
        # migration 0006; blind indexes), which the person table then joins: an OR of the parts
        # would make PostgreSQL test every person on the register against each of them.
        people = self.model._base_manager
        parts = [people.filter(in_name).values("pk"), homes.values("person")]
        for field_name, normaliser in (
            ("ni_number_index", crypto.normalise_compact),
            ("email_index", crypto.normalise_text),
            ("phone_index", crypto.normalise_phone),
        ):
            normalised = normaliser(term)
            if normalised:
                parts.append(
                    people.filter(**{field_name: crypto.blind_index(normalised)}).values("pk")
                )
        # A model's default ordering is not allowed inside a compound statement.
        parts = [part.order_by() for part in parts]
        return self.filter(pk__in=parts[0].union(*parts[1:]))

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
        return rows_of_people_in_scope(_model("Person"), user)


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
            query |= Q(property__patch__in=_patches_of(user))
        if Role.REPAIRS_OFFICER in roles:
            today = timezone.localdate()
            query |= Q(property__patch__in=_patches_of(user)) & (
                Q(end_date__isnull=True) | Q(end_date__gte=today)
            )
        return rows_in(self.model.objects.filter(query))


class HousingApplicationQuerySet(PolicyQuerySet):
    def scope(self, user) -> Q:
        roles = roles_of(user)
        if roles & {Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER}:
            return Q()
        if Role.HOUSING_OFFICER in roles:
            return Q(assigned_officer=user) | rows_of_people_in_scope(_model("Person"), user)
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
