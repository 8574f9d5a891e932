"""Third-party requests: log one, list them, see one, override a safety block, decide, give the
second approval, send the pack, download it, and record whether the person was told.

Views parse, call disclosures.services, and render; every request is fetched through
DisclosureRequest.objects.visible_to, so one outside the user's scope is a 404.
"""

import json

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header

from access.decorators import roles_required
from access.policy import get_visible_or_404
from access.roles import STAFF_ROLES, Role, roles_of
from disclosures import services
from disclosures.forms import (
    DecideForm,
    DpoApproveForm,
    LogRequestForm,
    PersonFindForm,
    PersonToldForm,
    SafetyOverrideForm,
    SendForm,
    item_groups,
)
from disclosures.models import DisclosureDecision, DisclosureEvidence, DisclosureRequest
from records.models import Person
from records.policies import unshown_encrypted
from records.services import person_open, record_open
from tmo.forms import run_service

DECIDER_ROLES = tuple(services.DECIDER_ROLES)
DPO = Role.DATA_PROTECTION_LEAD
Status = DisclosureRequest.Status
Urgency = DisclosureRequest.Urgency
SEARCH_RESULTS = 20
RECENT_LIMIT = 50
# Emergencies first, then urgent requests, then the longest waiting.
URGENCY_ORDER = Case(
    When(urgency=Urgency.EMERGENCY, then=Value(0)),
    When(urgency=Urgency.URGENT, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


# --- helpers ---------------------------------------------------------------------------------------


def _requests_for(user):
    return (
        DisclosureRequest.objects.visible_to(user)
        .select_related("person", "logged_by", "safety_override_by", "decision")
        .select_related("decision__decided_by", "decision__dpo_approved_by", "decision__sent_by")
    )


def _request_or_404(user, pk) -> DisclosureRequest:
    return get_visible_or_404(_requests_for(user).prefetch_related("person__markers"), user, pk=pk)


def _request_opened(user, pk) -> DisclosureRequest:
    """The request, if the user may see it, with their reading of it audited."""
    disclosure = _request_or_404(user, pk)
    record_open(user=user, obj=disclosure)
    return disclosure


def decision_of(disclosure: DisclosureRequest) -> DisclosureDecision | None:
    try:
        return disclosure.decision
    except DisclosureDecision.DoesNotExist:
        return None


def _rows(queryset, today):
    """What a list shows of each request, with the days it has waited since it arrived."""
    rows = []
    for disclosure in queryset:
        disclosure.days_waiting = (today - disclosure.received_on).days
        rows.append(disclosure)
    return rows


def contact_details(person: Person) -> list[dict]:
    """The person's own contact details with when each was last confirmed."""
    stale = set(person.stale_contact_details())
    return [
        {"label": label, "value": value, "confirmed_on": confirmed_on, "due": key in stale}
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


def _summary(user, disclosure: DisclosureRequest) -> dict:
    """What every page about one request shows: the request as logged, the safety block
    (before anything can be chosen) and the decision so far."""
    person = disclosure.person
    roles = roles_of(user)
    decider = bool(roles & services.DECIDER_ROLES)
    blocked = services.blocked_items(disclosure, disclosure.requested_items)
    decision = decision_of(disclosure)
    released_content = []
    if decision is not None and decision.released_content:
        released_content = json.loads(decision.released_content)
    return {
        "disclosure": disclosure,
        "person": person,
        "markers": person.active_markers(),
        "safety_block": person.has_safety_block(),
        "blocked": blocked,
        "requested_groups": item_groups(
            disclosure.requested_items, blocked={item.key for item in blocked}
        ),
        "released_groups": item_groups(decision.released_items) if decision else [],
        "decision": decision,
        "released_content": released_content,
        "decider": decider,
        "is_dpo": DPO in roles,
        "show_contact_details": decider,
        "contact_details": contact_details(person) if decider else [],
        "evidence": list(disclosure.evidence.all()),
    }


def _summary_shown(user, disclosure: DisclosureRequest) -> dict:
    """The summary for a page that shows the person's contact details to a decider: they are part
    of the person's record, so reading them is audited there."""
    context = _summary(user, disclosure)
    if context["show_contact_details"]:
        person_open(user=user, person=disclosure.person)
    return context


def _render_detail(request, disclosure, *, override_form=None, told_form=None, status=200):
    user = request.user
    record_open(user=user, obj=disclosure)
    context = _summary_shown(user, disclosure)
    decision = context["decision"]
    may_override = (
        context["is_dpo"]
        and context["safety_block"]
        and disclosure.status == Status.WAITING
        and not disclosure.safety_override_by_id
    )
    may_record_told = (
        context["decider"] and decision is not None and disclosure.status == Status.SENT
    )
    context.update(
        {
            "may_override": may_override,
            "override_form": override_form
            or (SafetyOverrideForm(user=user) if may_override else None),
            "may_decide": context["decider"] and disclosure.status == Status.WAITING,
            "decider_problems": services.decider_problems(user, disclosure)
            if context["decider"] and disclosure.status == Status.WAITING
            else [],
            "may_approve": context["is_dpo"] and disclosure.status == Status.WAITING_DPO,
            "may_send": context["decider"] and disclosure.status == Status.APPROVED,
            "may_download": context["decider"]
            and decision is not None
            and bool(decision.pack_storage_name),
            "may_record_told": may_record_told,
            "told_form": told_form or (PersonToldForm() if may_record_told else None),
        }
    )
    return render(request, "disclosures/request_detail.html", context, status=status)


# --- pages -----------------------------------------------------------------------------------------


@roles_required(*STAFF_ROLES)
def disclosure_list(request):
    user = request.user
    roles = roles_of(user)
    decider = bool(roles & services.DECIDER_ROLES)
    today = timezone.localdate()
    visible = (
        DisclosureRequest.objects.visible_to(user)
        .select_related("person", "logged_by")
        # The lists name the requester and the person; the encrypted details stay unread.
        .defer(
            *unshown_encrypted(DisclosureRequest),
            *unshown_encrypted(Person, prefix="person__"),
        )
        .order_by(URGENCY_ORDER, "received_on", "pk")
    )
    context = {
        "decider": decider,
        "is_dpo": DPO in roles,
        "waiting": _rows(visible.filter(status=Status.WAITING).exclude(logged_by=user), today)
        if decider
        else None,
        "waiting_dpo": _rows(visible.filter(status=Status.WAITING_DPO), today)
        if DPO in roles
        else None,
        "to_send": _rows(visible.filter(status=Status.APPROVED), today) if decider else None,
        "mine": _rows(visible.filter(logged_by=user).order_by("-logged_at")[:RECENT_LIMIT], today),
    }
    return render(request, "disclosures/request_list.html", context)


@roles_required(*STAFF_ROLES)
def disclosure_log(request):
    user = request.user
    people = Person.objects.visible_to(user).prefetch_related("markers")
    if request.method == "POST":
        form = LogRequestForm(request.POST, request.FILES, user=user)
        disclosure = run_service(
            request,
            form,
            lambda data: services.disclosure_log(
                logged_by=user,
                person=data["person"],
                requester_type=data["requester_type"],
                requester_organisation=data["requester_organisation"],
                requester_name=data["requester_name"],
                requester_contact=data["requester_contact"],
                identity_check=data["identity_check"],
                requested_items=data["requested_items"],
                request_details=data["request_details"],
                purpose=data["purpose"],
                basis=data["basis"],
                received_on=data["received_on"],
                urgency=data["urgency"],
                evidence=data["evidence"],
            ),
            success=lambda disclosure: (
                "Request %s is logged. A senior officer or the data protection lead will "
                "decide it." % disclosure.reference
            ),
        )
        if disclosure:
            return redirect("disclosure_detail", pk=disclosure.pk)
        person = form.cleaned_data.get("person") if hasattr(form, "cleaned_data") else None
        return _render_log(request, form, person=person)

    find_form = PersonFindForm(request.GET or None)
    person = None
    chosen = request.GET.get("person", "") or request.GET.get("number", "")
    if chosen:
        person = people.filter(pk=chosen).first() if chosen.strip().isdigit() else None
        if person is None:
            find_form = PersonFindForm(request.GET)
            find_form.is_valid()
            find_form.add_error(
                "number", "There is no person with that record number whose record you can see"
            )
    if person is None:
        results = None
        if find_form.is_bound and find_form.is_valid() and find_form.cleaned_data["q"]:
            term = " ".join(find_form.cleaned_data["q"].split())
            results = list(people.search(term)[:SEARCH_RESULTS])
        return render(
            request,
            "disclosures/request_find_person.html",
            {"find_form": find_form, "results": results},
        )
    form = LogRequestForm(
        initial={"person": person.pk, "received_on": timezone.localdate()}, user=user
    )
    return _render_log(request, form, person=person)


def _render_log(request, form, *, person):
    return render(
        request,
        "disclosures/request_log.html",
        {
            "form": form,
            "person": person,
            "markers": person.active_markers() if person else [],
            "item_groups": form.item_groups(),
        },
    )


@roles_required(*STAFF_ROLES)
def disclosure_detail(request, pk):
    return _render_detail(request, _request_or_404(request.user, pk))


@roles_required(*STAFF_ROLES)
def disclosure_evidence(request, pk):
    evidence = get_visible_or_404(DisclosureEvidence, request.user, pk=pk)
    data = services.evidence_open(user=request.user, evidence=evidence)
    extension = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/png": "png",
        "text/plain": "txt",
    }.get(evidence.content_type, "bin")
    return _attachment(data, evidence.content_type, "evidence-%d.%s" % (evidence.pk, extension))


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    """A download a browser will neither sniff nor run."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@roles_required(DPO)
def disclosure_override(request, pk):
    user = request.user
    disclosure = _request_or_404(user, pk)
    if request.method != "POST":
        return redirect("disclosure_detail", pk=disclosure.pk)
    form = SafetyOverrideForm(request.POST, user=user)
    if run_service(
        request,
        form,
        lambda data: services.disclosure_safety_override(
            request=disclosure, overridden_by=user, reason=data["reason"]
        ),
        success="The override is recorded. The protected details can now be chosen for release.",
    ):
        return redirect("disclosure_detail", pk=disclosure.pk)
    return _render_detail(request, disclosure, override_form=form)


@roles_required(*DECIDER_ROLES)
def disclosure_decide(request, pk):
    user = request.user
    disclosure = _request_opened(user, pk)
    problems = services.decider_problems(user, disclosure)
    open_to_decide = disclosure.status == Status.WAITING and decision_of(disclosure) is None
    blocked = {item.key for item in services.blocked_items(disclosure, disclosure.requested_items)}
    form = None
    if open_to_decide and not problems:
        form = DecideForm(
            request.POST if request.method == "POST" else None,
            user=user,
            request=disclosure,
            blocked=blocked,
        )

        def decide(data):
            refuse = data["outcome"] == DecideForm.REFUSE
            decision = services.disclosure_decide(
                request=disclosure,
                decided_by=user,
                outcome=services.Outcome.REFUSE if refuse else services.Outcome.RELEASE,
                released_items=[] if refuse else data["released_items"],
                necessity=data["necessity"],
                reasons=data["reasons"],
                decider_position=data["decider_position"],
                special_category_condition=data["special_category_condition"],
            )
            disclosure.refresh_from_db(fields=["status"])
            return decision

        if run_service(request, form, decide, success=lambda _: _decided_message(disclosure)):
            return redirect("disclosure_detail", pk=disclosure.pk)
    context = _summary_shown(user, disclosure)
    context.update({"form": form, "problems": problems, "open_to_decide": open_to_decide})
    return render(request, "disclosures/request_decide.html", context)


def _decided_message(disclosure: DisclosureRequest) -> str:
    if disclosure.status == Status.REFUSED:
        return "The request is refused and your reasons are recorded."
    if disclosure.status == Status.WAITING_DPO:
        if disclosure.person.processing_restricted():
            return (
                "Your decision is recorded. Processing of this person's data is restricted, so "
                "it now waits for the data protection lead's approval."
            )
        return (
            "Your decision is recorded. It releases special category or criminal offence data, "
            "so it now waits for the data protection lead's approval."
        )
    return "Your decision is recorded. Confirm the recipient's details and send the pack."


@roles_required(DPO)
def disclosure_dpo_approve(request, pk):
    user = request.user
    disclosure = _request_opened(user, pk)
    decision = decision_of(disclosure)
    waiting = disclosure.status == Status.WAITING_DPO and decision is not None
    own = waiting and user.pk in {decision.decided_by_id, disclosure.logged_by_id}
    form = None
    if waiting and not own:
        form = DpoApproveForm(request.POST if request.method == "POST" else None, user=user)

        def approve_or_refuse(data):
            if data["verdict"] == "refuse":
                return services.disclosure_dpo_refuse(
                    decision=decision, refused_by=user, reason=data["refusal_reason"]
                )
            return services.disclosure_dpo_approve(decision=decision, approved_by=user)

        if run_service(
            request,
            form,
            approve_or_refuse,
            success=lambda _: (
                "Release refused. Nothing will be sent."
                if form.cleaned_data["verdict"] == "refuse"
                else "Release approved. It can now be sent."
            ),
        ):
            return redirect("disclosure_detail", pk=disclosure.pk)
    context = _summary(user, disclosure)
    context.update({"form": form, "waiting": waiting, "own": own})
    return render(request, "disclosures/request_approve.html", context)


@roles_required(*DECIDER_ROLES)
def disclosure_send(request, pk):
    user = request.user
    disclosure = _request_opened(user, pk)
    decision = decision_of(disclosure)
    ready = disclosure.status == Status.APPROVED and decision is not None
    form = None
    if ready:
        initial = "\n".join(
            part
            for part in (
                disclosure.requester_name,
                disclosure.requester_organisation,
                disclosure.requester_contact,
            )
            if part
        )
        form = SendForm(
            request.POST if request.method == "POST" else None,
            initial={"recipient_confirmed": initial},
            user=user,
        )
        if run_service(
            request,
            form,
            lambda data: services.disclosure_send(
                decision=decision, sent_by=user, recipient_confirmed=data["recipient_confirmed"]
            ),
            success="The pack is ready and the disclosure is recorded as sent. Download it below.",
        ):
            return redirect("disclosure_detail", pk=disclosure.pk)
    context = _summary_shown(user, disclosure)
    context.update({"form": form, "ready": ready})
    return render(request, "disclosures/request_send.html", context)


@roles_required(*DECIDER_ROLES)
def disclosure_pack(request, pk):
    user = request.user
    disclosure = _request_or_404(user, pk)
    decision = decision_of(disclosure)
    if decision is None or not decision.pack_storage_name:
        messages.error(request, "No pack has been generated for this request.")
        return redirect("disclosure_detail", pk=disclosure.pk)
    data = services.disclosure_pack_open(user=user, decision=decision)
    return _attachment(data, "application/pdf", "disclosure-%s.pdf" % disclosure.reference)


@roles_required(*DECIDER_ROLES)
def disclosure_person_told(request, pk):
    user = request.user
    disclosure = _request_or_404(user, pk)
    decision = decision_of(disclosure)
    if request.method != "POST" or decision is None:
        return redirect("disclosure_detail", pk=disclosure.pk)
    form = PersonToldForm(request.POST)
    if run_service(
        request,
        form,
        lambda data: services.disclosure_record_person_told(
            decision=decision,
            recorded_by=user,
            person_told=data["person_told"],
            told_on=data["told_on"],
            note=data["note"],
        ),
        success="Recorded whether the person was told.",
    ):
        return redirect("disclosure_detail", pk=disclosure.pk)
    return _render_detail(request, disclosure, told_form=form)


urlpatterns = [
    path("", disclosure_list, name="disclosure_list"),
    path("new/", disclosure_log, name="disclosure_log"),
    path("<int:pk>/", disclosure_detail, name="disclosure_detail"),
    path("evidence/<int:pk>/", disclosure_evidence, name="disclosure_evidence"),
    path("<int:pk>/safety-override/", disclosure_override, name="disclosure_override"),
    path("<int:pk>/decide/", disclosure_decide, name="disclosure_decide"),
    path("<int:pk>/approve/", disclosure_dpo_approve, name="disclosure_dpo_approve"),
    path("<int:pk>/send/", disclosure_send, name="disclosure_send"),
    path("<int:pk>/pack/", disclosure_pack, name="disclosure_pack"),
    path("<int:pk>/person-told/", disclosure_person_told, name="disclosure_person_told"),
]
