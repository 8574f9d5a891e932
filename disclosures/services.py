"""Disclosure workflows. Each step runs in one transaction, takes the acting user, and records
its event on the person it is about, so the person's history shows what was shared and why."""

import datetime
import json
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from access.compliance import compliance_problems
from access.dashboard import Panel, dashboard_panel
from access.roles import STAFF_ROLES, Role, roles_of
from disclosures.models import (
    DisclosureDecision,
    DisclosureEvidence,
    DisclosureRequest,
)
from records import documents
from records.models import Person
from tmo import datamap, filestore
from tmo.audit import record_event

DECIDER_ROLES = {Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD}
Status = DisclosureRequest.Status
Outcome = DisclosureDecision.Outcome


def items_named(keys: Iterable[str]) -> list[datamap.DisclosableItem]:
    """The data map's items for these keys, in the map's order; unknown keys are an error."""
    wanted = list(dict.fromkeys(keys))
    known = {item.key: item for item in datamap.disclosable_items()}
    unknown = [key for key in wanted if key not in known]
    if unknown:
        raise ValidationError("Choose items from the list: %s is not one." % ", ".join(unknown))
    return [item for item in datamap.disclosable_items() if item.key in wanted]


def safety_blocked(person) -> bool:
    return person.has_safety_block()


def blocked_items(request: DisclosureRequest, keys: Iterable[str]) -> list[datamap.DisclosableItem]:
    """The protected details among `keys` that a safety marker holds back, unless overridden."""
    if not safety_blocked(request.person) or request.safety_override_by_id:
        return []
    return [item for item in items_named(keys) if item.safety_protected]


def _next_reference(prefix: str, model) -> str:
    year = timezone.localdate().year
    count = model.objects.filter(reference__startswith="%s-%d-" % (prefix, year)).count()
    return "%s-%d-%04d" % (prefix, year, count + 1)


@transaction.atomic
def disclosure_log(
    *,
    logged_by,
    person,
    requester_type: str,
    requester_organisation: str,
    requester_name: str,
    requester_contact: str,
    identity_check: str,
    requested_items: list[str],
    request_details: str,
    purpose: str,
    basis: str,
    received_on,
    urgency: str,
    evidence: Iterable[UploadedFile] = (),
) -> DisclosureRequest:
    """Log a third party's request. Any staff member may; deciding is for someone else."""
    if not roles_of(logged_by) & STAFF_ROLES:
        raise ValidationError("Only staff can log a disclosure request.")
    if not requested_items:
        raise ValidationError("Choose at least one item the requester asked for.")
    requested_items = [item.key for item in items_named(requested_items)]
    if not Person.objects.visible_to(logged_by).filter(pk=person.pk).exists():
        raise ValidationError("Choose a person from the register whose record you can see.")
    request = DisclosureRequest(
        reference=_next_reference("DR", DisclosureRequest),
        person=person,
        requester_type=requester_type,
        requester_organisation=requester_organisation.strip(),
        requester_name=requester_name.strip(),
        requester_contact=requester_contact.strip(),
        identity_check=identity_check.strip(),
        requested_items=requested_items,
        request_details=request_details.strip(),
        purpose=purpose.strip(),
        basis=basis,
        received_on=received_on,
        urgency=urgency,
        logged_by=logged_by,
    )
    request.full_clean()
    request.save()
    # A later file that fails its checks undoes the whole request, so the files already
    # written for it must go too: nothing may stay on disk that no row points to.
    written = []
    try:
        for upload in evidence:
            written.append(
                evidence_add(uploaded_by=logged_by, request=request, upload=upload).storage_name
            )
        record_event(
            actor=logged_by,
            obj=person,
            event="disclosure_requested",
            reference=request.reference,
            requester=request.requester_organisation,
        )
    except BaseException:
        for storage_name in written:
            filestore.delete(storage_name)
        raise
    return request


