"""Rights-request workflows: assembling, reviewing, signing off and releasing a subject access
bundle. Every step is keyword-only, atomic, takes the acting user and leaves an audit event.

The build itself runs in the background (sar.tasks.build_bundle); these functions move the bundle
through its states so that only a completely written file is ever offered.
"""

import datetime
import hashlib
import json
import logging
import uuid

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from access.roles import STAFF_ROLES, roles_of
from sar import collection, redaction
from sar.models import Bundle, BundleDownload, SarItem, SarRedaction, SubjectAccessRequest
from sar.models.requests import HANDLER_ROLES
from sar.services.requests import require_authority
from tmo import filestore
from tmo.audit import record_event

logger = logging.getLogger(__name__)

Status = Bundle.Status
Decision = SarItem.Decision
Exemption = SarItem.Exemption
REASON_NEEDED = {Exemption.THIRD_PARTY, Exemption.OTHER}


def _require_staff(user) -> None:
    if not roles_of(user) & STAFF_ROLES:
        raise ValidationError("Only staff handle rights requests.")


def _require_reviewing(bundle: Bundle) -> None:
    if bundle.status != Status.REVIEWING:
        raise ValidationError("This bundle has been sent for sign-off and can no longer change.")


@transaction.atomic
def bundle_collect(*, request: SubjectAccessRequest, collected_by) -> Bundle:
    """Snapshot every row about the requester into items for review, with the redactions the
    register suggests (and those a safety marker makes certain)."""
    _require_staff(collected_by)
    request = SubjectAccessRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind != SubjectAccessRequest.Kind.ACCESS:
        raise ValidationError("Only an access request is answered with a bundle.")
    if request.person_id is None:
        raise ValidationError("Match the request to a person on the register first.")
    require_authority(request)
    if not request.is_open():
        raise ValidationError("This request is closed.")
    if request.bundles.exclude(status__in=[Status.FAILED, Status.EXPIRED]).exists():
        raise ValidationError("A bundle for this request is already under way.")
    bundle = Bundle.objects.create(request=request, collected_by=collected_by)
    now = timezone.now()
    items = []
    for row in collection.collect(
        request.person, date_from=request.date_from, date_to=request.date_to
    ):
        withheld = row.withheld
        rule = row.entry.withheld_from_subject
        items.append(
            SarItem(
                bundle=bundle,
                request=request,
                content_type=ContentType.objects.get_for_model(row.entry.model),
                object_id=str(row.row.pk),
                model_label=row.model_label,
                record_name=row.record_name,
                category=row.entry.category,
                data=json.dumps({"fields": row.fields, "files": row.files}),
                decision=Decision.WITHHELD if withheld else Decision.PENDING,
                exemption=rule.exemption if withheld else "",
                exemption_reason=rule.reason if withheld else "",
                withheld_by_map=withheld,
                decided_at=now if withheld else None,
            )
        )
    # One insert for the snapshot, not one audited insert per row: a heavy subject has tens of
    # thousands of rows, and the "sar_collected" event below records the collection and its size.
    items = SarItem.objects.bulk_create(items, batch_size=1000)
    SarRedaction.objects.bulk_create(
        SarRedaction(
            item=item,
            field_name=proposal.field_name,
            start=proposal.start,
            end=proposal.end,
            text=proposal.text,
            kind=proposal.kind,
            mandatory=proposal.mandatory,
            status=(
                SarRedaction.Status.ACCEPTED if proposal.mandatory else SarRedaction.Status.PROPOSED
            ),
            decided_at=now if proposal.mandatory else None,
        )
        for item, proposal in redaction.propose(request.person, items)
    )
    if request.status == SubjectAccessRequest.Status.IN_PROGRESS:
        request.status = SubjectAccessRequest.Status.IN_REVIEW
        request.save(update_fields=["status"])
    record_event(
        actor=collected_by, obj=request, event="sar_collected", bundle=bundle.pk, items=len(items)
    )
    return bundle


