"""The person-centred pages: search, the person page, and the forms that add to a person's record."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from access.decorators import roles_required
from access.history import history_of
from access.policy import about_one_person, get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from records import services
from records.forms.people import (
    ContactDetailsConfirmForm,
    MarkerForm,
    PersonForm,
    RepresentativeForm,
    SensitiveInformationForm,
    format_ni_number,
)
from records.models import (
    ContactRecord,
    Document,
    EqualityMonitoring,
    HouseholdMember,
    Person,
    SensitiveInformation,
    Tenancy,
)
from records.policies import (
    EQUALITIES_ROLES,
    RESIDENT_EDITOR_ROLES,
    SENSITIVE_INFORMATION_ROLES,
    listed_markers,
    person_field_allowed,
    unshown_encrypted,
)
from records.views.common import paginate
from tmo.concurrency import StaleEdit

# Any staff member may open a person they can reach (HR its staff, contracts its contractors'
# people); the register's lists and search are for resident work.
PERSON_READER_ROLES = STAFF_ROLES
RESIDENT_LIST_ROLES = RESIDENT_EDITOR_ROLES
SEARCH_MAX_LENGTH = 100


def with_summary(people, *, shown=()):
    """Load what a list of people shows (names, markers, homes) in a fixed number of queries,
    leaving unread the encrypted details it does not show (all but `shown`)."""
    return people.defer(*unshown_encrypted(Person, shown=shown)).prefetch_related(
        Prefetch("markers", queryset=listed_markers()),
        Prefetch(
            "household_memberships",
            queryset=HouseholdMember.objects.select_related("tenancy__property"),
        ),
    )


def current_home(person: Person):
    """The tenancy the person lives in today, from prefetched memberships; None if none."""
    today = timezone.localdate()
    for membership in person.household_memberships.all():
        ended = membership.end_date is not None and membership.end_date < today
        if not ended and membership.tenancy.is_current():
            return membership.tenancy
    return None


def _person_for_form(request, pk):
    return get_visible_or_404(Person.objects.prefetch_related("markers"), request.user, pk=pk)


@roles_required(*RESIDENT_LIST_ROLES)
def person_search(request):
    query = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
    page = None
    if query:
        people = with_summary(Person.objects.visible_to(request.user).search(query))
        page = paginate(request, people)
        for person in page.object_list:
            person.home = current_home(person)
    return render(
        request,
        "records/person_search.html",
        {
            "query": query,
            "page": page,
            "may_create": bool(roles_of(request.user) & RESIDENT_EDITOR_ROLES),
        },
    )


@roles_required(*RESIDENT_EDITOR_ROLES)
def person_create(request):
    form = PersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_save(actor=request.user, person=form.save(commit=False))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "%s has been added." % person.full_name)
            return redirect("person_detail", pk=person.pk)
    return render(request, "records/person_form.html", {"form": form, "person": None})


@roles_required(*RESIDENT_EDITOR_ROLES)
def person_edit(request, pk):
    person = _person_for_form(request, pk)
    form = PersonForm(request.POST or None, instance=person, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_save(
                actor=request.user, person=form.save(commit=False), edit_version=form.drawn_version
            )
        except StaleEdit as stale:
            form.show_stale(stale)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The details for %s have been updated." % person.full_name)
            return redirect("person_detail", pk=person.pk)
    # Validation copies the posted values onto the instance; the page header shows the stored name.
    person = _person_for_form(request, pk) if form.errors else person
    # The form shows the record's details, so showing it is a read like the person page.
    services.person_open(user=request.user, person=person)
    return render(request, "records/person_form.html", {"form": form, "person": person})


def _render_person(request, person, confirm_form=None):
    user = request.user
    services.person_open(user=user, person=person)
    with about_one_person(person):
        context = person_page_context(
            user,
            person,
            rows=lambda model: model.objects.visible_to(user),
            confirm_form=confirm_form,
        )
    if context["equality_answers"] is not None:
        services.record_open(user=user, obj=context["equality_answers"])
    return render(request, "records/person_detail.html", context)


def person_page_context(user, person, *, rows, confirm_form=None) -> dict:
    """What the person page shows. `rows(model)` gives the rows of a linked model the page may
    draw on: the model's policy for the user on the live page (the benchmark's baseline page
    passes every row, to time the page without its safeguards)."""
    today = timezone.localdate()
    stale = set(person.stale_contact_details(today))
    contact_details = [
        {
            "key": key,
            "label": label,
            "value": value,
            "confirmed_on": confirmed_on,
            "due": key in stale,
        }
        for key, label, value, confirmed_on in (
            ("email", "Email address", person.email, person.email_confirmed_on),
            ("phone", "Phone number", person.phone, person.phone_confirmed_on),
            (
                "address",
                "Correspondence address",
                person.correspondence_address,
                person.address_confirmed_on,
            ),
        )
    ]
    fields = {
        name: person_field_allowed(user, name)
        for name in (
            "date_of_birth",
            "ni_number",
            "bank_account_name",
            "bank_sort_code",
            "bank_account_number",
        )
    }
    roles = roles_of(user)
    memberships = (
        person.household_memberships.filter(tenancy__in=rows(Tenancy))
        .select_related("tenancy__property")
        .order_by("-start_date")
    )
    return {
        "person": person,
        "markers": person.active_markers(),
        "safety_block": person.has_safety_block(),
        "representatives": services.current_representatives(person, today),
        "contact_details": contact_details,
        "stale_details": stale,
        "confirm_form": confirm_form or ContactDetailsConfirmForm(person=person),
        "fields": fields,
        "ni_number": format_ni_number(person.ni_number) if fields["ni_number"] else "",
        "age": person.age_on(today) if fields["date_of_birth"] else None,
        "memberships": memberships,
        "sensitive_information": list(
            rows(SensitiveInformation).filter(person=person).select_related("recorded_by")
        ),
        "may_add_sensitive": bool(roles & SENSITIVE_INFORMATION_ROLES),
        # Only for the roles that record them; everyone else sees no sign of the answers.
        "may_see_equalities": bool(roles & EQUALITIES_ROLES),
        "equality_answers": rows(EqualityMonitoring).filter(person=person).first(),
        "may_edit": bool(roles & RESIDENT_EDITOR_ROLES),
        "contacts": rows(ContactRecord).filter(person=person).select_related("recorded_by")[:10],
        "documents": rows(Document)
        .filter(person=person)
        .select_related("uploaded_by", "contact_record"),
        # Reads and sharing (disclosures, refusals) together: the DPO answers "who has seen and
        # who was given this?" from one place.
        "history": history_of(person) if Role.DATA_PROTECTION_LEAD in roles else None,
    }


def _person_for_page(request, pk):
    return get_visible_or_404(
        Person.objects.prefetch_related("markers", "representatives"), request.user, pk=pk
    )


@roles_required(*PERSON_READER_ROLES)
def person_detail(request, pk):
    return _render_person(request, _person_for_page(request, pk))


@roles_required(*RESIDENT_EDITOR_ROLES)
def contact_details_confirm(request, pk):
    person = _person_for_page(request, pk)
    if request.method != "POST":
        # The form lives on the person page; a stray GET (a reload, a bookmark) goes back there.
        return redirect(reverse("person_detail", args=[person.pk]) + "#contact-details")
    form = ContactDetailsConfirmForm(request.POST, person=person)
    if form.is_valid():
        try:
            services.contact_details_confirm(
                actor=request.user, person=person, details=form.cleaned_data["details"]
            )
        except ValidationError as error:
            form.add_service_error(error, "details")
        else:
            messages.success(request, "Contact details confirmed with %s." % person.full_name)
            return redirect("person_detail", pk=person.pk)
    return _render_person(request, person, confirm_form=form)


def _add_to_person(request, pk, *, form_class, save, template, success):
    """Shared GET/POST flow for the small forms that add one row to a person's record."""
    person = _person_for_form(request, pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            save(person, form.save(commit=False))
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, success % person.full_name)
            return redirect("person_detail", pk=person.pk)
    return render(request, template, {"form": form, "person": person})


