"""The household pages: tenancies, who lives in each home, and the homes themselves."""

import dataclasses
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from records import services
from records.forms.households import HouseholdMemberForm, PersonSearchForm, TenancyFilterForm
from records.models import (
    ContactRecord,
    HouseholdMember,
    Marker,
    Person,
    Property,
    Tenancy,
)
from records.policies import (
    RESIDENT_EDITOR_ROLES,
    listed_markers,
    person_field_allowed,
    unshown_encrypted,
)
from records.views.common import paginate

TENANCY_ROLES = (
    Role.HOUSING_OFFICER,
    Role.REPAIRS_OFFICER,
    Role.FINANCE_OFFICER,
    Role.SENIOR_OFFICER,
    Role.DATA_PROTECTION_LEAD,
)
RECENT_CONTACTS = 10
SEARCH_RESULTS = 20
ADULT_AGE = 18
Relationship = HouseholdMember.Relationship


def _visible_members(user):
    """Household members the user may see, with each person and their markers, for prefetching."""
    return (
        HouseholdMember.objects.visible_to(user)
        .select_related("person")
        .prefetch_related("person__markers")
    )


def _listed_members(user):
    """`_visible_members` for a list of households, which names people and shows their markers
    but none of their encrypted details: those are left unread."""
    return (
        HouseholdMember.objects.visible_to(user)
        .select_related("person")
        .defer(*unshown_encrypted(Person, prefix="person__"))
        .prefetch_related(Prefetch("person__markers", queryset=listed_markers()))
    )


def _is_current(member: HouseholdMember, today: datetime.date) -> bool:
    return member.end_date is None or member.end_date >= today


def _household_order(member: HouseholdMember):
    # Tenants first, then partners, then everyone else in the order they joined.
    rank = {Relationship.TENANT: 0, Relationship.JOINT_TENANT: 0, Relationship.PARTNER: 1}
    return (rank.get(member.relationship, 2), member.start_date, member.pk)


def _annotate_household(tenancy: Tenancy, today: datetime.date) -> None:
    """Set the members a list row shows: who lives there now, or who lived there at the end."""
    members = sorted(tenancy.members.all(), key=_household_order)
    if tenancy.is_current():
        members = [m for m in members if _is_current(m, today)]
    tenancy.household = members
    tenancy.tenants = [m for m in members if m.is_tenant]
    # Markers must show wherever a person could be affected; a list row names only tenants.
    tenancy.others_with_markers = sum(
        1 for m in members if not m.is_tenant and m.person.active_markers()
    )


@dataclasses.dataclass(frozen=True)
class BedroomNeed:
    """The bedroom standard for the current household against the bedrooms the home has."""

    needed: int
    available: int
    undated_children: int

    @property
    def overcrowded(self) -> bool:
        return self.needed > self.available

    @property
    def shortfall(self) -> int:
        return max(self.needed - self.available, 0)

    @property
    def spare(self) -> int:
        return max(self.available - self.needed, 0)


def bedrooms_needed(members: list[HouseholdMember], today: datetime.date) -> tuple[int, int]:
    """The bedroom standard (as in the English Housing Survey), from relationships and ages.

    One bedroom for the tenant and their partner (or two joint tenants, taken to be a couple),
    one for each other person aged 21 or over, lodger or live-in carer, one for each pair of
    10 to 20 year olds, a remaining 10 to 20 year old sharing with a child under 10, and one for
    each pair of remaining children under 10. Sex is not recorded, so 10 to 20 year olds are
    assumed able to share: the result is the fewest bedrooms the household can need. A child with
    no recorded date of birth is counted as under 10 for the same reason.

    Returns the bedrooms needed and the number of children with no date of birth.
    """
    tenants = [m for m in members if m.relationship in HouseholdMember.TENANT_RELATIONSHIPS]
    partners = [m for m in members if m.relationship == Relationship.PARTNER]
    couple = tenants[:1] + (partners[:1] or tenants[1:2])
    own_room_relationships = {
        Relationship.TENANT,
        Relationship.JOINT_TENANT,
        Relationship.PARTNER,
        Relationship.LODGER,
        Relationship.CARER,
    }
    rooms = 1 if couple else 0
    teenagers = under_tens = undated = 0
    for member in members:
        if member in couple:
            continue
        age = member.person.age_on(today)
        if member.relationship in own_room_relationships:
            rooms += 1
        elif age is None:
            if member.relationship == Relationship.CHILD:
                undated += 1
                under_tens += 1
            else:
                rooms += 1
        elif age >= 21:
            rooms += 1
        elif age >= 10:
            teenagers += 1
        else:
            under_tens += 1
    rooms += teenagers // 2
    if teenagers % 2:
        rooms += 1
        under_tens = max(under_tens - 1, 0)
    rooms += (under_tens + 1) // 2
    return rooms, undated


@dataclasses.dataclass
class MemberRow:
    """One household member as the page shows them to this user."""

    member: HouseholdMember
    age: int | None
    is_child: bool
    can_open_person: bool
    markers: list[Marker]
    is_current: bool

    @property
    def person(self) -> Person:
        return self.member.person

    @property
    def has_safety_marker(self) -> bool:
        return any(marker.is_safety for marker in self.markers)