@transaction.atomic
def item_decide(
    *, item: SarItem, decided_by, decision: str, exemption: str = "", reason: str = ""
) -> SarItem:
    """Include an item, or withhold it under a named exemption with the reasons."""
    _require_staff(decided_by)
    item = SarItem.objects.select_for_update().select_related("bundle").get(pk=item.pk)
    _require_reviewing(item.bundle)
    if item.withheld_by_map:
        raise ValidationError(
            "This item is held back by the data map's rule: %s" % item.exemption_reason
        )
    reason = (reason or "").strip()
    if decision == Decision.INCLUDED:
        exemption, reason = "", ""
    elif decision == Decision.WITHHELD:
        if exemption not in Exemption.values:
            raise ValidationError("Choose the exemption the item is withheld under.")
        if exemption in REASON_NEEDED and not reason:
            raise ValidationError(
                "Record the factors considered."
                if exemption == Exemption.THIRD_PARTY
                else "Say which exemption applies and why."
            )
    else:
        raise ValidationError("Choose whether to include or withhold the item.")
    item.decision = decision
    item.exemption = exemption
    item.exemption_reason = reason
    item.decided_by = decided_by
    item.decided_at = timezone.now()
    item.save()
    record_event(
        actor=decided_by,
        obj=item.request,
        event="sar_item_decided",
        item=item.pk,
        decision=decision,
        exemption=exemption,
    )
    return item


@transaction.atomic
def redaction_decide(*, redaction: SarRedaction, decided_by, accept: bool) -> SarRedaction:
    """Accept or reject a proposal; a safety-protected detail cannot be left in."""
    _require_staff(decided_by)
    redaction = (
        SarRedaction.objects.select_for_update().select_related("item__bundle").get(pk=redaction.pk)
    )
    _require_reviewing(redaction.item.bundle)
    if redaction.mandatory and not accept:
        raise ValidationError(
            "This is a protected detail of someone with a safety marker: it is always redacted."
        )
    redaction.status = SarRedaction.Status.ACCEPTED if accept else SarRedaction.Status.REJECTED
    redaction.decided_by = decided_by
    redaction.decided_at = timezone.now()
    redaction.save()
    record_event(
        actor=decided_by,
        obj=redaction.item.request,
        event="sar_redaction_decided",
        redaction=redaction.pk,
        accepted=accept,
    )
    return redaction


@transaction.atomic
def redaction_add(*, item: SarItem, added_by, field_name: str, text: str) -> list[SarRedaction]:
    """The handler redacts every occurrence of some text within one field of an item."""
    _require_staff(added_by)
    item = SarItem.objects.select_for_update().select_related("bundle").get(pk=item.pk)
    _require_reviewing(item.bundle)
    text = (text or "").strip()
    fields = {f["name"]: f["value"] for f in json.loads(item.data)["fields"]}
    if field_name not in fields:
        raise ValidationError("Choose the part of the record to redact from.")
    if not text:
        raise ValidationError("Enter the words to redact.")
    value = fields[field_name]
    now = timezone.now()
    added = []
    start = value.find(text)
    while start != -1:
        added.append(
            SarRedaction.objects.create(
                item=item,
                field_name=field_name,
                start=start,
                end=start + len(text),
                text=text,
                kind=SarRedaction.Kind.MANUAL,
                status=SarRedaction.Status.ACCEPTED,
                decided_by=added_by,
                decided_at=now,
            )
        )
        start = value.find(text, start + len(text))
    if not added:
        raise ValidationError("Those words do not appear in that part of the record.")
    record_event(
        actor=added_by,
        obj=item.request,
        event="sar_redaction_added",
        item=item.pk,
        count=len(added),
    )
    return added


