"""The organisation's Code of Confidentiality and its records-of-processing inventory, generated
from the system's own configuration so that what is published is what the system does.

Three sources, nothing else:

- the personal-data map (tmo.datamap): every kind of record, why it is kept, on what basis, who
  it is about, who it is shared with;
- the roles (access.roles, with their plain-English descriptions) and the access policies: which
  kinds of record each role reaches is worked out by asking each model's policy
  (`scope(user)`) for a stand-in user holding only that role, never written down a second time;
- the retention schedule, always through tmo.retention.schedule_for.

The code's text is compared with the latest published ConfidentialityCode; when the map, the roles
or the schedule change, the two differ, the data protection lead is told, and publishing the
generated text makes it a new version that everyone signs again (access.compliance).

The inventory (UK GDPR Art. 30) is public: it describes kinds of record, never a record. Standing
data sharing agreements are read by model name, as access reads other apps (it imports none).
"""

import difflib
import functools
import hashlib
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import (
    EmptyResultSet,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import transaction
from django.db.models import Q, QuerySet

from access.models import ConfidentialityCode
from access.policy import NOTHING, PolicyQuerySet
from access.roles import NO_RECORD_ROLES, ROLE_DESCRIPTIONS, Role, roles_of
from access.services.compliance import REVIEW_EVERY_DAYS, current_code, publish_code
from tmo import datamap
from tmo.audit import record_event
from tmo.datamap import Category
from tmo.fields import encrypted_fields
from tmo.retention import schedule_for

CODE_TITLE = "Code of Confidentiality"
# Read by name: access imports no app above it.
SHARING_AGREEMENT_MODEL = "disclosures.DataSharingAgreement"
CATEGORY_ORDER = (
    Category.PERSONAL,
    Category.SPECIAL,
    Category.CRIMINAL,
    Category.COMMERCIAL,
    Category.NON_PERSONAL,
)
# A section heading, and in a hand-written version the sentence it starts: "2. Who may see it".
HEADING = re.compile(r"^\d+\. [^.]+")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2})?")
ROUTINE_SHARING_NONE = (
    "Nobody outside the organisation as a matter of routine; anyone else only by a recorded "
    "decision on their request."
)

EVERY, THEIR_WORK, NONE = "every", "their_work", "none"
REACH_LABELS = {
    EVERY: "every record",
    THEIR_WORK: "only those their work covers",
    NONE: "none",
}
# A stand-in account for asking the policies what a role reaches. Never saved: the policies only
# build queries with it, and an id no account has matches no assignment or grant.
PROBE_USER_ID = -1


# --- what each role reaches, read from the policies ----------------------------------------------


def _probe_user(roles):
    user = get_user_model()(pk=PROBE_USER_ID, username="published-code-probe", is_active=True)
    user._tmo_roles = frozenset(roles)
    # What a role may reach is the question, not whether this stand-in has signed the code.
    user._tmo_may_read = (user._tmo_roles, True)
    return user


def _policy(model) -> PolicyQuerySet | None:
    queryset = model._default_manager.all()
    return queryset if isinstance(queryset, PolicyQuerySet) else None


def _covers_everything(scope: Q) -> bool:
    """An empty Q, or rows linked to every row of a model that answered "all of them"."""
    if not scope:
        return True
    if scope.negated or len(scope.children) != 1 or not isinstance(scope.children[0], tuple):
        return False
    lookup, value = scope.children[0]
    return (
        lookup.endswith("__in")
        and isinstance(value, QuerySet)
        # A union of several sources (access.policy.rows_in_any) is read as their SQL.
        and not value.query.combinator
        and not value.query.has_filters()
    )


def _sql(queryset: PolicyQuerySet, scope: Q) -> str:
    """The query a scope makes, with the moment it was built left out (live grants and
    emergency access compare with "now", which differs between two calls)."""
    try:
        sql = str(queryset.model._default_manager.filter(scope).query)
    except EmptyResultSet:
        return ""
    return MOMENT.sub("<now>", sql)


