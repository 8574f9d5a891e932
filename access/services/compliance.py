"""Access workflows: the confidentiality code, training records and access reviews.

The code and training decide whether a user may read records at all (access.compliance); the
access review is the DPO's periodic look at every role membership, assignment, object permission
and live grant, each confirmed or removed from one page. `access` knows no app above it, so
assignments and object permission tables are found by name and by class, never imported.
"""

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import dateformat, timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from access.compliance import (
    REQUIRED_ROLES,
    compliance_problems,
    forget_compliance,
    is_required,
    long_date,
)
from access.dashboard import Panel, dashboard_panel
from access.models import (
    AccessReview,
    AccessReviewItem,
    CommitteeAccessRequest,
    ConfidentialityCode,
    EmergencyAccess,
    TrainingModule,
    TrainingRecord,
    Undertaking,
)
from access.roles import Role, roles_of

TRAINING_MANAGER_ROLES = frozenset({Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER})
DUE_WITHIN_DAYS = 30
REVIEW_EVERY_DAYS = 90
# Many-to-many fields that assign users to work, by "app_label.Model.field". Looked up by name so
# that `access` imports no app above it; one missing here (an app not installed) is skipped.
ASSIGNMENT_FIELDS = ("records.Patch.officers",)

Kind = AccessReviewItem.Kind
Decision = AccessReviewItem.Decision

INITIAL_CODE_TEXT = """\
1. What we keep and why. We keep information about tenants and their households (including \
children), applicants for homes and membership, people whose behaviour affects tenants, our staff \
and job applicants, and contractors' commercially sensitive details, only to manage homes and \
employ people. Health, ethnicity, religion, sexual orientation, trade union membership and \
criminal offence information need extra care.

2. Who may see it. Staff see only what their work needs. Committee members see no confidential \
record unless the committee cannot make a decision without it, and then only the named records, \
for a limited time, under a grant.

3. Passing information on. Information goes to other bodies (for example about rent arrears or \
court proceedings) only where the law allows it, after a senior officer's recorded decision, and \
only what is relevant and necessary.

4. Confidential committee business. A confidential matter is minuted separately from the public \
minutes. Confidential reports are individually numbered and handed back before members leave \
the room.

5. What follows a leak. Report any suspected breach to the data protection lead at once. A \
committee member who leaks confidential information is normally removed from the committee; a \
member of staff faces disciplinary action.
"""


def _require(user, roles, message: str) -> None:
    if not roles_of(user) & set(roles):
        raise PermissionDenied(message)


def _is_dpo(user) -> bool:
    return Role.DATA_PROTECTION_LEAD in roles_of(user)


def _when(moment) -> str:
    return dateformat.format(timezone.localtime(moment), "j F Y H:i")


def _display_name(user) -> str:
    full = user.get_full_name()
    return "%s (%s)" % (full, user.get_username()) if full else user.get_username()


# --- the confidentiality code ---------------------------------------------------------------------


def current_code() -> ConfidentialityCode | None:
    return ConfidentialityCode.objects.current().first()


def publish_initial_code(code_model=None) -> ConfidentialityCode | None:
    """Publish version 1 of the code if none exists yet; for the data migration and seed_demo.

    Pass the migration's historical model as `code_model`. Returns None when a code exists.
    """
    code_model = code_model or ConfidentialityCode
    if code_model.objects.exists():
        return None
    return code_model.objects.create(version="1", text=INITIAL_CODE_TEXT, published_by=None)


@transaction.atomic
def publish_code(*, published_by, version: str, text: str) -> ConfidentialityCode:
    """Publish a new version: from now on everyone must sign it before reading records."""
    _require(published_by, {Role.DATA_PROTECTION_LEAD}, "Only the DPO publishes the code.")
    version, text = (version or "").strip(), (text or "").strip()
    errors = {}
    if not version:
        errors["version"] = "Enter the version number"
    elif ConfidentialityCode.objects.filter(version__iexact=version).exists():
        errors["version"] = "Version %s already exists: give the new version its own number" % (
            version
        )
    if not text:
        errors["text"] = "Enter the text of the code"
    if errors:
        raise ValidationError(errors)
    code = ConfidentialityCode.objects.create(
        version=version, text=text, published_by=published_by, published_at=timezone.now()
    )
    forget_compliance(published_by)
    return code


