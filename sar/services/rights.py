"""Carrying rectification, erasure and restriction through to the records.

Erasure reads the personal-data map: every row about the person, with what its lawful basis and
retention rule say about erasing it (Art. 17(1) and (3)). The handler chooses what goes; rows are
deleted through tmo.retention.dispose, which deletes nothing if a row is still needed elsewhere or
would take someone else's data with it. A correction goes through the register's own service. A
restriction is a marker on the person that every page shows and disclosures respect, lifted only
after the person has been told (Art. 18(3)). Each step records a RightsAction per row, with the
reasons for anything kept, in the same transaction as the change.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from access.roles import STAFF_ROLES, roles_of
from records import services as records_services
from records.models import Marker, Person
from sar import collection
from sar.models import RightsAction, SubjectAccessRequest
from sar.models.requests import HANDLER_ROLES
from sar.services.requests import _locked, _must_be_open
from tmo import datamap, retention
from tmo.audit import record_event
from tmo.datamap import LawfulBasis

Kind = SubjectAccessRequest.Kind
Action = RightsAction.Action

# Which rights each step carries out. A restriction also applies while the accuracy of the data
# is contested or an objection is considered (Art. 18(1)(a) and (d)); withdrawing consent or
# objecting may end in erasure (Art. 17(1)(b) and (c)).
ERASE_KINDS = frozenset({Kind.ERASURE, Kind.WITHDRAW_CONSENT, Kind.OBJECTION})
RECTIFY_KINDS = frozenset({Kind.RECTIFICATION})
RESTRICT_KINDS = frozenset({Kind.RESTRICTION, Kind.OBJECTION, Kind.RECTIFICATION})


class Suggestion:
    ERASE = "erase"
    KEEP = "keep"
    JUDGE = "judge"


@dataclass
class ErasureRow:
    """One row about the person, with what the map says about erasing it."""

    entry: datamap.PersonalData
    row: object
    summary: str
    status: retention.RetentionStatus
    suggestion: str
    grounds: str

    @property
    def key(self) -> str:
        return "%s:%s" % (self.entry.model._meta.label_lower, self.row.pk)

    @property
    def record_name(self) -> str:
        return self.entry.model_name


def _until(entry: datamap.PersonalData, status: retention.RetentionStatus) -> str:
    if status.ends_on is not None:
        return " It is kept until %s." % status.ends_on.strftime("%-d %B %Y")
    rule = retention.schedule_for(entry)
    if rule is not None:
        return " It is kept for %s." % rule
    return ""


def assess(entry: datamap.PersonalData, row, *, withheld: bool, today: datetime.date):
    """What the map says about erasing one row: a suggestion and its grounds, in plain words."""
    status = retention.retention_status(entry, row)
    if status.expired(today):
        return (
            status,
            Suggestion.ERASE,
            "Its retention period ended on %s, so it should not be kept."
            % status.ends_on.strftime("%-d %B %Y"),
        )
    if withheld:
        return (
            status,
            Suggestion.KEEP,
            "Held for the prevention or detection of crime, where erasing it would prejudice "
            "that (DPA 2018 Sch. 2 para 2)." + _until(entry, status),
        )
    basis = entry.lawful_basis
    if basis == LawfulBasis.CONSENT:
        return status, Suggestion.ERASE, "Held only on the person's consent."
    if basis == LawfulBasis.LEGAL_OBLIGATION:
        return (
            status,
            Suggestion.KEEP,
            "The law requires us to keep it (Art. 17(3)(b))." + _until(entry, status),
        )
    if basis == LawfulBasis.CONTRACT and status.running:
        return (
            status,
            Suggestion.KEEP,
            "Still needed for a tenancy or contract that has not ended." + _until(entry, status),
        )
    if basis in {LawfulBasis.CONTRACT, LawfulBasis.PUBLIC_TASK}:
        return (
            status,
            Suggestion.JUDGE,
            "Kept for possible claims and our housing functions (Art. 17(3)(b) and (e)); erase "
            "it if it is no longer needed for them." + _until(entry, status),
        )
    if basis == LawfulBasis.VITAL_INTERESTS:
        return (
            status,
            Suggestion.JUDGE,
            "Held to keep someone safe: erase it only if it no longer serves that.",
        )
    return (
        status,
        Suggestion.JUDGE,
        "Held on our legitimate interests: erase it unless there are overriding legitimate "
        "grounds to keep it.",
    )


def _summary(collected: collection.CollectedRow) -> str:
    text = str(collected.row)
    return text if len(text) <= 160 else text[:157] + "..."


def erasure_rows(person: Person, today: datetime.date | None = None) -> list[ErasureRow]:
    """Every row about the person that erasure could reach: the register entry itself stays
    while requests about them are kept, and sar's own rows are how the request is answered."""
    today = today or timezone.localdate()
    rows = []
    for collected in collection.collect(person):
        label = collected.model_label
        if label == Person._meta.label_lower or label.startswith("sar."):
            continue
        status, suggestion, grounds = assess(
            collected.entry, collected.row, withheld=collected.withheld, today=today
        )
        rows.append(
            ErasureRow(
                entry=collected.entry,
                row=collected.row,
                summary=_summary(collected),
                status=status,
                suggestion=suggestion,
                grounds=grounds,
            )
        )
    return rows