def evidence_add(*, uploaded_by, request: DisclosureRequest, upload: UploadedFile):
    """Check the file's size and real type, encrypt it to disk, and record it."""
    if upload.size is not None and upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "The selected file must be smaller than %(limit)s MB.",
            params={"limit": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
    data = upload.read()
    content_type = documents.sniff_content_type(data, upload.name or "evidence")
    evidence = DisclosureEvidence(
        request=request,
        title=upload.name or "Evidence",
        original_filename=upload.name or "evidence",
        content_type=content_type,
        size=len(data),
        storage_name=uuid.uuid4().hex,
        uploaded_by=uploaded_by,
    )
    filestore.write_encrypted(evidence.storage_name, data)
    try:
        with transaction.atomic():
            evidence.save()
    except BaseException:
        filestore.delete(evidence.storage_name)
        raise
    return evidence


@transaction.atomic
def evidence_open(*, user, evidence: DisclosureEvidence) -> bytes:
    """The decrypted evidence file, fetched by the caller through the policy; the read is audited."""
    from tmo.audit import record_access

    record_access(user=user, obj=evidence)
    return filestore.read_decrypted(evidence.storage_name)


def decider_problems(user, request: DisclosureRequest) -> list[str]:
    """Why this user may not decide this request; empty when they may."""
    problems = []
    if not roles_of(user) & DECIDER_ROLES:
        problems.append("Only a senior officer or the data protection lead decides disclosures.")
    if request.logged_by_id == user.pk:
        problems.append(
            "You logged this request, so someone else must decide it: four eyes on every "
            "disclosure."
        )
    problems += compliance_problems(user)
    return problems


@transaction.atomic
def disclosure_safety_override(*, request: DisclosureRequest, overridden_by, reason: str):
    """The DPO records why protected details must go despite the person's safety marker."""
    if Role.DATA_PROTECTION_LEAD not in roles_of(overridden_by):
        raise ValidationError("Only the data protection lead can override a safety marker.")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Enter why the protected details must be released.")
    request = DisclosureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Status.WAITING:
        raise ValidationError(
            "This request has been decided: an override now would change nothing chosen."
        )
    if not safety_blocked(request.person):
        raise ValidationError("%s has no safety marker to override." % request.person.full_name)
    if request.safety_override_by_id:
        raise ValidationError("The override for this request is already recorded.")
    request.safety_override_by = overridden_by
    request.safety_override_reason = reason
    request.safety_override_at = timezone.now()
    request.save(
        update_fields=["safety_override_by", "safety_override_reason", "safety_override_at"]
    )
    record_event(
        actor=overridden_by,
        obj=request.person,
        event="disclosure_safety_override",
        reference=request.reference,
    )
    return request


@transaction.atomic
def disclosure_decide(
    *,
    request: DisclosureRequest,
    decided_by,
    outcome: str,
    released_items: list[str],
    necessity: str,
    reasons: str,
    decider_position: str,
    special_category_condition: str = "",
) -> DisclosureDecision:
    """Decide once: release a subset of what was asked for, with reasons, or refuse with reasons."""
    request = DisclosureRequest.objects.select_for_update().get(pk=request.pk)
    if DisclosureDecision.objects.filter(request=request).exists():
        raise ValidationError("This request has already been decided.")
    problems = decider_problems(decided_by, request)
    if problems:
        raise ValidationError(problems)
    reasons, necessity = reasons.strip(), necessity.strip()
    if not reasons:
        raise ValidationError("Record the reasons for the decision, whatever it is.")
    if not decider_position.strip():
        raise ValidationError("Enter your position: the record names who decided and as what.")
    if outcome == Outcome.REFUSE:
        released_items = []
    else:
        if not released_items:
            raise ValidationError("Choose what to release, or refuse the request.")
        extra = set(released_items) - set(request.requested_items)
        if extra:
            raise ValidationError("Only what was asked for can be released.")
        if not necessity:
            raise ValidationError("Record why each released item is necessary for the purpose.")
        outcome = (
            Outcome.RELEASE
            if set(released_items) == set(request.requested_items)
            else Outcome.PARTIAL
        )
        blocked = blocked_items(request, released_items)
        if blocked:
            raise ValidationError(
                "A safety marker protects %s's whereabouts: %s cannot be released unless the "
                "data protection lead overrides it with a recorded reason."
                % (request.person.full_name, ", ".join(item.label for item in blocked))
            )
        needs_condition = any(item.needs_condition for item in items_named(released_items))
        if needs_condition and not special_category_condition.strip():
            raise ValidationError(
                "Special category or criminal offence data needs the condition relied on."
            )
    decision = DisclosureDecision(
        request=request,
        outcome=outcome,
        released_items=released_items,
        necessity=necessity,
        reasons=reasons,
        special_category_condition=special_category_condition.strip(),
        decided_by=decided_by,
        decider_position=decider_position.strip(),
    )
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError as exc:
        raise ValidationError("This request has already been decided.") from exc
    if outcome == Outcome.REFUSE:
        request.status = Status.REFUSED
    elif decision.needs_dpo_approval():
        request.status = Status.WAITING_DPO
    else:
        request.status = Status.APPROVED
    request.save(update_fields=["status"])
    record_event(
        actor=decided_by,
        obj=request.person,
        event="disclosure_decided",
        reference=request.reference,
        outcome=outcome,
        items=released_items,
    )
    return decision


def _locked_for_second_approval(decision: DisclosureDecision, user):
    request = DisclosureRequest.objects.select_for_update().get(pk=decision.request_id)
    decision.refresh_from_db()
    if request.status != Status.WAITING_DPO:
        raise ValidationError("This decision is not waiting for the data protection lead.")
    if Role.DATA_PROTECTION_LEAD not in roles_of(user):
        raise ValidationError("Only the data protection lead gives the second approval.")
    if user.pk in {decision.decided_by_id, request.logged_by_id}:
        raise ValidationError("The second approval must come from someone else.")
    problems = compliance_problems(user)
    if problems:
        raise ValidationError(problems)
    return request


@transaction.atomic
def disclosure_dpo_approve(*, decision: DisclosureDecision, approved_by) -> DisclosureDecision:
    """The second approval that special category or criminal offence data needs."""
    request = _locked_for_second_approval(decision, approved_by)
    decision.dpo_approved_by = approved_by
    decision.dpo_approved_at = timezone.now()
    decision.save(update_fields=["dpo_approved_by", "dpo_approved_at"])
    request.status = Status.APPROVED
    request.save(update_fields=["status"])
    record_event(
        actor=approved_by,
        obj=request.person,
        event="disclosure_dpo_approved",
        reference=request.reference,
    )
    return decision


@transaction.atomic
def disclosure_dpo_refuse(
    *, decision: DisclosureDecision, refused_by, reason: str
) -> DisclosureDecision:
    """The data protection lead withholds the second approval: nothing is released."""
    request = _locked_for_second_approval(decision, refused_by)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Record why the release is refused.")
    decision.dpo_refused_by = refused_by
    decision.dpo_refused_at = timezone.now()
    decision.dpo_refusal_reason = reason
    decision.save(update_fields=["dpo_refused_by", "dpo_refused_at", "dpo_refusal_reason"])
    request.status = Status.REFUSED
    request.save(update_fields=["status"])
    record_event(
        actor=refused_by,
        obj=request.person,
        event="disclosure_dpo_refused",
        reference=request.reference,
    )
    return decision


def released_values(request: DisclosureRequest, keys: Iterable[str]) -> list[dict]:
    """The values of the released items for the person, read through the data map; protected
    details are left out while a safety marker stands and no override is recorded."""
    person = request.person
    blocked = {item.key for item in blocked_items(request, keys)}
    content = []
    for item in items_named(keys):
        if item.key in blocked:
            continue
        entry = datamap.entry_for(item.model)
        values = []
        for row in entry.rows_about(person):
            value = getattr(row, item.field_name)
            if hasattr(row, "get_%s_display" % item.field_name):
                value = getattr(row, "get_%s_display" % item.field_name)()
            elif item.model._meta.get_field(item.field_name).is_relation and value is not None:
                value = getattr(value, "address", None) or str(value)
            elif isinstance(value, datetime.datetime):
                value = timezone.localtime(value).strftime("%-d %B %Y %H:%M")
            elif isinstance(value, datetime.date):
                # Written out as a letter would, so the recipient cannot misread day and month.
                value = value.strftime("%-d %B %Y")
            if value not in (None, ""):
                values.append(value if isinstance(value, str) else str(value))
        content.append({"key": item.key, "label": item.label, "values": values})
    return content


def disclosure_send(
    *, decision: DisclosureDecision, sent_by, recipient_confirmed: str
) -> DisclosureDecision:
    """Generate the pack holding only the approved items, keep exactly what went out, and mark
    the request sent. The recipient's details are confirmed first."""
    storage_name = uuid.uuid4().hex
    # The pack is written before the transaction ends: if anything after it fails, the commit
    # included, it goes, so no file on disk is a copy of personal data no decision names.
    try:
        return _send(
            decision=decision,
            sent_by=sent_by,
            recipient_confirmed=recipient_confirmed,
            storage_name=storage_name,
        )
    except BaseException:
        filestore.delete(storage_name)
        raise


@transaction.atomic
def _send(
    *, decision: DisclosureDecision, sent_by, recipient_confirmed: str, storage_name: str
) -> DisclosureDecision:
    from weasyprint import HTML

    request = DisclosureRequest.objects.select_for_update().get(pk=decision.request_id)
    decision.refresh_from_db()
    if request.status != Status.APPROVED:
        raise ValidationError("Only an approved decision can be sent.")
    if not roles_of(sent_by) & DECIDER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead sends a release.")
    recipient_confirmed = recipient_confirmed.strip()
    if not recipient_confirmed:
        raise ValidationError("Confirm the recipient's contact details before anything is sent.")
    content = released_values(request, decision.released_items)
    html = render_to_string(
        "disclosures/pack.html",
        {
            "request": request,
            "decision": decision,
            "content": content,
            "recipient": recipient_confirmed,
            "sent_on": timezone.localdate(),
            "organisation_name": settings.ORGANISATION_NAME,
        },
    )
    pdf = HTML(string=html).write_pdf()
    filestore.write_encrypted(storage_name, pdf)
    decision.recipient_confirmed = recipient_confirmed
    decision.released_content = json.dumps(content)
    decision.pack_storage_name = storage_name
    decision.sent_at = timezone.now()
    decision.sent_by = sent_by
    decision.save()
    request.status = Status.SENT
    request.save(update_fields=["status"])
    record_event(
        actor=sent_by,
        obj=request.person,
        event="disclosure_sent",
        reference=request.reference,
        recipient=request.requester_organisation,
        items=[entry["key"] for entry in content],
    )
    return decision


@transaction.atomic
def disclosure_pack_open(*, user, decision: DisclosureDecision) -> bytes:
    from tmo.audit import record_access

    record_access(user=user, obj=decision)
    return filestore.read_decrypted(decision.pack_storage_name)


@transaction.atomic
def disclosure_record_person_told(
    *, decision: DisclosureDecision, recorded_by, person_told: str, told_on=None, note: str = ""
) -> DisclosureDecision:
    """Whether the person was told of the disclosure; under the crime exemption, why not.
    Their subject access bundle follows this."""
    if not roles_of(recorded_by) & DECIDER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead records this.")
    request = DisclosureRequest.objects.select_for_update().get(pk=decision.request_id)
    if request.status != Status.SENT:
        raise ValidationError("Record whether the person was told once the disclosure is sent.")
    if person_told not in DisclosureDecision.PersonTold.values:
        raise ValidationError("Choose whether the person was told.")
    if told_on is not None and told_on > timezone.localdate():
        raise ValidationError("The date the person was told must be today or in the past.")
    if person_told == DisclosureDecision.PersonTold.TOLD and told_on is None:
        raise ValidationError("Enter the date the person was told.")
    if (
        person_told
        in {
            DisclosureDecision.PersonTold.NOT_TOLD_CRIME,
            DisclosureDecision.PersonTold.NOT_TOLD_OTHER,
        }
        and not note.strip()
    ):
        raise ValidationError("Record why the person is not told.")
    decision.person_told = person_told
    decision.person_told_on = told_on
    decision.person_told_note = note.strip()
    decision.save(update_fields=["person_told", "person_told_on", "person_told_note"])
    record_event(
        actor=recorded_by,
        obj=request.person,
        event="disclosure_person_told",
        reference=request.reference,
        person_told=person_told,
    )
    return decision


# --- dashboard: third-party requests --------------------------------------------------------------


@dashboard_panel
def disclosure_requests_panel(user) -> Panel | None:
    """For deciders: requests waiting for a decision that someone else logged."""
    if not roles_of(user) & DECIDER_ROLES:
        return None
    waiting = (
        DisclosureRequest.objects.visible_to(user)
        .filter(status=Status.WAITING)
        .exclude(logged_by=user)
    )
    counts = waiting.aggregate(
        total=Count("pk"),
        urgent=Count("pk", filter=~Q(urgency=DisclosureRequest.Urgency.ROUTINE)),
    )
    description = "Third-party requests for information about residents."
    if counts["urgent"]:
        description = "%d urgent. %s" % (counts["urgent"], description)
    return Panel(
        title="Disclosure requests waiting",
        count=counts["total"],
        url=reverse("disclosure_list") + "#waiting",
        link_text="Decide disclosure requests",
        description=description,
        urgent=bool(counts["urgent"]),
    )


@dashboard_panel
def disclosure_second_approval_panel(user) -> Panel | None:
    """For the data protection lead: special category releases waiting for second approval."""
    if Role.DATA_PROTECTION_LEAD not in roles_of(user):
        return None
    count = (
        DisclosureRequest.objects.visible_to(user)
        .filter(status=Status.WAITING_DPO)
        .exclude(decision__decided_by=user)
        .count()
    )
    return Panel(
        title="Disclosures waiting for your approval",
        count=count,
        url=reverse("disclosure_list") + "#waiting-dpo",
        link_text="Approve disclosures",
        description="Releases of special category or criminal offence data need a second approval.",
    )