@transaction.atomic
def items_include_pending(*, bundle: Bundle, decided_by) -> int:
    """Include every item not yet decided, in one step: for the handler who has read them all
    on the review page and found nothing to withhold (a heavy subject has thousands). Items the
    data map holds back stay withheld, proposed redactions stay to be decided, and the audit
    names every item included."""
    _require_staff(decided_by)
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    _require_reviewing(bundle)
    pending = bundle.items.filter(decision=Decision.PENDING, withheld_by_map=False)
    included = list(pending.order_by("pk").values_list("pk", flat=True))
    if not included:
        raise ValidationError("Every item has already been decided.")
    pending.update(
        decision=Decision.INCLUDED,
        exemption="",
        exemption_reason="",
        decided_by=decided_by,
        decided_at=timezone.now(),
    )
    record_event(
        actor=decided_by,
        obj=bundle.request,
        event="sar_items_included",
        bundle=bundle.pk,
        items=included,
    )
    return len(included)


@transaction.atomic
def review_complete(*, bundle: Bundle, reviewed_by) -> Bundle:
    """The handler has decided every item and every proposal: send for sign-off."""
    _require_staff(reviewed_by)
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    _require_reviewing(bundle)
    if bundle.items.filter(decision=Decision.PENDING).exists():
        raise ValidationError("Decide every item before sending the bundle for sign-off.")
    if SarRedaction.objects.filter(
        item__bundle=bundle, status=SarRedaction.Status.PROPOSED
    ).exists():
        raise ValidationError("Accept or reject every proposed redaction first.")
    bundle.status = Status.AWAITING_SIGN_OFF
    bundle.reviewed_by = reviewed_by
    bundle.reviewed_at = timezone.now()
    bundle.save()
    record_event(actor=reviewed_by, obj=bundle.request, event="sar_reviewed", bundle=bundle.pk)
    return bundle


def reviewers_of(bundle: Bundle) -> set[int]:
    """Everyone who shaped the answer: none of them may sign it off."""
    ids = {bundle.reviewed_by_id}
    ids |= set(bundle.items.exclude(decided_by=None).values_list("decided_by", flat=True))
    ids |= set(
        SarRedaction.objects.filter(item__bundle=bundle)
        .exclude(decided_by=None)
        .values_list("decided_by", flat=True)
    )
    return ids - {None}


@transaction.atomic
def bundle_sign_off(*, bundle: Bundle, signed_off_by) -> Bundle:
    """A senior officer or the data protection lead who did not review it signs the answer off;
    the bundle is then built in the background and released when complete."""
    from sar.tasks import build_bundle

    if not roles_of(signed_off_by) & HANDLER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead signs off.")
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if bundle.status != Status.AWAITING_SIGN_OFF:
        raise ValidationError("This bundle is not waiting for sign-off.")
    if signed_off_by.pk in reviewers_of(bundle):
        raise ValidationError("Nobody signs off their own work: another officer must sign off.")
    require_authority(bundle.request)
    bundle.status = Status.QUEUED
    bundle.signed_off_by = signed_off_by
    bundle.signed_off_at = timezone.now()
    bundle.save()
    request = bundle.request
    if request.status == SubjectAccessRequest.Status.IN_REVIEW:
        request.status = SubjectAccessRequest.Status.SIGNED_OFF
        request.save(update_fields=["status"])
    record_event(actor=signed_off_by, obj=request, event="sar_signed_off", bundle=bundle.pk)
    transaction.on_commit(lambda: build_bundle.enqueue(bundle.pk))
    return bundle


@transaction.atomic
def bundle_retry(*, bundle: Bundle, retried_by) -> Bundle:
    """Queue a failed build again, once its cause has been put right."""
    from sar.tasks import build_bundle

    if not roles_of(retried_by) & HANDLER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead retries a build.")
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if bundle.status != Status.FAILED:
        raise ValidationError("Only a failed build is retried.")
    bundle.status = Status.QUEUED
    bundle.attempts = 0
    bundle.progress = 0
    bundle.save()
    record_event(actor=retried_by, obj=bundle.request, event="sar_build_retried", bundle=bundle.pk)
    transaction.on_commit(lambda: build_bundle.enqueue(bundle.pk))
    return bundle