@roles_required(*RESIDENT_EDITOR_ROLES)
def marker_create(request, pk):
    return _add_to_person(
        request,
        pk,
        form_class=MarkerForm,
        save=lambda person, marker: services.marker_add(
            created_by=request.user, person=person, marker=marker
        ),
        template="records/person_marker_form.html",
        success="Marker added for %s.",
    )


@roles_required(*RESIDENT_EDITOR_ROLES)
def representative_create(request, pk):
    return _add_to_person(
        request,
        pk,
        form_class=RepresentativeForm,
        save=lambda person, representative: services.representative_add(
            recorded_by=request.user, person=person, representative=representative
        ),
        template="records/person_representative_form.html",
        success="Authorised representative added for %s.",
    )


@roles_required(*SENSITIVE_INFORMATION_ROLES)
def sensitive_information_create(request, pk):
    return _add_to_person(
        request,
        pk,
        form_class=SensitiveInformationForm,
        save=lambda person, information: services.sensitive_information_add(
            recorded_by=request.user, person=person, information=information
        ),
        template="records/person_sensitive_information_form.html",
        success="Sensitive information recorded for %s.",
    )


@roles_required(*RESIDENT_LIST_ROLES)
def reconfirmation_list(request):
    people = with_summary(
        Person.objects.visible_to(request.user).due_for_reconfirmation(),
        shown=("email", "phone", "correspondence_address"),  # for stale_contact_details
    )
    page = paginate(request, people)
    today = timezone.localdate()
    for person in page.object_list:
        person.home = current_home(person)
        person.due_details = person.stale_contact_details(today)
    return render(
        request,
        "records/reconfirmation_list.html",
        {"page": page, "reconfirm_days": settings.CONTACT_RECONFIRM_DAYS},
    )