def _reach(model, role: str) -> str:
    queryset = _policy(model)
    scope = queryset.scope(_probe_user({role}))
    if _covers_everything(scope):
        return EVERY
    if scope == NOTHING:
        return NONE
    # Anyone can be given one named record (a case assignment); that alone is not the role's reach.
    baseline = queryset.scope(_probe_user(()))
    if _sql(queryset, scope) == _sql(queryset, baseline):
        return NONE
    return THEIR_WORK


def _governing_model(model):
    """The model whose policy decides who reads `model`'s rows: its own, or for a row with no
    policy of its own, the record it always belongs to (a decision's request, say)."""
    if _policy(model) is not None:
        return model
    user_model = get_user_model()
    for model_field in model._meta.concrete_fields:
        if not model_field.many_to_one or model_field.null:
            continue
        target = model_field.related_model
        if target is not user_model and _policy(target) is not None:
            return target
    return None


@functools.cache
def _reach_table() -> dict[tuple[str, str], str]:
    """(model label, role) -> reach. The policies are code, so the answer lasts the process."""
    table = {}
    for entry in datamap.entries():
        governing = _governing_model(entry.model)
        if governing is None:
            continue
        for role in Role:
            table[(entry.model._meta.label_lower, role.value)] = _reach(governing, role.value)
    return table


def _field_roles(model) -> dict[str, frozenset[str]]:
    """Fields of a model that only some roles may see, where its policy says so."""
    queryset = _policy(model)
    found = getattr(type(queryset), "field_roles", None) or {}
    return {name: frozenset(roles) for name, roles in found.items()}


# --- the published description of each kind of record -------------------------------------------


@dataclass(frozen=True)
class Reader:
    role: str
    label: str
    reach: str

    @property
    def reach_label(self) -> str:
        return REACH_LABELS[self.reach]


@dataclass(frozen=True)
class Kind:
    """One kind of record in the map, as the code and the inventory describe it."""

    key: str
    name: str
    plural_name: str
    category: str
    category_label: str
    purpose: str
    lawful_basis: str
    condition: str
    subjects: str
    source: str
    # The map's own words on who else receives it; empty when nobody does as a matter of routine.
    recipients: str
    retention: str
    sensitive_fields: tuple[str, ...]
    encrypted_fields: tuple[str, ...]
    readers: tuple[Reader, ...]
    readers_note: str
    field_limits: tuple[str, ...]

    @property
    def is_personal(self) -> bool:
        return self.category != Category.NON_PERSONAL

    @property
    def shared_with(self) -> str:
        if not self.is_personal:
            return ""
        return self.recipients or ROUTINE_SHARING_NONE


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a name the map keeps for a field since renamed: show it as is
        return name.replace("_", " ")


def _subjects(entry: datamap.PersonalData) -> str:
    if not entry.is_personal:
        return "Nobody: not personal data on its own."
    if entry.unlinked_reason:
        return entry.unlinked_reason
    if "" in entry.subject_paths:
        return (
            "Everyone on the register: tenants and their households (children included), "
            "applicants, staff and job applicants, contractors' staff, and other people a case "
            "is about."
        )
    if entry.subject_paths or entry.subject_generic:
        return "People on the register: each record is linked to the person it is about."
    return "People named in it, who are not linked to the register."


def _retention_text(entry: datamap.PersonalData) -> str:
    rule = schedule_for(entry)
    if rule is None:
        return "No fixed period."
    return "%d year%s after %s." % (rule.years, "" if rule.years == 1 else "s", rule.after)


def _readers(entry: datamap.PersonalData) -> tuple[tuple[Reader, ...], str]:
    governing = _governing_model(entry.model)
    if governing is None:
        return (), (
            "No rule of its own for opening rows: kept as the record of the workflow it belongs "
            "to, and shown only on that workflow's pages, which are open only to the roles that "
            "run it."
        )
    table = _reach_table()
    label = entry.model._meta.label_lower
    readers = tuple(
        Reader(role=role.value, label=str(role.label), reach=table[(label, role.value)])
        for role in Role
        if table[(label, role.value)] != NONE
    )
    note = ""
    if governing is not entry.model:
        note = "Shown with the %s it belongs to, to whoever may open that." % (
            governing._meta.verbose_name
        )
    return readers, note


