"""Retention workflows for the data protection lead: the schedule, the daily sweep into a disposal
review, legal holds, approval, the disposal itself and its certificate.

The mechanics (what is due, deleting, anonymising) live in tmo.retention; this module adds who may
do what, the audit event for each step, and the batch that ties them together. A review and its
certificate name records by type and number only: nothing is copied out of a record.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from access.dashboard import Panel, dashboard_panel
from access.roles import Role, roles_of
from tmo import datamap, retention
from tmo.audit import record_event
from tmo.concurrency import lock_current
from tmo.retention_models import (
    DisposalCandidate,
    DisposalCertificate,
    DisposalReview,
    LegalHold,
    RetentionRule,
)

logger = logging.getLogger(__name__)

Status = DisposalCandidate.Status
READER_ROLES = frozenset({Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER})
MAX_YEARS = 100
REASON_MAX_LENGTH = 2000
# An approved disposal still not done after this is started again by the daily job.
STALLED_AFTER = datetime.timedelta(hours=6)


def _check_dpo(user, what: str) -> None:
    if Role.DATA_PROTECTION_LEAD not in roles_of(user):
        raise PermissionDenied("Only the data protection lead %s." % what)


def _required(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field_name: message})
    return value


# --- the schedule ----------------------------------------------------------------------------


@dataclass
class ScheduleRow:
    """One kind of record with the rule in force for it, as the schedule page shows it."""

    entry: datamap.PersonalData
    rule: RetentionRule
    date_label: str
    blanked: list[str]
    map_default: str

    @property
    def record_name(self) -> str:
        return self.entry.model_name

    @property
    def by_hand(self) -> bool:
        return self.rule.by_hand

    @property
    def differs_from_map(self) -> bool:
        return self.map_default != self.rule.period


def _field_labels(model, names) -> list[str]:
    return [str(model._meta.get_field(name).verbose_name) for name in names]


def schedule_row(entry: datamap.PersonalData, rule: RetentionRule) -> ScheduleRow:
    model = entry.model
    default = entry.retention
    return ScheduleRow(
        entry=entry,
        rule=rule,
        date_label=retention.date_label(model, rule.date_field) if rule.date_field else "",
        blanked=(
            _field_labels(model, retention.anonymised_fields(entry, rule.extra_fields))
            if rule.action == RetentionRule.Action.ANONYMISE
            else []
        ),
        map_default=(
            "%d year%s after %s" % (default.years, "" if default.years == 1 else "s", default.after)
            if default
            else ""
        ),
    )


def schedule_rows() -> list[ScheduleRow]:
    rules = retention.ensure_schedule()
    rows = [
        schedule_row(entry, rules[entry.model._meta.label_lower])
        for entry in datamap.personal_entries()
    ]
    return sorted(rows, key=lambda row: (row.entry.model._meta.app_label, row.record_name))


def entry_of(rule: RetentionRule) -> datamap.PersonalData:
    entry = retention.entry_for_label(rule.model_label)
    if entry is None or not entry.is_personal:
        raise ValidationError("This kind of record is no longer in the data map.")
    return entry


@transaction.atomic
def update_rule(
    *,
    changed_by,
    rule: RetentionRule,
    years: int,
    after: str,
    date_field: str,
    action: str,
    extra_fields: list[str],
    notes: str,
) -> RetentionRule:
    """Change one rule of the schedule. The audit entry names what changed, from what to what;
    everything that reads the schedule (the sweep, erasure, the published code) follows it."""
    _check_dpo(changed_by, "changes the retention schedule")
    # Refused (StaleEdit) when the page was drawn from an older version: tmo.concurrency.
    lock_current(rule)
    rule = RetentionRule.objects.get(pk=rule.pk)
    entry = entry_of(rule)
    if years is None or not 0 <= years <= MAX_YEARS:
        raise ValidationError({"years": "Enter a number of years from 0 to %d." % MAX_YEARS})
    after = _required(after, "after", "Enter the event the period counts from.")
    date_field = (date_field or "").strip()
    if date_field and not retention.valid_date_path(entry.model, date_field):
        raise ValidationError({"date_field": "Choose a date this kind of record holds."})
    if action not in RetentionRule.Action.values:
        raise ValidationError({"action": "Choose what happens at the end of the period."})
    blankable = {f.name for f in retention.blankable_fields(entry.model)}
    extra = sorted(set(extra_fields or ()))
    if set(extra) - blankable:
        raise ValidationError({"extra_fields": "Choose only details this record holds."})
    new = {
        "years": years,
        "after": after,
        "date_field": date_field,
        "action": action,
        "extra_fields": extra,
        "notes": (notes or "").strip(),
    }
    changes = {
        name: [getattr(rule, name), value]
        for name, value in new.items()
        if getattr(rule, name) != value
    }
    if not changes:
        return rule
    for name, value in new.items():
        setattr(rule, name, value)
    rule.changed_by = changed_by
    rule.changed_at = timezone.now()
    rule.save()
    record_event(
        actor=changed_by,
        obj=rule,
        event="retention_rule_changed",
        model_label=rule.model_label,
        changed=changes,
    )
    return rule


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    review: DisposalReview | None = None
    added: int = 0
    removed: int = 0
    held: int = 0
    by_hand: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        if self.review is None:
            return 0
        return self.review.candidates.filter(status=Status.PROPOSED).count()

    def summary(self) -> str:
        if self.review is None:
            text = "Nothing past its retention date."
        else:
            text = "Disposal review #%d: %d row%s to review (%d new, %d no longer due)." % (
                self.review.pk,
                self.waiting,
                "" if self.waiting == 1 else "s",
                self.added,
                self.removed,
            )
        if self.held:
            text += " %d on legal hold skipped." % self.held
        if self.by_hand:
            text += " %d kind%s of record reviewed by hand, not swept: %s." % (
                len(self.by_hand),
                "" if len(self.by_hand) == 1 else "s",
                ", ".join(self.by_hand),
            )
        return text


def open_review() -> DisposalReview | None:
    return DisposalReview.objects.filter(status=DisposalReview.Status.OPEN).first()


@transaction.atomic
def sweep(*, actor=None, today: datetime.date | None = None) -> SweepResult:
    """List the rows past their date into the open disposal review, starting one if needed.

    Rows already in the open review keep the DPO's decisions; rows no longer due (the schedule
    changed, or a date moved) leave it; rows on legal hold are never added, and one put on hold
    since is marked so. Rules with no date field are skipped and named in the summary."""
    today = today or timezone.localdate()
    rules = retention.ensure_schedule()
    held = retention.held_keys(today)
    result = SweepResult()
    due: dict[tuple[str, str], retention.DueRow] = {}
    actions: dict[str, str] = {}
    for entry in datamap.personal_entries():
        label = entry.model._meta.label_lower
        rule = rules[label]
        if not rule.date_field or not retention.valid_date_path(entry.model, rule.date_field):
            result.by_hand.append(label)
            continue
        actions[label] = rule.action
        for row in retention.due_rows(entry, rule, today):
            due[row.key] = row
    # Rows in a disposal under way, and rows already anonymised (they stay past their date for
    # good, as rows for the figures), are not proposed again.
    settled = set(
        DisposalCandidate.objects.filter(
            Q(review__status=DisposalReview.Status.APPROVED) | Q(status=Status.ANONYMISED)
        ).values_list("model_label", "object_id")
    )
    review = (
        DisposalReview.objects.select_for_update().filter(status=DisposalReview.Status.OPEN).first()
    )
    existing = {c.key: c for c in review.candidates.all()} if review else {}
    for key, candidate in existing.items():
        if key not in due:
            candidate.delete()
            result.removed += 1
            continue
        row = due[key]
        status = candidate.status
        if key in held and status == Status.PROPOSED:
            status = Status.HELD
        elif key not in held and status == Status.HELD:
            status = Status.PROPOSED
        current = (row.ends_on, actions[row.model_label], status)
        if current != (candidate.due_on, candidate.action, candidate.status):
            candidate.due_on, candidate.action, candidate.status = current
            candidate.save(update_fields=["due_on", "action", "status"])
    new = []
    for key, row in due.items():
        if key in existing or key in settled:
            continue
        if key in held:
            result.held += 1
            continue
        new.append(row)
    if new and review is None:
        review = DisposalReview.objects.create()
    if review is not None:
        DisposalCandidate.objects.bulk_create(
            DisposalCandidate(
                review=review,
                model_label=row.model_label,
                object_id=row.object_id,
                due_on=row.ends_on,
                action=actions[row.model_label],
            )
            for row in new
        )
        result.added = len(new)
        review.swept_at = timezone.now()
        review.save(update_fields=["swept_at"])
        if result.added or result.removed:
            record_event(
                actor=actor,
                obj=review,
                event="disposal_review_swept",
                added=result.added,
                removed=result.removed,
            )
    result.review = review
    return result


def daily_sweep() -> str:
    """The daily job: the disposal review sweep, and the sign-in logs past their days. An
    approved disposal whose task never finished (a worker stopped mid-way rolls it all back) is
    started again."""
    stalled = list(
        DisposalReview.objects.filter(
            status=DisposalReview.Status.APPROVED,
            approved_at__lt=timezone.now() - STALLED_AFTER,
        ).values_list("pk", flat=True)
    )
    for review_id in stalled:
        run_disposal.enqueue(review_id)
    result = sweep()
    removed = retention.sweep_axes_logs()
    text = "%s %d sign-in log entr%s removed." % (
        result.summary(),
        removed,
        "y" if removed == 1 else "ies",
    )
    if stalled:
        text += " %d approved disposal%s started again." % (
            len(stalled),
            "" if len(stalled) == 1 else "s",
        )
    return text


# --- legal holds -----------------------------------------------------------------------------


@transaction.atomic
def place_hold(
    *,
    placed_by,
    model_label: str,
    object_id: str,
    reason: str,
    ends_on: datetime.date | None = None,
) -> LegalHold:
    """Keep one record (or, for a person's register entry, everything about them) out of every
    disposal until the hold is lifted or ends. Rows waiting in the open review are marked held."""
    _check_dpo(placed_by, "places legal holds")
    entry = retention.entry_for_label(model_label)
    if entry is None or not entry.is_personal:
        raise ValidationError({"model_label": "Choose the kind of record to hold."})
    object_id = str(object_id or "").strip().lstrip("#")
    if not object_id.isdigit() or not entry.model._default_manager.filter(pk=object_id).exists():
        raise ValidationError({"object_id": "No record of that kind has that number."})
    reason = _required(reason, "reason", "Enter why the record must be kept.")
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValidationError({"ends_on": "The end date must be today or in the future."})
    label = entry.model._meta.label_lower
    if LegalHold.objects.filter(
        LegalHold.live_filter(), model_label=label, object_id=object_id
    ).exists():
        raise ValidationError("This record is already on legal hold.")
    hold = LegalHold.objects.create(
        model_label=label,
        object_id=object_id,
        reason=reason,
        ends_on=ends_on,
        placed_by=placed_by,
    )
    held = retention.held_keys()
    waiting = DisposalCandidate.objects.filter(
        review__status=DisposalReview.Status.OPEN, status=Status.PROPOSED
    )
    for candidate in waiting:
        if candidate.key in held:
            candidate.status = Status.HELD
            candidate.save(update_fields=["status"])
    record_event(
        actor=placed_by,
        obj=hold,
        event="legal_hold_placed",
        model_label=label,
        object_id=object_id,
        ends_on=ends_on.isoformat() if ends_on else "",
    )
    return hold


@transaction.atomic
def lift_hold(*, lifted_by, hold: LegalHold, reason: str) -> LegalHold:
    _check_dpo(lifted_by, "lifts legal holds")
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        raise ValidationError("This hold has already been lifted.")
    hold.lift_reason = _required(reason, "reason", "Enter why the record no longer needs keeping.")
    hold.lifted_by = lifted_by
    hold.lifted_at = timezone.now()
    hold.save()
    record_event(
        actor=lifted_by,
        obj=hold,
        event="legal_hold_lifted",
        model_label=hold.model_label,
        object_id=hold.object_id,
    )
    return hold


# --- reviewing and approving ----------------------------------------------------------------


def _open_for_decisions(review: DisposalReview) -> DisposalReview:
    review = DisposalReview.objects.select_for_update().get(pk=review.pk)
    if not review.is_open:
        raise ValidationError("This disposal review has already been approved.")
    return review


@transaction.atomic
def exclude_candidates(
    *, decided_by, review: DisposalReview, candidate_ids: list[int], reason: str
) -> int:
    """Keep the chosen rows this time. They are proposed again by a later review while past
    their date: a row to be kept for longer needs a legal hold."""
    _check_dpo(decided_by, "decides what is disposed of")
    review = _open_for_decisions(review)
    reason = _required(reason, "reason", "Enter why these rows are kept this time.")
    rows = review.candidates.filter(pk__in=candidate_ids, status=Status.PROPOSED)
    count = rows.update(
        status=Status.EXCLUDED, note=reason, decided_by=decided_by, decided_at=timezone.now()
    )
    if not count:
        raise ValidationError({"candidates": "Choose the rows to keep."})
    record_event(actor=decided_by, obj=review, event="disposal_rows_excluded", count=count)
    return count


@transaction.atomic
def restore_candidates(*, decided_by, review: DisposalReview, candidate_ids: list[int]) -> int:
    _check_dpo(decided_by, "decides what is disposed of")
    review = _open_for_decisions(review)
    rows = review.candidates.filter(pk__in=candidate_ids, status=Status.EXCLUDED)
    count = rows.update(status=Status.PROPOSED, note="", decided_by=None, decided_at=None)
    if not count:
        raise ValidationError({"candidates": "Choose the rows to put back."})
    record_event(actor=decided_by, obj=review, event="disposal_rows_restored", count=count)
    return count


@transaction.atomic
def approve_review(*, approved_by, review: DisposalReview) -> DisposalReview:
    """Approve the disposal of every row still proposed. The disposal itself runs in the task
    worker once this commits; the form that calls this has already checked the password."""
    _check_dpo(approved_by, "approves disposal")
    review = _open_for_decisions(review)
    proposed = review.candidates.filter(status=Status.PROPOSED).count()
    if not proposed:
        raise ValidationError("Nothing in this review is left to dispose of.")
    review.status = DisposalReview.Status.APPROVED
    review.approved_by = approved_by
    review.approved_at = timezone.now()
    review.save()
    record_event(actor=approved_by, obj=review, event="disposal_approved", proposed=proposed)
    review_id = review.pk
    transaction.on_commit(lambda: run_disposal.enqueue(review_id))
    return review


# --- disposal --------------------------------------------------------------------------------


@task()
def run_disposal(review_id: int) -> str:
    certificate = dispose_review(review_id)
    if certificate is None:
        return "nothing to dispose of"
    return "%s: %d deleted, %d anonymised, %d blocked" % (
        certificate.number,
        certificate.total("deleted"),
        certificate.total("anonymised"),
        certificate.total("blocked"),
    )


def _dispose_one(candidate: DisposalCandidate, *, actor, held: set, today) -> int:
    """Delete or anonymise one candidate's row in its own savepoint. Sets the candidate's
    outcome; returns the number of files removed."""
    entry = retention.entry_for_label(candidate.model_label)
    if entry is None:
        candidate.status = Status.GONE
        return 0
    row = entry.model._default_manager.filter(pk=candidate.object_id).first()
    if row is None:
        candidate.status = Status.GONE
        return 0
    if candidate.key in held:
        candidate.status = Status.HELD
        return 0
    if not retention.retention_status(entry, row).expired(today):
        candidate.status = Status.NOT_DUE
        return 0
    try:
        with transaction.atomic():
            if candidate.action == RetentionRule.Action.ANONYMISE:
                rule = retention.rule_for(entry)
                names, files = retention.anonymise(
                    row, extra_fields=rule.extra_fields if rule else ()
                )
                record_event(
                    actor=actor,
                    obj=row,
                    event="retention_anonymised",
                    review=candidate.review_id,
                    fields=names,
                )
                candidate.status = Status.ANONYMISED
            else:
                files = len(retention.owned_files(row))
                retention.dispose([row])
                candidate.status = Status.DELETED
    except ValidationError as error:
        candidate.status = Status.BLOCKED
        candidate.note = " ".join(error.messages)
        return 0
    except OperationalError:
        # The connection failed, not this row: the whole disposal stops and is run again later,
        # rather than calling the row blocked and completing the review without it.
        raise
    except DatabaseError:
        logger.exception("Disposal of %s %s refused", candidate.model_label, candidate.object_id)
        candidate.status = Status.BLOCKED
        candidate.note = "The database refused the change; see the server log."
        return 0
    return files


@transaction.atomic
def dispose_review(review_id: int) -> DisposalCertificate | None:
    """Dispose of every row still proposed in an approved review, each on its own so one that is
    blocked (still needed by a record that is kept) does not stop the others, and write the
    certificate. Deletions leave auditlog DELETE entries on the approver's name; nothing already
    in the audit trail is touched."""
    review = DisposalReview.objects.select_for_update().filter(pk=review_id).first()
    if review is None or review.status != DisposalReview.Status.APPROVED:
        return None
    today = timezone.localdate()
    held = retention.held_keys(today)
    candidates = list(review.candidates.filter(status=Status.PROPOSED))
    order = {
        label: i
        for i, label in enumerate(retention.dependency_order(c.model_label for c in candidates))
    }
    candidates.sort(key=lambda c: (order[c.model_label], c.due_on, c.pk))
    files = 0
    with set_actor(review.approved_by):
        for candidate in candidates:
            files += _dispose_one(candidate, actor=review.approved_by, held=held, today=today)
            candidate.decided_at = timezone.now()
            candidate.save(update_fields=["status", "note", "decided_at"])
        now = timezone.now()
        certificate = DisposalCertificate.objects.create(
            review=review,
            approved_by=review.approved_by,
            approved_at=review.approved_at,
            completed_at=now,
            lines=certificate_lines(review),
            files_removed=files,
        )
        review.status = DisposalReview.Status.COMPLETED
        review.completed_at = now
        review.save(update_fields=["status", "completed_at"])
        record_event(
            actor=review.approved_by,
            obj=review,
            event="disposal_completed",
            certificate=certificate.number,
            deleted=certificate.total("deleted"),
            anonymised=certificate.total("anonymised"),
            blocked=certificate.total("blocked"),
            files=files,
        )
    return certificate


COUNTED = {
    Status.DELETED: "deleted",
    Status.ANONYMISED: "anonymised",
    Status.BLOCKED: "blocked",
    Status.HELD: "held",
    Status.EXCLUDED: "excluded",
    Status.GONE: "gone",
    Status.NOT_DUE: "not_due",
}


def certificate_lines(review: DisposalReview) -> list[dict]:
    """One line per kind of record: its name, category, the rule applied and the counts. Reasons
    for blocked rows are the collector's ("still needed by 2 work orders"): kinds and counts."""
    lines: dict[str, dict] = {}
    reasons: dict[str, dict[str, int]] = defaultdict(dict)
    for candidate in review.candidates.order_by("model_label", "pk"):
        label = candidate.model_label
        if label not in lines:
            entry = retention.entry_for_label(label)
            rule = retention.rule_for(entry) if entry else None
            lines[label] = {
                "model_label": label,
                "record": entry.model_name if entry else label,
                "category": str(entry.category_label) if entry else "",
                "rule": rule.period if rule else "",
                "action": str(RetentionRule.Action(candidate.action).label),
                **dict.fromkeys(COUNTED.values(), 0),
            }
        key = COUNTED.get(candidate.status)
        if key:
            lines[label][key] += 1
        if candidate.status == Status.BLOCKED and candidate.note:
            reasons[label][candidate.note] = reasons[label].get(candidate.note, 0) + 1
    for label, line in lines.items():
        line["blocked_reasons"] = [
            {"reason": reason, "count": count} for reason, count in reasons[label].items()
        ]
    return sorted(lines.values(), key=lambda line: line["record"])


def certificate_pdf(certificate: DisposalCertificate, *, exported_by) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "access/retention/certificate_pdf.html",
        {
            "certificate": certificate,
            "exported_by": exported_by.get_full_name() or exported_by.get_username(),
            "exported_at": timezone.localtime(),
        },
    )
    return HTML(string=html).write_pdf()


@transaction.atomic
def certificate_exported(*, exported_by, certificate: DisposalCertificate):
    return record_event(
        actor=exported_by,
        obj=certificate,
        event="disposal_certificate_exported",
        certificate=certificate.number,
    )


@dashboard_panel
def disposal_review_panel(user) -> Panel | None:
    if Role.DATA_PROTECTION_LEAD not in roles_of(user):
        return None
    review = open_review()
    count = review.candidates.filter(status=Status.PROPOSED).count() if review else 0
    if not count:
        return None
    return Panel(
        title="Records past their retention date",
        count=count,
        url=reverse("disposal_review_detail", args=[review.pk]),
        link_text="Review disposal",
        description="Place legal holds or exclude rows, then approve the disposal of the rest.",
    )