def _normalise_name(name: str) -> str:
    return " ".join((name or "").split())


@transaction.atomic
def sign_code(*, user, code: ConfidentialityCode, full_name: str) -> Undertaking:
    """The user's undertaking to follow `code`, which must still be the current version."""
    current = current_code()
    if current is None or current.pk != code.pk:
        raise ValidationError(
            "A newer version of the confidentiality code has been published since you opened "
            "this page. Read the new version and sign that."
        )
    name = _normalise_name(full_name)
    expected = _normalise_name(user.get_full_name())
    if not name:
        raise ValidationError({"full_name": "Enter your full name"})
    if expected and name.casefold() != expected.casefold():
        raise ValidationError(
            {"full_name": "Enter your full name as it is on your account: %s" % expected}
        )
    try:
        with transaction.atomic():
            undertaking = Undertaking.objects.create(user=user, code=code, signed_name=name)
    except IntegrityError:
        undertaking = Undertaking.objects.get(user=user, code=code)
    forget_compliance(user)
    return undertaking


# --- training -------------------------------------------------------------------------------------


@transaction.atomic
def create_training_module(
    *, created_by, name: str, description: str, roles: list[str], validity_months: int
) -> TrainingModule:
    _require(created_by, {Role.DATA_PROTECTION_LEAD}, "Only the DPO sets training modules.")
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Enter the name of the module"
    elif TrainingModule.objects.filter(name__iexact=name).exists():
        errors["name"] = "A module with this name already exists"
    roles = [role for role in roles if role in REQUIRED_ROLES]
    if not roles:
        errors["roles"] = "Select the roles that must complete this module"
    if not validity_months or not 1 <= validity_months <= 60:
        errors["validity_months"] = "Enter how many months the training lasts, from 1 to 60"
    if errors:
        raise ValidationError(errors)
    return TrainingModule.objects.create(
        name=name,
        description=(description or "").strip(),
        roles=sorted(roles),
        validity_months=validity_months,
    )


@transaction.atomic
def record_training(
    *, recorded_by, user, module: TrainingModule, completed_on: datetime.date, evidence: str = ""
) -> TrainingRecord:
    """Record that `user` completed `module` on `completed_on`; a renewal is just a newer record."""
    _require(recorded_by, TRAINING_MANAGER_ROLES, "Only the DPO or a senior officer records this.")
    today = timezone.localdate()
    if completed_on > today:
        raise ValidationError(
            {"completed_on": "The date the training was completed must be today or in the past"}
        )
    record = TrainingRecord.objects.create(
        user=user,
        module=module,
        completed_on=completed_on,
        recorded_by=recorded_by,
        evidence=(evidence or "").strip(),
    )
    forget_compliance(user)
    return record


