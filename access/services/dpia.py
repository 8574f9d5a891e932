"""The register of data protection impact assessments: drafting, the DPO's advice, sign-off by
someone other than the author, and the review date that keeps each one current.

Changing a signed-off assessment returns it to draft: what was signed off is no longer what the
register says, so it needs signing off again (the audit log keeps what changed and who did it).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access.dashboard import Panel, dashboard_panel
from access.models import ImpactAssessment
from access.roles import Role, roles_of
from access.services.breaches import category_labels, check_map_labels
from tmo.audit import record_event
from tmo.concurrency import lock_current

DPIA_ROLES = frozenset({Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER})
Status = ImpactAssessment.Status
CONTENT_FIELDS = ("title", "description", "covers", "risks", "measures", "dpo_advice")


def may_manage(user) -> bool:
    return bool(roles_of(user) & DPIA_ROLES)


def _check(user) -> None:
    if not may_manage(user):
        raise PermissionDenied("Only the data protection lead and senior officers keep DPIAs.")


def _locked(assessment: ImpactAssessment) -> ImpactAssessment:
    # Refused (StaleEdit) when the page was drawn from an older version: see tmo.concurrency.
    return lock_current(assessment)


def _text(value) -> str:
    return (value or "").strip()


def _apply(assessment: ImpactAssessment, user, values: dict) -> list[str]:
    """Set the content fields from `values`, checked; returns the names that changed."""
    title = _text(values.get("title"))
    if not title:
        raise ValidationError({"title": "Enter the name of the project or system."})
    description = _text(values.get("description"))
    if not description:
        raise ValidationError({"description": "Describe the project or system."})
    new = {
        "title": title,
        "description": description,
        "covers": check_map_labels(values.get("covers"), "covers"),
        "risks": _text(values.get("risks")),
        "measures": _text(values.get("measures")),
        "dpo_advice": _text(values.get("dpo_advice", assessment.dpo_advice)),
    }
    if new["dpo_advice"] != assessment.dpo_advice and Role.DATA_PROTECTION_LEAD not in roles_of(
        user
    ):
        raise ValidationError({"dpo_advice": "Only the data protection lead gives DPO advice."})
    changed = [name for name in CONTENT_FIELDS if getattr(assessment, name) != new[name]]
    for name, value in new.items():
        setattr(assessment, name, value)
    return changed


@transaction.atomic
def create_assessment(*, user, values: dict, now=None) -> ImpactAssessment:
    _check(user)
    now = now or timezone.now()
    assessment = ImpactAssessment(author=user, created_at=now, updated_at=now)
    _apply(assessment, user, values)
    assessment.full_clean()
    assessment.save()
    record_event(actor=user, obj=assessment, event="dpia_created")
    return assessment


@transaction.atomic
def update_assessment(
    *, user, assessment: ImpactAssessment, values: dict, now=None
) -> ImpactAssessment:
    _check(user)
    assessment = _locked(assessment)
    if assessment.status == Status.RETIRED:
        raise ValidationError("This assessment is no longer in use; it cannot change.")
    changed = _apply(assessment, user, values)
    if not changed:
        return assessment
    reopened = assessment.status == Status.SIGNED_OFF
    if reopened:
        assessment.status = Status.DRAFT
        assessment.signed_off_by = None
        assessment.signed_off_at = None
        assessment.sign_off_notes = ""
    assessment.updated_at = now or timezone.now()
    assessment.full_clean()
    assessment.save()
    record_event(
        actor=user, obj=assessment, event="dpia_updated", fields=changed, reopened=reopened
    )
    return assessment


def sign_off_problems(assessment: ImpactAssessment) -> list[str]:
    problems = []
    if not assessment.covers:
        problems.append("Say which parts of the personal-data map it covers.")
    if not assessment.risks:
        problems.append("Describe the risks to people.")
    if not assessment.measures:
        problems.append("Describe the measures that address the risks.")
    if not assessment.dpo_advice:
        problems.append("The data protection lead's advice is needed first.")
    return problems


@transaction.atomic
def sign_off_assessment(
    *,
    user,
    assessment: ImpactAssessment,
    review_on: datetime.date | None,
    notes: str = "",
    now=None,
) -> ImpactAssessment:
    """Sign-off by a senior officer or the DPO who did not write it, with the date to review it."""
    _check(user)
    assessment = _locked(assessment)
    now = now or timezone.now()
    if assessment.author_id == user.pk:
        raise ValidationError("Someone other than the author must sign off an assessment.")
    if assessment.status != Status.DRAFT:
        raise ValidationError("Only a draft assessment can be signed off.")
    problems = sign_off_problems(assessment)
    if problems:
        raise ValidationError(problems)
    if review_on is None:
        raise ValidationError({"review_on": "Enter the date to review the assessment by."})
    if review_on <= timezone.localdate(now):
        raise ValidationError({"review_on": "The review date must be in the future."})
    assessment.status = Status.SIGNED_OFF
    assessment.signed_off_by = user
    assessment.signed_off_at = now
    assessment.sign_off_notes = _text(notes)
    assessment.review_on = review_on
    assessment.save()
    record_event(
        actor=user, obj=assessment, event="dpia_signed_off", review_on=review_on.isoformat()
    )
    return assessment


@transaction.atomic
def retire_assessment(*, user, assessment: ImpactAssessment, now=None) -> ImpactAssessment:
    _check(user)
    assessment = _locked(assessment)
    if assessment.status == Status.RETIRED:
        raise ValidationError("This assessment is already marked as no longer in use.")
    assessment.status = Status.RETIRED
    assessment.updated_at = now or timezone.now()
    assessment.save()
    record_event(actor=user, obj=assessment, event="dpia_retired")
    return assessment


def covers_labels(assessment: ImpactAssessment) -> list[str]:
    return category_labels(assessment.covers)


@dashboard_panel
def dpia_review_panel(user) -> Panel | None:
    """Signed-off assessments past their review date; nothing shown while none is."""
    if not may_manage(user):
        return None
    overdue = list(ImpactAssessment.objects.review_overdue().order_by("review_on", "pk"))
    if not overdue:
        return None
    return Panel(
        title="Impact assessments overdue for review",
        count=len(overdue),
        url=reverse("dpia_list"),
        link_text="Open the DPIA register",
        description="Each signed-off DPIA is reviewed by its date, to check it still matches "
        "the project.",
        urgent=True,
        items=[
            "%s: review was due %s" % (assessment.title, assessment.review_on.strftime("%d %B %Y"))
            for assessment in overdue[:8]
        ],
    )