def _field_limits(entry: datamap.PersonalData) -> tuple[str, ...]:
    limits = []
    for name, roles in _field_roles(entry.model).items():
        labels = [str(role.label) for role in Role if role.value in roles]
        limits.append("%s: only %s" % (_field_label(entry.model, name).capitalize(), _join(labels)))
    return tuple(limits)


def _join(words: list[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return "%s and %s" % (", ".join(words[:-1]), words[-1])


def _sort_key(entry: datamap.PersonalData):
    return (CATEGORY_ORDER.index(entry.category), str(entry.model._meta.verbose_name).lower())


def kinds() -> list[Kind]:
    """Every entry in the map, personal or not, in a fixed order."""
    found = []
    for entry in sorted(datamap.entries(), key=_sort_key):
        model = entry.model
        readers, note = _readers(entry)
        found.append(
            Kind(
                key=model._meta.label_lower,
                name=entry.model_name,
                plural_name=str(model._meta.verbose_name_plural),
                category=entry.category,
                category_label=str(entry.category_label),
                purpose=entry.purpose,
                lawful_basis=str(entry.lawful_basis_label),
                condition=entry.condition,
                subjects=_subjects(entry),
                source=entry.source,
                recipients=entry.recipients if entry.is_personal else "",
                retention=_retention_text(entry),
                sensitive_fields=tuple(
                    _field_label(model, name) for name in entry.sensitive_fields
                ),
                encrypted_fields=tuple(str(f.verbose_name) for f in encrypted_fields(model)),
                readers=readers,
                readers_note=note,
                field_limits=_field_limits(entry),
            )
        )
    return found


@dataclass(frozen=True)
class RoleReach:
    role: str
    label: str
    description: str
    every: tuple[Kind, ...]
    their_work: tuple[Kind, ...]
    withheld_fields: tuple[str, ...]

    @property
    def reaches_nothing(self) -> bool:
        return not self.every and not self.their_work


def role_reaches(all_kinds: list[Kind]) -> list[RoleReach]:
    confidential = [kind for kind in all_kinds if kind.is_personal]
    reaches = []
    for role in Role:
        every, their_work = [], []
        for kind in confidential:
            reach = {reader.role: reader.reach for reader in kind.readers}.get(role.value)
            if reach == EVERY:
                every.append(kind)
            elif reach == THEIR_WORK:
                their_work.append(kind)
        withheld = []
        reached = {kind.key for kind in every + their_work}
        for entry in sorted(datamap.personal_entries(), key=_sort_key):
            if entry.model._meta.label_lower not in reached:
                continue
            hidden = [
                _field_label(entry.model, name)
                for name, roles in _field_roles(entry.model).items()
                if role.value not in roles
            ]
            if hidden:
                withheld.append("%s: %s" % (entry.model_name.lower(), _join(hidden)))
        reaches.append(
            RoleReach(
                role=role.value,
                label=str(role.label),
                description=ROLE_DESCRIPTIONS.get(role, ""),
                every=tuple(every),
                their_work=tuple(their_work),
                withheld_fields=tuple(withheld),
            )
        )
    return reaches


def categories(all_kinds: list[Kind]) -> list[tuple[str, list[Kind]]]:
    """Every category of the map, with the kinds of record in it (possibly none)."""
    return [
        (str(Category(category).label), [kind for kind in all_kinds if kind.category == category])
        for category in CATEGORY_ORDER
    ]


# --- security measures ----------------------------------------------------------------------------


def _min_password_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith("MinimumLengthValidator"):
            return int(validator.get("OPTIONS", {}).get("min_length", 8))
    return 8


def _audit_is_chained() -> bool:
    try:
        apps.get_model("tmo", "AuditChainLink")
    except LookupError:
        return False
    return True


def security_measures(all_kinds: list[Kind]) -> list[str]:
    encrypted = [kind for kind in all_kinds if kind.encrypted_fields]
    idle = int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
    limit = int(settings.SESSION_ABSOLUTE_LIMIT.total_seconds() // 3600)
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    measures = [
        "Each role reaches only the kinds of record listed for it, and within them only the "
        "records its work covers; a record outside that is treated as if it did not exist, on "
        "every page, search, download and export.",
        "Nobody may open a confidential record until they have signed the current version of "
        "this code and their data protection training is in date.",
        "Signing in needs a password of at least %d characters and a code from an authenticator "
        "app; after %d failed attempts the account is locked for %d minutes."
        % (_min_password_length(), settings.AXES_FAILURE_LIMIT, cooloff),
        "A session ends after %d minutes without activity, and %d hours after signing in "
        "whatever the activity." % (idle, limit),
        "The most sensitive details are encrypted in the database (%d fields across %d kinds of "
        "record, named in the inventory), and uploaded documents are stored encrypted where the "
        "web server cannot serve them."
        % (sum(len(k.encrypted_fields) for k in encrypted), len(encrypted)),
        "Every opening of a confidential record, every change and every decision is written to "
        "an audit log naming who, when and what%s."
        % (
            "; each entry is chained to the one before it with a keyed hash, so any change to "
            "the log can be detected"
            if _audit_is_chained()
            else ""
        ),
        "Committee members and system administrators open no confidential record without a live "
        "grant naming it; emergency access is time-limited and reviewed by the data protection "
        "lead.",
        "The data protection lead reviews every role, assignment and grant at least every %d "
        "days." % REVIEW_EVERY_DAYS,
    ]
    return measures


# --- the code -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    heading: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    closing: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return "%d. %s" % (self.number, self.title)


@dataclass(frozen=True)
class Code:
    organisation: str
    introduction: str
    sections: tuple[Section, ...]

    @property
    def title(self) -> str:
        return CODE_TITLE

    def text(self) -> str:
        """The code as plain text: what is published, signed, and compared."""
        blocks = ["%s\n%s" % (CODE_TITLE, self.organisation), self.introduction]
        for section in self.sections:
            blocks.append(section.heading)
            blocks.extend(section.paragraphs)
            items = [
                "\n".join(["- " + item.heading, *("  " + line for line in item.lines)])
                for item in section.items
            ]
            # A list of one-line items reads as one list; items with details are spaced apart.
            if any(item.lines for item in section.items):
                blocks.extend(items)
            elif items:
                blocks.append("\n".join(items))
            blocks.extend(section.closing)
        return "\n\n".join(blocks)


def _what_we_keep(all_kinds: list[Kind]) -> Section:
    items = []
    for label, in_category in categories(all_kinds):
        if not in_category:
            items.append(Item("%s: none held as a kind of record of its own." % label))
            continue
        for kind in in_category:
            lines = ["Why: %s" % kind.purpose]
            if kind.is_personal:
                lines.append("Lawful basis: %s" % kind.lawful_basis)
            if kind.condition:
                lines.append("Condition for processing: %s" % kind.condition)
            if kind.is_personal:
                lines.append("About: %s" % kind.subjects)
            items.append(Item("%s (%s)" % (kind.name, label.lower()), tuple(lines)))
    return Section(
        1,
        "What we keep and why",
        paragraphs=(
            "These are all the kinds of record the system keeps, grouped by category. Special "
            "category and criminal offence data need a condition for processing as well as a "
            "lawful basis, and extra care: use them only for the purpose they were given for.",
        ),
        items=tuple(items),
    )


def _who_may_see(reaches: list[RoleReach]) -> Section:
    items = []
    for reach in reaches:
        lines = [reach.description] if reach.description else []
        if reach.every:
            lines.append(
                "Opens every record of these kinds: %s." % _join([k.name for k in reach.every])
            )
        if reach.their_work:
            lines.append(
                "Opens only the records their work covers of these kinds: %s."
                % _join([k.name for k in reach.their_work])
            )
        for withheld in reach.withheld_fields:
            lines.append("Is never shown, of a %s." % withheld)
        if reach.reaches_nothing:
            lines.append("Opens no confidential record through their role.")
        items.append(Item(reach.label, tuple(lines)))
    barred = []
    for reach in reaches:
        if reach.role not in NO_RECORD_ROLES:
            continue
        plural = "%ss" % reach.label.lower()
        if reach.reaches_nothing:
            barred.append("%s open none" % plural)
            continue
        kinds_reached = ["all %s" % kind.plural_name for kind in reach.every] + [
            "the %s their work covers" % kind.plural_name for kind in reach.their_work
        ]
        barred.append("%s open only %s" % (plural, _join(kinds_reached)))
    return Section(
        2,
        "Who may see it",
        paragraphs=(
            "Staff see only what their work needs, and the system enforces it. What each role "
            "opens below is read from the system's access rules themselves. Anyone may also be "
            "assigned a named record for a case, and a live emergency access or committee grant "
            "adds exactly the records it names, for a limited time.",
            "Who may not: through their role, %s. Committee members see a record about anyone "
            "only when the committee cannot decide a matter without it, and then only the named "
            "records, for a limited time, under an approved grant." % "; ".join(barred),
        ),
        items=tuple(items),
    )


def _passing_on(all_kinds: list[Kind]) -> Section:
    items = tuple(Item(kind.name, (kind.recipients,)) for kind in all_kinds if kind.recipients)
    paragraphs = [
        "Information goes to other bodies (for example about rent arrears or court proceedings) "
        "only where the law allows it, after a senior officer's recorded decision, and only what "
        "is relevant and necessary. Every request is recorded with its decision and reasons, "
        "whether or not anything is shared.",
        "Sharing that is needed is not refused: a contractor is given the name, address, phone "
        "number and access notes a repair needs, under a data sharing agreement; the standing "
        "agreements are listed in the published inventory.",
    ]
    if items:
        paragraphs.append("As a matter of routine, these kinds of record go to:")
    return Section(3, "Passing information on", paragraphs=tuple(paragraphs), items=items)


def _how_long(all_kinds: list[Kind]) -> Section:
    return Section(
        4,
        "How long we keep it",
        paragraphs=(
            "Each kind of record is kept for the period in the retention schedule and then "
            "deleted or anonymised, unless a legal hold keeps it longer:",
        ),
        items=tuple(
            Item("%s: %s" % (kind.name, kind.retention)) for kind in all_kinds if kind.is_personal
        ),
    )


def _how_protected(all_kinds: list[Kind]) -> Section:
    return Section(
        5,
        "How we protect it",
        items=tuple(Item(measure) for measure in security_measures(all_kinds)),
    )


COMMITTEE_BUSINESS = (
    "A confidential matter is minuted separately from the public minutes, and only those who "
    "attended may read the confidential minute. Confidential reports are individually numbered "
    "and handed back before members leave the room; a copy not handed back is followed up as a "
    "possible breach."
)
LEAKS = (
    "Report any suspected breach to the data protection lead at once. A committee member who "
    "leaks confidential information is normally removed from the committee; a member of staff "
    "faces disciplinary action."
)


def build_code() -> Code:
    all_kinds = kinds()
    sections = [
        _what_we_keep(all_kinds),
        _who_may_see(role_reaches(all_kinds)),
        _passing_on(all_kinds),
        _how_long(all_kinds),
        _how_protected(all_kinds),
        Section(6, "Confidential committee business", paragraphs=(COMMITTEE_BUSINESS,)),
        Section(7, "What follows a leak", paragraphs=(LEAKS,)),
    ]
    return Code(
        organisation=settings.ORGANISATION_NAME,
        introduction=(
            "Everyone who works for the organisation or sits on its committee undertakes to "
            "follow this code before opening any record. It is drawn from the records system's "
            "own configuration (what it holds, who may open it, how long it is kept), so it says "
            "what the system actually does."
        ),
        sections=tuple(sections),
    )


def code_text() -> str:
    return build_code().text()


# --- the inventory --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    partner: str
    purpose: str
    basis: str
    items: tuple[str, ...]
    kinds: tuple[str, ...]


def standing_agreements() -> list[Agreement]:
    """Active data sharing agreements, where the disclosures app is installed."""
    try:
        model = apps.get_model(SHARING_AGREEMENT_MODEL)
    except LookupError:
        return []
    items = {item.key: item for item in datamap.disclosable_items()}
    found = []
    for row in model._default_manager.filter(status=model.Status.ACTIVE).order_by("partner", "pk"):
        shared = [items[key] for key in row.data_items if key in items]
        found.append(
            Agreement(
                partner=row.partner,
                purpose=row.purpose,
                basis=str(row.get_legal_basis_display()),
                items=tuple(item.label for item in shared),
                kinds=tuple(
                    sorted({str(item.model._meta.verbose_name).capitalize() for item in shared})
                ),
            )
        )
    return found


@dataclass
class Inventory:
    organisation: str
    # Each category with its kinds of record, each with the standing agreements that share it.
    categories: list[tuple[str, list[tuple[Kind, list[Agreement]]]]]
    kinds: list[Kind]
    roles: list[RoleReach]
    agreements: list[Agreement]
    security: list[str]
    published: ConfidentialityCode | None = None
    matches: bool = True


def build_inventory() -> Inventory:
    all_kinds = kinds()
    comparison = compare()
    agreements = standing_agreements()
    return Inventory(
        organisation=settings.ORGANISATION_NAME,
        categories=[
            (label, [(kind, [a for a in agreements if kind.name in a.kinds]) for kind in group])
            for label, group in categories(all_kinds)
        ],
        kinds=all_kinds,
        roles=role_reaches(all_kinds),
        agreements=agreements,
        security=security_measures(all_kinds),
        published=comparison.published,
        matches=comparison.matches,
    )


# --- keeping the published code in step -----------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in (text or "").strip().splitlines()]


def digest(text: str) -> str:
    return hashlib.sha256("\n".join(_lines(text)).encode()).hexdigest()


@dataclass
class Comparison:
    published: ConfidentialityCode | None
    generated: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.published is not None and not self.added and not self.removed

    @property
    def digest(self) -> str:
        return digest(self.generated)


def _section_of(lines: list[str], index: int) -> str:
    for line in reversed(lines[: index + 1]):
        found = HEADING.match(line)
        if found:
            return found.group(0)
    return "Title and introduction"


def compare(generated: str | None = None) -> Comparison:
    """The generated code against the latest published version, line by line."""
    generated = code_text() if generated is None else generated
    published = current_code()
    comparison = Comparison(published=published, generated=generated)
    old, new = _lines(published.text if published else ""), _lines(generated)
    sections = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        for index in range(a_start, a_end):
            if old[index].strip():
                comparison.removed.append(old[index])
                sections.append(_section_of(old, index))
        for index in range(b_start, b_end):
            if new[index].strip():
                comparison.added.append(new[index])
                sections.append(_section_of(new, index))
    comparison.sections = list(dict.fromkeys(sections))
    return comparison


def next_version() -> str:
    versions = {v.lower() for v in ConfidentialityCode.objects.values_list("version", flat=True)}
    number = max((int(v) for v in versions if v.isdigit()), default=0) + 1
    while str(number) in versions:
        number += 1
    return str(number)


@transaction.atomic
def publish_generated_code(
    *, published_by, version: str, reviewed_digest: str
) -> ConfidentialityCode:
    """Publish the generated text as a new version of the code, which everyone must then sign.

    `reviewed_digest` is the digest of the text the data protection lead was shown: if the system
    changed since, nothing is published and they review the differences again."""
    if Role.DATA_PROTECTION_LEAD not in roles_of(published_by):
        raise PermissionDenied("Only the data protection lead publishes the code.")
    # One publication at a time: the version check below must not race another.
    list(ConfidentialityCode.objects.select_for_update().all())
    comparison = compare()
    if comparison.digest != reviewed_digest:
        raise ValidationError(
            "The system’s configuration changed while you were reviewing the differences. "
            "Review them again before publishing."
        )
    if comparison.matches:
        raise ValidationError(
            "The published code already matches the system: there is nothing to publish."
        )
    previous = comparison.published
    code = publish_code(published_by=published_by, version=version, text=comparison.generated)
    record_event(
        actor=published_by,
        obj=code,
        event="confidentiality_code_generated_published",
        version=code.version,
        previous_version=previous.version if previous else "",
        digest=comparison.digest,
        sections_changed=comparison.sections,
    )
    return code