def people_held_to_training():
    """Active users the undertaking and training apply to, with their groups loaded."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=REQUIRED_ROLES)
        .distinct()
        .prefetch_related("groups")
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class ModuleStatus:
    CURRENT, DUE, EXPIRED, MISSING = "current", "due", "expired", "missing"

    module: TrainingModule
    expires_on: datetime.date | None
    state: str

    @property
    def blocks(self) -> bool:
        return self.state in {self.EXPIRED, self.MISSING}


@dataclass
class PersonStatus:
    user: object
    role_labels: list[str]
    signed: bool
    modules: list[ModuleStatus] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return not self.signed or any(m.blocks for m in self.modules)

    @property
    def due(self) -> bool:
        return any(m.state == ModuleStatus.DUE for m in self.modules)

    @property
    def needs_action(self) -> bool:
        return self.blocked or self.due


def training_status(today: datetime.date | None = None) -> tuple[ConfidentialityCode | None, list]:
    """Every user held to the requirement, with the code signed or not and each required module's
    state. A fixed number of queries however many people and modules."""
    today = today or timezone.localdate()
    due_by = today + datetime.timedelta(days=DUE_WITHIN_DAYS)
    code = current_code()
    users = list(people_held_to_training())
    modules = list(TrainingModule.objects.all())
    latest = {
        (row["user_id"], row["module_id"]): row["expires"]
        for row in TrainingRecord.objects.filter(user__in=[u.pk for u in users])
        .values("user_id", "module_id")
        .annotate(expires=Max("expires_on"))
    }
    signed = (
        set(Undertaking.objects.filter(code=code).values_list("user_id", flat=True))
        if code
        else set()
    )
    rows = []
    for user in users:
        roles = {g.name for g in user.groups.all()} & set(Role.values)
        status = PersonStatus(
            user=user,
            role_labels=sorted(str(Role(r).label) for r in roles),
            signed=user.pk in signed,
        )
        for module in modules:
            if not module.applies_to(roles):
                continue
            expires = latest.get((user.pk, module.pk))
            if expires is None:
                state = ModuleStatus.MISSING
            elif expires <= today:
                state = ModuleStatus.EXPIRED
            elif expires <= due_by:
                state = ModuleStatus.DUE
            else:
                state = ModuleStatus.CURRENT
            status.modules.append(ModuleStatus(module=module, expires_on=expires, state=state))
        rows.append(status)
    rows.sort(key=lambda s: (not s.blocked, not s.due))
    return code, rows


def own_training(user):
    """The user's own training: each module that applies to them, with their latest record."""
    roles = roles_of(user)
    records = {}
    for record in TrainingRecord.objects.filter(user=user).order_by("completed_on", "pk"):
        records[record.module_id] = record
    return [
        (module, records.get(module.pk))
        for module in TrainingModule.objects.all()
        if module.applies_to(roles)
    ]


def own_undertaking(user, code: ConfidentialityCode | None) -> Undertaking | None:
    if code is None:
        return None
    return Undertaking.objects.filter(user=user, code=code).first()


# --- access review --------------------------------------------------------------------------------


def open_review() -> AccessReview | None:
    return AccessReview.objects.filter(completed_at__isnull=True).first()


def last_completed_review() -> AccessReview | None:
    return AccessReview.objects.filter(completed_at__isnull=False).order_by("-completed_at").first()