@roles_required(*TENANCY_ROLES)
def tenancy_list(request):
    user = request.user
    visible = Tenancy.objects.visible_to(user)
    form = TenancyFilterForm(request.GET, tenancies=visible)
    tenancies = (
        form.filter(visible)
        .select_related("property__patch")
        .prefetch_related(Prefetch("members", queryset=_listed_members(user)))
    )
    page = paginate(request, tenancies)
    today = timezone.localdate()
    for tenancy in page:
        _annotate_household(tenancy, today)
    return render(
        request,
        "records/tenancy_list.html",
        {
            "form": form,
            "page_obj": page,
            "status": form.chosen_status,
        },
    )


@roles_required(*TENANCY_ROLES)
def tenancy_detail(request, pk):
    user = request.user
    tenancy = get_visible_or_404(Tenancy.objects.select_related("property__patch"), user, pk=pk)
    services.record_open(user=user, obj=tenancy)
    today = timezone.localdate()
    members = sorted(_visible_members(user).filter(tenancy=tenancy), key=_household_order)
    openable = set(
        Person.objects.visible_to(user)
        .filter(pk__in=[m.person_id for m in members])
        .values_list("pk", flat=True)
    )
    show_ages = person_field_allowed(user, "date_of_birth")
    rows = []
    for member in members:
        age = member.person.age_on(today) if show_ages else None
        rows.append(
            MemberRow(
                member=member,
                age=age,
                is_child=member.relationship == Relationship.CHILD
                or (age is not None and age < ADULT_AGE),
                can_open_person=member.person_id in openable,
                markers=member.person.active_markers(),
                is_current=_is_current(member, today),
            )
        )
    current_rows = [row for row in rows if row.is_current]
    bedroom_need = None
    if show_ages and current_rows:
        needed, undated = bedrooms_needed([row.member for row in current_rows], today)
        bedroom_need = BedroomNeed(
            needed=needed, available=tenancy.property.bedrooms, undated_children=undated
        )
    contacts = (
        ContactRecord.objects.visible_to(user)
        .filter(tenancy=tenancy)
        .select_related("person")[:RECENT_CONTACTS]
    )
    return render(
        request,
        "records/tenancy_detail.html",
        {
            "tenancy": tenancy,
            "property": tenancy.property,
            "current_rows": current_rows,
            "former_rows": [row for row in rows if not row.is_current],
            "marked_rows": [row for row in current_rows if row.markers],
            "show_ages": show_ages,
            "bedroom_need": bedroom_need,
            "contacts": contacts,
            "can_add_member": bool(roles_of(user) & RESIDENT_EDITOR_ROLES),
        },
    )


@roles_required(*RESIDENT_EDITOR_ROLES)
def household_member_add(request, pk):
    user = request.user
    tenancy = get_visible_or_404(Tenancy.objects.select_related("property"), user, pk=pk)
    people = Person.objects.visible_to(user)
    search = PersonSearchForm(request.POST if request.method == "POST" else request.GET)
    term = search.cleaned_data["q"] if search.is_valid() else ""
    if request.method == "POST":
        form = HouseholdMemberForm(request.POST, people=people, tenancy=tenancy)
        if form.is_valid():
            person = form.cleaned_data["person"]
            try:
                services.household_member_add(
                    actor=user,
                    tenancy=tenancy,
                    person=person,
                    relationship=form.cleaned_data["relationship"],
                    start_date=form.cleaned_data["start_date"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, "%s has been added to the household." % person.full_name)
                return redirect("tenancy_detail", pk=tenancy.pk)
    else:
        form = HouseholdMemberForm(people=people, tenancy=tenancy)
    results = []
    if term:
        homes = HouseholdMember.objects.filter(
            tenancy__in=Tenancy.objects.visible_to(user)
        ).select_related("tenancy__property")
        results = list(
            people.search(term).prefetch_related(
                "markers", Prefetch("household_memberships", queryset=homes)
            )[:SEARCH_RESULTS]
        )
    if results:
        existing = set(tenancy.members.values_list("person_id", flat=True))
        for person in results:
            person.already_member = person.pk in existing
    return render(
        request,
        "records/household_member_add.html",
        {
            "tenancy": tenancy,
            "form": form,
            "search": search,
            "term": term,
            "results": results,
            "selected": str(form["person"].value() or ""),
            "show_dates_of_birth": person_field_allowed(user, "date_of_birth"),
            "relationship_choices": HouseholdMember.Relationship.choices,
            "searched": bool(term),
            "too_many": len(results) >= SEARCH_RESULTS,
        },
    )


@roles_required(*sorted(STAFF_ROLES))
def property_detail(request, pk):
    user = request.user
    home = get_visible_or_404(Property.objects.select_related("patch"), user, pk=pk)
    # HR and contracts officers may look a home up, but its households are not their business.
    can_see_tenancies = bool(roles_of(user) & set(TENANCY_ROLES))
    tenancies = []
    if can_see_tenancies:
        today = timezone.localdate()
        tenancies = list(
            Tenancy.objects.visible_to(user)
            .filter(property=home)
            .prefetch_related(Prefetch("members", queryset=_listed_members(user)))
        )
        for tenancy in tenancies:
            _annotate_household(tenancy, today)
    return render(
        request,
        "records/property_detail.html",
        {"property": home, "tenancies": tenancies, "can_see_tenancies": can_see_tenancies},
    )