# --- the build's state changes (called by sar.tasks) ------------------------------------------


class BuildTakenOver(Exception):
    """Recovery thought this build interrupted and queued it again: its file is not the one."""


def build_start(bundle_id: int) -> Bundle | None:
    """Claim a queued bundle for building; None when there is nothing to build. The file's name
    is chosen and kept now, so a build killed after writing it leaves no file nobody can find:
    recovery deletes it. The bundle is offered only once build_finished marks it ready."""
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().filter(pk=bundle_id).first()
        if bundle is None or bundle.status != Status.QUEUED:
            return None
        if bundle.storage_name:
            filestore.delete(bundle.storage_name)
        bundle.status = Status.BUILDING
        bundle.attempts += 1
        bundle.progress = 0
        bundle.last_error = ""
        bundle.storage_name = uuid.uuid4().hex
        bundle.checksum = ""
        bundle.heartbeat_at = timezone.now()
        bundle.save(
            update_fields=[
                "status",
                "attempts",
                "progress",
                "last_error",
                "storage_name",
                "checksum",
                "heartbeat_at",
            ]
        )
    return bundle


def build_progress(bundle: Bundle, percent: int) -> None:
    """Each update is the build's heartbeat, and stands alone: the build runs outside any
    transaction, and a failed update must not poison one it was called in."""
    bundle.progress = max(0, min(99, percent))
    with transaction.atomic():
        Bundle.objects.filter(pk=bundle.pk, status=Status.BUILDING).update(
            progress=bundle.progress, heartbeat_at=timezone.now()
        )


def build_failed(bundle: Bundle, error: BaseException | str) -> bool:
    """Record a failed attempt (its file already deleted); True when it should be tried again."""
    again = bundle.attempts < Bundle.MAX_ATTEMPTS
    bundle.status = Status.QUEUED if again else Status.FAILED
    bundle.progress = 0
    bundle.storage_name = ""
    # The exception's class only: its message could hold personal data.
    bundle.last_error = (error if isinstance(error, str) else type(error).__name__)[:200]
    with transaction.atomic():
        bundle.save(update_fields=["status", "progress", "storage_name", "last_error"])
    logger.warning(
        "bundle %s build attempt %s failed: %s", bundle.pk, bundle.attempts, bundle.last_error
    )
    return again


def checksum_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@transaction.atomic
def build_finished(bundle: Bundle, *, storage_name: str, size: int, checksum: str) -> Bundle:
    """The file is completely written: only now is the bundle ready, and released on the
    authority of whoever signed it off."""
    bundle = Bundle.objects.select_for_update().select_related("request").get(pk=bundle.pk)
    if bundle.status != Status.BUILDING or bundle.storage_name != storage_name:
        raise BuildTakenOver(bundle.pk)
    now = timezone.now()
    bundle.status = Status.READY
    bundle.progress = 100
    bundle.storage_name = storage_name
    bundle.checksum = checksum
    bundle.size = size
    bundle.built_at = now
    bundle.released_at = now
    bundle.released_by = bundle.signed_off_by
    bundle.expires_at = now + datetime.timedelta(days=Bundle.OFFER_DAYS)
    bundle.save()
    _complete_request(bundle.request, by=bundle.signed_off_by)
    record_event(
        actor=bundle.released_by, obj=bundle.request, event="sar_released", bundle=bundle.pk
    )
    return bundle