def suggested_period(today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return "%d Q%d" % (today.year, (today.month - 1) // 3 + 1)


def object_permission_models() -> list[type]:
    """Guardian's permission tables: the generic one and every app's direct foreign-key tables."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, UserObjectPermissionBase | GroupObjectPermissionBase)
    ]


def assignment_fields():
    """(model, many-to-many field) pairs that assign users to work, skipping any not installed."""
    found = []
    for dotted in ASSIGNMENT_FIELDS:
        label, _, name = dotted.rpartition(".")
        try:
            model = apps.get_model(label)
            found.append((model, model._meta.get_field(name)))
        except LookupError:
            continue
    return found


def _role_items():
    group_type = ContentType.objects.get_for_model(Group)
    memberships = (
        get_user_model()
        .groups.through.objects.filter(group__name__in=Role.values)
        .select_related("user", "group")
    )
    for row in memberships:
        yield AccessReviewItem(
            kind=Kind.ROLE,
            user=row.user,
            content_type=group_type,
            object_id=row.group_id,
            description="%s holds the role %s"
            % (_display_name(row.user), Role(row.group.name).label),
        )


def _assignment_items():
    for model, m2m in assignment_fields():
        through = m2m.remote_field.through
        source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        content_type = ContentType.objects.get_for_model(model)
        for row in through.objects.select_related(source, target):
            holder, user = getattr(row, source), getattr(row, target)
            yield AccessReviewItem(
                kind=Kind.ASSIGNMENT,
                user=user,
                content_type=content_type,
                object_id=holder.pk,
                relation=m2m.name,
                description="%s is assigned as %s of %s %s"
                % (_display_name(user), m2m.verbose_name, model._meta.verbose_name, holder),
            )


def _permission_target(row) -> str:
    if "content_object" in {f.name for f in row._meta.concrete_fields}:
        related = row._meta.get_field("content_object").related_model
        return "%s %s" % (related._meta.verbose_name, row.content_object_id)
    model = row.content_type.model_class()
    name = model._meta.verbose_name if model else row.content_type.model
    return "%s %s" % (name, row.object_pk)


def _permission_items():
    for model in object_permission_models():
        is_user_table = issubclass(model, UserObjectPermissionBase)
        holder = "user" if is_user_table else "group"
        related = [holder, "permission"]
        if not any(f.name == "content_object" for f in model._meta.concrete_fields):
            related.append("content_type")
        content_type = ContentType.objects.get_for_model(model)
        for row in model.objects.select_related(*related):
            who = (
                _display_name(row.user)
                if is_user_table
                else "Everyone in the group '%s'" % row.group.name
            )
            yield AccessReviewItem(
                kind=Kind.OBJECT_PERMISSION,
                user=row.user if is_user_table else None,
                content_type=content_type,
                object_id=row.pk,
                description="%s: %s on %s"
                % (who, row.permission.name.lower(), _permission_target(row)),
            )


def _grant_items(now):
    content_type = ContentType.objects.get_for_model(CommitteeAccessRequest)
    grants = CommitteeAccessRequest.objects.filter(
        CommitteeAccessRequest.live_filter(now)
    ).prefetch_related("members", "items")
    for grant in grants:
        members = ", ".join(_display_name(m) for m in grant.members.all()) or "no members"
        yield AccessReviewItem(
            kind=Kind.COMMITTEE_GRANT,
            content_type=content_type,
            object_id=grant.pk,
            description="Committee access #%s for '%s' until %s: %s; %d records"
            % (
                grant.pk,
                grant.decision,
                _when(grant.expires_at),
                members,
                len(grant.items.all()),
            ),
        )


def _emergency_items(now):
    content_type = ContentType.objects.get_for_model(EmergencyAccess)
    accesses = EmergencyAccess.objects.filter(EmergencyAccess.live_filter(now)).select_related(
        "user", "content_type"
    )
    for access in accesses:
        model = access.content_type.model_class()
        target = model._meta.verbose_name if model else access.content_type.model
        yield AccessReviewItem(
            kind=Kind.EMERGENCY_ACCESS,
            user=access.user,
            content_type=content_type,
            object_id=access.pk,
            description="%s has emergency access to %s %s until %s"
            % (
                _display_name(access.user),
                target,
                access.object_id,
                _when(access.expires_at),
            ),
        )


@transaction.atomic
def start_access_review(*, started_by, period: str) -> AccessReview:
    """Snapshot every role membership, assignment, object permission and live grant for review."""
    _require(started_by, {Role.DATA_PROTECTION_LEAD}, "Only the DPO runs access reviews.")
    period = (period or "").strip()
    if not period:
        raise ValidationError({"period": "Enter the period the review covers, for example 2026 Q3"})
    if AccessReview.objects.select_for_update().filter(completed_at__isnull=True).exists():
        raise ValidationError("Finish the access review already under way before starting another.")
    now = timezone.now()
    review = AccessReview.objects.create(period=period, started_by=started_by, started_at=now)
    items = [
        *_role_items(),
        *_assignment_items(),
        *_permission_items(),
        *_grant_items(now),
        *_emergency_items(now),
    ]
    for item in items:
        item.review = review
    AccessReviewItem.objects.bulk_create(items)
    if not items:
        review.completed_at = now
        review.save(update_fields=["completed_at"])
    return review


def _revoke(item: AccessReviewItem, *, decided_by, note: str, now) -> None:
    """Remove the access the item describes, if it is still there."""
    model = item.content_type.model_class()
    if item.kind == Kind.ROLE:
        group = Group.objects.filter(pk=item.object_id).first()
        if group is not None and item.user is not None:
            item.user.groups.remove(group)
    elif item.kind == Kind.ASSIGNMENT:
        holder = model._default_manager.filter(pk=item.object_id).first() if model else None
        if holder is not None and item.user is not None:
            getattr(holder, item.relation).remove(item.user)
    elif item.kind == Kind.OBJECT_PERMISSION:
        if model is not None:
            for row in model._default_manager.filter(pk=item.object_id):
                row.delete()  # one by one, so auditlog records the deletion
    elif item.kind == Kind.COMMITTEE_GRANT:
        from access.services.grants import committee_access_revoke

        grant = CommitteeAccessRequest.objects.filter(pk=item.object_id).first()
        if grant is not None and grant.status == CommitteeAccessRequest.Status.APPROVED:
            committee_access_revoke(
                revoked_by=decided_by, request=grant, reason="Access review: %s" % note
            )
    elif item.kind == Kind.EMERGENCY_ACCESS:
        access = EmergencyAccess.objects.filter(pk=item.object_id).first()
        if access is not None and access.expires_at > now:
            access.expires_at = now
            access.save(update_fields=["expires_at"])


@transaction.atomic
def decide_review_item(
    *, decided_by, item: AccessReviewItem, decision: str, note: str = ""
) -> AccessReviewItem:
    """Confirm or revoke one piece of access; the review completes with its last decision."""
    _require(decided_by, {Role.DATA_PROTECTION_LEAD}, "Only the DPO runs access reviews.")
    item = AccessReviewItem.objects.select_for_update().select_related("review").get(pk=item.pk)
    note = (note or "").strip()
    if item.review.is_complete:
        raise ValidationError("This review is complete; its decisions can no longer change.")
    if item.is_decided:
        raise ValidationError("This item has already been decided.")
    if decision not in Decision.values:
        raise ValidationError({"decision": "Choose whether to confirm or revoke this access"})
    if decision == Decision.REVOKED and not note:
        raise ValidationError({"note": "Enter why this access is being revoked"})
    now = timezone.now()
    if decision == Decision.REVOKED:
        _revoke(item, decided_by=decided_by, note=note, now=now)
    item.decision, item.decided_by, item.decided_at, item.note = decision, decided_by, now, note
    item.save()
    if not item.review.items.filter(decision="").exists():
        item.review.completed_at = now
        item.review.save()
    return item


# --- dashboard ------------------------------------------------------------------------------------


@dashboard_panel
def compliance_problems_panel(user) -> Panel | None:
    """For anyone who may not read records now: why, and what to do."""
    if not is_required(user):
        return None
    problems = compliance_problems(user)
    if not problems:
        return None
    return Panel(
        title="You cannot open records until this is put right",
        count=len(problems),
        url=reverse("compliance_status"),
        link_text="Find out what to do",
        items=problems,
        urgent=True,
    )


@dashboard_panel
def training_due_panel(user) -> Panel | None:
    if not _is_dpo(user):
        return None
    _, rows = training_status()
    blocked = sum(1 for row in rows if row.blocked)
    due = sum(1 for row in rows if row.due and not row.blocked)
    return Panel(
        title="Training and undertakings due",
        count=blocked + due,
        url=reverse("compliance_training"),
        link_text="See who is due",
        description="%d cannot open records (code not signed, or training missing or expired); "
        "%d have training expiring within %d days." % (blocked, due, DUE_WITHIN_DAYS),
        urgent=blocked > 0,
    )


@dashboard_panel
def access_review_panel(user) -> Panel | None:
    if not _is_dpo(user):
        return None
    today = timezone.localdate()
    last = last_completed_review()
    days = (today - timezone.localdate(last.completed_at)).days if last else None
    overdue = days is None or days > REVIEW_EVERY_DAYS
    current = open_review()
    if current is not None:
        left = current.items.filter(decision="").count()
        return Panel(
            title="Access review %s: items to decide" % current.period,
            count=left,
            url=reverse("access_review_detail", args=[current.pk]),
            link_text="Continue the access review",
            urgent=overdue,
        )
    if not overdue:
        return None
    return Panel(
        title="Access review due",
        count=days or 0,
        url=reverse("access_review_list"),
        link_text="Start an access review",
        description=(
            "No access review has been completed yet."
            if last is None
            else "Days since the last review was completed on %s. Review every role, assignment "
            "and grant at least every %d days."
            % (long_date(timezone.localtime(last.completed_at)), REVIEW_EVERY_DAYS)
        ),
        urgent=True,
    )