def may_carry_out(user, request: SubjectAccessRequest, kinds) -> bool:
    return (
        request.kind in kinds
        and request.is_open()
        and request.person_id is not None
        and request.status != SubjectAccessRequest.Status.AWAITING_IDENTITY
        and bool(roles_of(user) & STAFF_ROLES)
    )


def _ready(request: SubjectAccessRequest, kinds, what: str) -> SubjectAccessRequest:
    request = _locked(request)
    _must_be_open(request)
    if request.kind not in kinds:
        raise ValidationError("A %s request does not %s." % (request.get_kind_display(), what))
    if request.person_id is None:
        raise ValidationError("Match the request to a person on the register first.")
    if request.status == SubjectAccessRequest.Status.AWAITING_IDENTITY:
        raise ValidationError("Confirm the requester's identity before changing their records.")
    return request


def _action(request, *, action, row, record_name, done_by, reason, changed_fields=""):
    return RightsAction.objects.create(
        request=request,
        action=action,
        model_label=row._meta.label_lower,
        object_id=str(row.pk),
        record_name=record_name,
        changed_fields=changed_fields,
        reason=reason,
        done_by=done_by,
    )


@transaction.atomic
def rights_erase(
    *, request: SubjectAccessRequest, erased_by, erase: list[str], reason: str
) -> list[RightsAction]:
    """Erase the chosen rows about the person and record, for every row about them, whether it
    was erased or kept and why. All or nothing: a row that cannot go stops the whole step."""
    if not roles_of(erased_by) & HANDLER_ROLES:
        raise ValidationError("Only a senior officer or the data protection lead erases records.")
    request = _ready(request, ERASE_KINDS, "ask for anything to be erased")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why these records are erased and the rest kept"})
    rows = erasure_rows(request.person)
    by_key = {row.key: row for row in rows}
    if set(erase) - by_key.keys():
        raise ValidationError(
            {"erase": "Some of the records chosen are no longer there. Choose again."}
        )
    if not erase and not rows:
        raise ValidationError("Nothing about this person is held that erasure could reach.")
    reason = reason.strip()
    chosen = set(erase)
    actions = []
    for row in rows:
        erased = row.key in chosen
        actions.append(
            _action(
                request,
                action=Action.ERASED if erased else Action.KEPT,
                row=row.row,
                record_name=row.record_name,
                done_by=erased_by,
                reason=reason if erased else "%s %s" % (row.grounds, reason),
            )
        )
    try:
        retention.dispose([by_key[key].row for key in erase])
    except ValidationError as error:
        raise ValidationError({"erase": error.messages}) from error
    record_event(
        actor=erased_by,
        obj=request,
        event="sar_records_erased",
        erased=list(erase),
        kept=len(rows) - len(chosen),
    )
    return actions


# Person fields a correction may change, with their labels for the record of what was done.
def _label(field_name: str) -> str:
    return str(Person._meta.get_field(field_name).verbose_name).capitalize()


@transaction.atomic
def rights_rectify(
    *, request: SubjectAccessRequest, rectified_by, person: Person, reason: str
) -> RightsAction:
    """Save the corrected details through the register's own service and record which details
    changed (their names, not their values: the audit log holds those, masked as the map says)."""
    request = _ready(request, RECTIFY_KINDS, "ask for a correction")
    if person.pk != request.person_id:
        raise ValidationError("Correct the record of the person the request is about.")
    if not reason.strip():
        raise ValidationError({"reason": "Enter what was wrong and how you checked it"})
    stored = Person.objects.get(pk=person.pk)
    changed = [
        field.name
        for field in Person._meta.concrete_fields
        if not field.primary_key
        and not field.name.endswith("_confirmed_on")
        and field.name != "edit_version"
        and getattr(stored, field.attname) != getattr(person, field.attname)
    ]
    if not changed:
        raise ValidationError(
            "Nothing was changed. If the details are right, complete the request and give the "
            "reasons for not correcting them."
        )
    records_services.person_save(actor=rectified_by, person=person)
    action = _action(
        request,
        action=Action.RECTIFIED,
        row=person,
        record_name=Person._meta.verbose_name.capitalize(),
        done_by=rectified_by,
        reason=reason.strip(),
        changed_fields=", ".join(_label(name) for name in changed),
    )
    record_event(actor=rectified_by, obj=request, event="sar_records_rectified", fields=changed)
    return action


