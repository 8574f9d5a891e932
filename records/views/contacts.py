"""A person's contact timeline, recording a contact, and one contact's page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from access.decorators import roles_required
from access.policy import about_one_person, get_visible_or_404
from access.roles import roles_of
from records import services
from records.forms.contacts import ContactRecordForm, TimelineFilterForm
from records.models import ContactRecord, Document, Person
from records.policies import RESIDENT_EDITOR_ROLES
from records.views.common import paginate
from records.views.people import PERSON_READER_ROLES


@roles_required(*PERSON_READER_ROLES)
def person_timeline(request, pk):
    person = get_visible_or_404(
        Person.objects.prefetch_related("markers", "representatives"), request.user, pk=pk
    )
    services.person_open(user=request.user, person=person)
    filters = TimelineFilterForm(request.GET or None)
    with about_one_person(person):
        contacts = ContactRecord.objects.visible_to(request.user)
    contacts = filters.apply(
        contacts.filter(person=person)
        .select_related("recorded_by", "tenancy")
        .prefetch_related("documents")
    )
    page = paginate(request, contacts)
    return render(
        request,
        "records/contact_timeline.html",
        {
            "person": person,
            "filters": filters,
            "page": page,
            "representatives": services.current_representatives(person),
            "may_record": bool(roles_of(request.user) & RESIDENT_EDITOR_ROLES),
        },
    )


@roles_required(*RESIDENT_EDITOR_ROLES)
def contact_record_create(request, pk):
    person = get_visible_or_404(
        Person.objects.prefetch_related("markers", "representatives"), request.user, pk=pk
    )
    form = ContactRecordForm(request.POST or None, person=person, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_record_create(
                recorded_by=request.user,
                person=person,
                contact=form.contact(),
                number_confirmed=form.cleaned_data["number_confirmed"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Contact recorded for %s." % person.full_name)
            return redirect("person_timeline", pk=person.pk)
    return render(
        request,
        "records/contact_form.html",
        {
            "form": form,
            "person": person,
            "representatives": services.current_representatives(person),
            "stale_details": person.stale_contact_details(),
        },
    )


@roles_required(*PERSON_READER_ROLES)
def contact_record_detail(request, pk):
    contact = get_visible_or_404(
        ContactRecord.objects.select_related(
            "person", "recorded_by", "tenancy__property"
        ).prefetch_related("person__markers"),
        request.user,
        pk=pk,
    )
    services.record_open(user=request.user, obj=contact)
    documents = Document.objects.visible_to(request.user).filter(contact_record=contact)
    return render(
        request,
        "records/contact_detail.html",
        {"contact": contact, "person": contact.person, "documents": documents},
    )
