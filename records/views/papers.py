"""Papers for meeting: the records a committee member has been granted, and nothing else.

Each record is fetched through its model's policy, which reads the committee grants live, so an
expired or revoked grant shows nothing on the next request. Every record shown is an audited read.
"""

from django.db.models import Prefetch
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache

from access.decorators import roles_required
from access.models import CommitteeGrantItem
from access.policy import get_visible_or_404
from access.roles import Role
from access.services.grants import kind_of_model, live_grants_for_member
from records import services
from records.models import ContactRecord, ContractorBid, Document, HouseholdMember, Person
from records.views.documents import download_response
from records.views.people import current_home

# How each kind of record is loaded and shown; anything else gets the generic summary.
PAPER_KINDS = {
    Person: (
        "records/papers_person.html",
        lambda rows: rows.prefetch_related(
            "markers",
            Prefetch(
                "household_memberships",
                queryset=HouseholdMember.objects.select_related("tenancy__property"),
            ),
        ),
    ),
    Document: ("records/papers_document.html", lambda rows: rows),
    ContactRecord: ("records/papers_contact.html", lambda rows: rows),
    ContractorBid: ("records/papers_bid.html", lambda rows: rows.select_related("contractor")),
}
GENERIC_TEMPLATE = "records/papers_generic.html"


def _load(items, user) -> dict:
    """The granted records the member may see now, by (content type id, object id)."""
    by_type = {}
    for item in items:
        by_type.setdefault(item.content_type_id, (item.content_type, set()))[1].add(item.object_id)
    found = {}
    for content_type, ids in by_type.values():
        model = content_type.model_class()
        if model is None or not hasattr(model._default_manager.all(), "visible_to"):
            continue
        prepare = PAPER_KINDS.get(model, (None, lambda rows: rows))[1]
        for row in prepare(model._default_manager.visible_to(user).filter(pk__in=ids)):
            found[(content_type.pk, row.pk)] = row
    return found


def _paper(row) -> dict:
    model = type(row)
    kind = kind_of_model(model)
    paper = {
        "object": row,
        "kind": kind.label if kind else str(model._meta.verbose_name).capitalize(),
        "template": PAPER_KINDS.get(model, (GENERIC_TEMPLATE,))[0],
    }
    if model is Person:
        paper["markers"] = row.active_markers()
        paper["safety_block"] = row.has_safety_block()
        home = current_home(row)
        paper["address"] = home.property.address if home else ""
    elif model not in PAPER_KINDS:
        paper["label"] = str(row)
    return paper


@never_cache
@roles_required(Role.COMMITTEE_MEMBER)
def papers_for_meeting(request):
    user = request.user
    grants = list(
        live_grants_for_member(user)
        .select_related("meeting")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=CommitteeGrantItem.objects.select_related("content_type").order_by("pk"),
            )
        )
        .order_by("expires_at", "pk")
    )
    rows = _load([item for grant in grants for item in grant.items.all()], user)
    sections = []
    for grant in grants:
        papers = [
            _paper(rows[key])
            for key in dict.fromkeys(
                (item.content_type_id, item.object_id) for item in grant.items.all()
            )
            if key in rows
        ]
        if papers:
            sections.append({"grant": grant, "papers": papers})
    # One audited read per record shown, however many grants name it.
    for row in rows.values():
        services.record_open(user=user, obj=row)
    return render(request, "records/papers.html", {"sections": sections})


@never_cache
@roles_required(Role.COMMITTEE_MEMBER)
def paper_download(request, pk):
    """A granted document, through the same policy; anything else is a 404."""
    document = get_visible_or_404(Document, request.user, pk=pk)
    return download_response(request.user, document)


urlpatterns = [
    path("", papers_for_meeting, name="committee_papers"),
    path("documents/<int:pk>/download/", paper_download, name="committee_paper_download"),
]