def active_restriction(person: Person) -> Marker | None:
    today = timezone.localdate()
    return next(
        (
            marker
            for marker in person.markers.all()
            if marker.kind == Marker.Kind.PROCESSING_RESTRICTED and marker.is_active_on(today)
        ),
        None,
    )


@transaction.atomic
def rights_restrict(*, request: SubjectAccessRequest, restricted_by, reason: str) -> Marker:
    """Mark the person's records as restricted: every page shows it, and a disclosure about
    them goes to the data protection lead."""
    request = _ready(request, RESTRICT_KINDS, "ask for processing to be restricted")
    if not reason.strip():
        raise ValidationError({"reason": "Enter why processing is restricted, and until when"})
    person = Person.objects.select_for_update().get(pk=request.person_id)
    if active_restriction(person) is not None:
        raise ValidationError("Processing of this person's data is already restricted.")
    marker = records_services.marker_add(
        created_by=restricted_by,
        person=person,
        marker=Marker(
            kind=Marker.Kind.PROCESSING_RESTRICTED,
            details="Restricted under request %s: %s" % (request.reference, reason.strip()),
        ),
    )
    _action(
        request,
        action=Action.RESTRICTED,
        row=marker,
        record_name=Marker._meta.verbose_name.capitalize(),
        done_by=restricted_by,
        reason=reason.strip(),
    )
    record_event(actor=restricted_by, obj=request, event="sar_processing_restricted")
    return marker


@transaction.atomic
def rights_restriction_lift(
    *, request: SubjectAccessRequest, lifted_by, reason: str, told_on: datetime.date
) -> Marker:
    """End the restriction. The person must have been told before it is lifted (Art. 18(3)),
    so the day they were told is recorded and cannot be after today."""
    if not roles_of(lifted_by) & HANDLER_ROLES:
        raise ValidationError(
            "Only a senior officer or the data protection lead lifts a restriction."
        )
    request = _locked(request)
    if request.person_id is None:
        raise ValidationError("Match the request to a person on the register first.")
    errors = {}
    if not reason.strip():
        errors["reason"] = "Enter why the restriction can be lifted"
    today = timezone.localdate()
    if told_on is None:
        errors["told_on"] = "Enter the date the person was told the restriction will be lifted"
    elif told_on > today:
        errors["told_on"] = "The person must be told before the restriction is lifted"
    if errors:
        raise ValidationError(errors)
    person = Person.objects.select_for_update().get(pk=request.person_id)
    marker = active_restriction(person)
    if marker is None:
        raise ValidationError("Processing of this person's data is not restricted.")
    # A marker is shown up to and including its end date: ending it yesterday lifts it now.
    marker.ends_on = today - datetime.timedelta(days=1)
    marker.save(update_fields=["ends_on"])
    _action(
        request,
        action=Action.RESTRICTION_LIFTED,
        row=marker,
        record_name=Marker._meta.verbose_name.capitalize(),
        done_by=lifted_by,
        reason="%s The person was told on %s." % (reason.strip(), told_on.strftime("%-d %B %Y")),
    )
    record_event(actor=lifted_by, obj=request, event="sar_restriction_lifted")
    return marker


def outcome_summary(request: SubjectAccessRequest) -> str:
    """A first draft of the outcome from what was done, for the handler to edit on completion."""
    lines = []
    counts: dict = {}
    for action in request.rights_actions.all():
        if action.action == Action.RECTIFIED:
            lines.append("We corrected: %s." % action.changed_fields)
        elif action.action in {Action.RESTRICTED, Action.RESTRICTION_LIFTED}:
            lines.append("%s: %s" % (action.get_action_display(), action.reason))
        else:
            counts[action.action] = counts.get(action.action, 0) + 1
    if erased := counts.get(Action.ERASED):
        lines.append("We erased %d record%s about you." % (erased, "" if erased == 1 else "s"))
    if kept := counts.get(Action.KEPT):
        lines.append(
            "We kept %d record%s, because the law or your tenancy requires us to, or for the "
            "reasons given to you." % (kept, "" if kept == 1 else "s")
        )
    return "\n".join(lines)