def recover_stalled_builds(*, now=None) -> str:
    """Queue again every build whose worker stopped without finishing or failing it (killed,
    the machine restarted): its heartbeat is older than Bundle.STALE_AFTER. Whatever file it
    wrote is deleted first; nothing of it was ever offered. Run by the daily jobs (tmo.daily)."""
    from sar.tasks import build_bundle

    now = now or timezone.now()
    cutoff = now - Bundle.STALE_AFTER
    stalled = Bundle.objects.filter(status=Status.BUILDING).filter(
        models.Q(heartbeat_at__lt=cutoff) | models.Q(heartbeat_at=None)
    )
    requeued = failed = 0
    for pk in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            bundle = Bundle.objects.select_for_update().get(pk=pk)
            if bundle.status != Status.BUILDING or (
                bundle.heartbeat_at and bundle.heartbeat_at >= cutoff
            ):
                continue
            storage_name = bundle.storage_name
            again = build_failed(bundle, "Interrupted")
            record_event(
                actor=None,
                obj=bundle.request,
                event="sar_build_interrupted",
                bundle=bundle.pk,
                queued_again=again,
            )
            # The file goes only once the bundle no longer names it.
            if storage_name:
                transaction.on_commit(lambda name=storage_name: filestore.delete(name))
            if again:
                transaction.on_commit(lambda pk=pk: build_bundle.enqueue(pk))
                requeued += 1
            else:
                failed += 1
    return "%d interrupted bundle builds queued again, %d failed" % (requeued, failed)


def _complete_request(request: SubjectAccessRequest, *, by) -> None:
    from sar.services.requests import complete

    complete(request=request, completed_by=by, outcome="The bundle was released to the requester.")


# --- offering the bundle ---------------------------------------------------------------------


@transaction.atomic
def bundle_expire(*, bundle: Bundle) -> Bundle:
    """Delete the file and refuse downloads from now on."""
    bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if bundle.storage_name:
        filestore.delete(bundle.storage_name)
    bundle.storage_name = ""
    bundle.status = Status.EXPIRED
    bundle.save(update_fields=["storage_name", "status"])
    record_event(actor=None, obj=bundle.request, event="sar_bundle_expired", bundle=bundle.pk)
    return bundle


def bundles_expire(*, now=None) -> int:
    """Expire every ready bundle past its date (run daily)."""
    now = now or timezone.now()
    due = Bundle.objects.filter(status=Status.READY, expires_at__lte=now)
    count = 0
    for bundle in due:
        bundle_expire(bundle=bundle)
        count += 1
    return count


def _expire_if_due(bundle: Bundle) -> Bundle:
    if bundle.status == Status.READY and bundle.expires_at and bundle.expires_at <= timezone.now():
        return bundle_expire(bundle=bundle)
    return bundle


def bundle_for_requester(*, request: SubjectAccessRequest) -> Bundle | None:
    """The bundle the requester may download now, if any: ready, released and not expired."""
    bundle = request.bundles.filter(status=Status.READY).exclude(released_at=None).first()
    if bundle is None:
        return None
    bundle = _expire_if_due(bundle)
    return bundle if bundle.is_offered else None


def bundle_open(*, bundle: Bundle, downloaded_by, remote_addr: str | None) -> bytes:
    """The decrypted zip of a ready bundle, with the download recorded; refused once expired.
    The caller has already checked that `downloaded_by` may have it."""
    bundle = _expire_if_due(Bundle.objects.get(pk=bundle.pk))
    if not bundle.is_offered:
        raise ValidationError("This bundle is not available to download.")
    data = filestore.read_decrypted(bundle.storage_name)
    # A bundle built before checksums were kept has none; any other must match to the byte.
    if bundle.checksum and checksum_of(data) != bundle.checksum:
        logger.error("bundle %s does not match its checksum; download refused", bundle.pk)
        raise ValidationError("This bundle is not available to download.")
    with transaction.atomic():
        BundleDownload.objects.create(
            bundle=bundle, downloaded_by=downloaded_by, remote_addr=remote_addr or None
        )
        record_event(
            actor=downloaded_by, obj=bundle.request, event="sar_bundle_downloaded", bundle=bundle.pk
        )
    return data
