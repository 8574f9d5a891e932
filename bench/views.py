"""Baseline pages for the benchmark, mounted only by bench/urls.py under tmo.settings.bench.

Each is the page it is measured beside with the safeguards taken out, so that a ratio shows what
the safeguards cost: the same search without the access policy, the same person row without
decryption or the access audit, the same person page without the policy or the access audit,
and a bare page through the same middleware. They bypass the policies on purpose and must never
be reachable on a live site (tests/bench checks they are not mounted under the normal settings).
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from access.decorators import public, roles_required
from access.roles import roles_of
from records.models import Person
from records.policies import RESIDENT_EDITOR_ROLES
from records.views.common import paginate
from records.views.people import (
    PERSON_READER_ROLES,
    RESIDENT_LIST_ROLES,
    SEARCH_MAX_LENGTH,
    current_home,
    person_page_context,
    with_summary,
)
from tmo.fields import EncryptedField

# The person's columns that are stored in clear: the plain page reads nothing it must decrypt.
PLAIN_FIELDS = [
    field
    for field in Person._meta.concrete_fields
    if not isinstance(field, EncryptedField) and not field.name.endswith("_index")
]


@roles_required(*RESIDENT_LIST_ROLES)
def search_unscoped(request):
    """records.views.people.person_search without `visible_to`: every match, no policy."""
    query = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
    page = None
    if query:
        page = paginate(request, with_summary(Person.objects.search(query)))
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


@roles_required(*PERSON_READER_ROLES)
def person_plain(request, pk):
    """A plain detail page of the person's row: no policy, no decryption, no access audit."""
    person = get_object_or_404(Person.objects.only(*(f.name for f in PLAIN_FIELDS)), pk=pk)
    fields = [(f.verbose_name, getattr(person, f.attname)) for f in PLAIN_FIELDS]
    return render(request, "bench/person_plain.html", {"person": person, "fields": fields})


@roles_required(*PERSON_READER_ROLES)
def person_unguarded(request, pk):
    """records.views.people.person_detail with its safeguards taken out: the person and every
    linked row read without the policy, and no access audit. The decryption stays, since the page
    cannot show a value without it; bench/run.py reports what the page decrypts."""
    person = get_object_or_404(Person.objects.prefetch_related("markers", "representatives"), pk=pk)
    context = person_page_context(
        request.user, person, rows=lambda model: model._default_manager.all()
    )
    return render(request, "records/person_detail.html", context)


@public
def bare(request):
    """The cheapest page Django serves through the same middleware."""
    return HttpResponse("ok\n", content_type="text/plain")
