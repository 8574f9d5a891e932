"""The personal-data map: the one list of what the organisation holds, why, and for how long.

Each model that holds anything about people declares `personal_data = PersonalData(...)` beside its
fields. Audit masking, subject access collection, retention, the committee default-deny check and the
published inventory all read these declarations; nothing keeps a second list.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    PERSONAL = "personal", _("Personal data")
    SPECIAL = "special", _("Special category data")
    CRIMINAL = "criminal", _("Criminal offence data")
    COMMERCIAL = "commercial", _("Commercially confidential")
    NON_PERSONAL = "non_personal", _("Not personal data on its own")


class LawfulBasis(models.TextChoices):
    CONTRACT = "contract", _("Contract (Art. 6(1)(b)): the tenancy or employment contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e)): housing management functions")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests (Art. 6(1)(f))")
    CONSENT = "consent", _("Consent (Art. 6(1)(a))")
    NOT_APPLICABLE = "not_applicable", _("Not applicable: no personal data")


@dataclass(frozen=True)
class Retention:
    """How long rows are kept, counted from an event the model names."""

    years: int
    after: str
    field: str = ""

    def __str__(self):
        return "%d years after %s" % (self.years, self.after)


@dataclass(frozen=True)
class WithheldFromSubject:
    """Rows a subject access answer holds back automatically, and the exemption relied on.

    `lookups` are ORM lookups (as pairs) marking a row withheld; `exemption` is the code of the
    exemption (sar's exemption choices) and `reason` the text shown in the bundle's index."""

    lookups: tuple[tuple[str, object], ...]
    exemption: str
    reason: str

    def row_filter(self) -> Q:
        return Q(**dict(self.lookups))


@dataclass(frozen=True)
class PersonalData:
    category: str
    purpose: str
    lawful_basis: str
    retention: Retention | None
    # Fields whose values are never shown in audit entries or to roles without the right to them.
    sensitive_fields: tuple[str, ...] = ()
    # ORM paths from this model to the Person a row is about ("" when the row is the Person).
    subject_paths: tuple[str, ...] = ()
    # For rows that point at any record through a generic relation: (content type field, id field).
    subject_generic: tuple[str, str] | None = None
    # Where rows hold personal data but are not yet linked to a person, why (shown in the inventory).
    unlinked_reason: str = ""
    # Details that say where the person can be found. A safety marker on the person (a safe
    # address) blocks their release in any disclosure, bundle, letter or work order.
    safety_protected_fields: tuple[str, ...] = ()
    # Fields about how the record is kept rather than about the person: never disclosed.
    internal_fields: tuple[str, ...] = ()
    # Fields holding the storage names of encrypted files (tmo.filestore) that rows own.
    encrypted_files: tuple[str, ...] = ()
    # The Art. 9 / Art. 10 condition relied on, for special category and criminal offence data.
    condition: str = ""
    source: str = ""
    recipients: str = ""
    # Rows the subject is never shown in a subject access answer, with the exemption relied on.
    withheld_from_subject: WithheldFromSubject | None = None
    model: type | None = field(default=None, compare=False)

    @property
    def is_personal(self) -> bool:
        return self.category != Category.NON_PERSONAL

    @property
    def is_confidential(self) -> bool:
        return self.is_personal

    @property
    def model_name(self) -> str:
        return str(self.model._meta.verbose_name).capitalize()

    @property
    def category_label(self) -> str:
        return Category(self.category).label

    @property
    def lawful_basis_label(self) -> str:
        return LawfulBasis(self.lawful_basis).label

    def subject_filter(self, person) -> Q:
        """Q selecting every row of this model about one person."""
        query = Q(pk__in=[])
        for path in self.subject_paths:
            query |= Q(**{(path + "__pk" if path else "pk"): person.pk})
        if self.subject_generic:
            from django.contrib.contenttypes.models import ContentType

            type_field, id_field = self.subject_generic
            query |= Q(
                **{type_field: ContentType.objects.get_for_model(type(person)), id_field: person.pk}
            )
        return query

    def rows_about(self, person) -> models.QuerySet:
        return self.model._default_manager.filter(self.subject_filter(person)).distinct()

    def masked_fields(self) -> list[str]:
        from tmo.fields import encrypted_fields

        names = set(self.sensitive_fields) | {f.name for f in encrypted_fields(self.model)}
        if self.category in {Category.SPECIAL, Category.CRIMINAL}:
            names |= {
                f.name
                for f in self.model._meta.concrete_fields
                if not f.is_relation
                and not f.primary_key
                and f.name not in {"created_at", "updated_at"}
            }
        return sorted(names)


@dataclass(frozen=True)
class DisclosableItem:
    """One field of one kind of record, as a third party may ask for it: "records.person.phone"."""

    key: str
    label: str
    model: type
    field_name: str
    category: str
    safety_protected: bool

    @property
    def needs_condition(self) -> bool:
        return self.category in {Category.SPECIAL, Category.CRIMINAL}


def _disclosable_fields(entry: PersonalData) -> list:
    from django.conf import settings as django_settings

    from tmo.fields import BlindIndexField

    user_model = django_settings.AUTH_USER_MODEL.lower()
    fields = []
    for model_field in entry.model._meta.concrete_fields:
        if model_field.primary_key or isinstance(model_field, BlindIndexField):
            continue
        if model_field.name in entry.internal_fields:
            continue
        if model_field.is_relation:
            target = model_field.related_model._meta.label_lower
            # The subject themselves, and staff accounts, are not details about the subject.
            if target == user_model or (
                model_field.name in {path.split("__")[0] for path in entry.subject_paths}
            ):
                continue
        fields.append(model_field)
    return fields


def disclosable_items() -> list[DisclosableItem]:
    """Every field a third party could ask for about a person, read from the map."""
    items = []
    for entry in personal_entries():
        if not (entry.subject_paths or entry.subject_generic):
            continue
        if entry.model._meta.app_label != "records" or entry.category == Category.COMMERCIAL:
            continue  # the register about people, not our paperwork about them or contractors' bids
        for model_field in _disclosable_fields(entry):
            items.append(
                DisclosableItem(
                    key="%s.%s" % (entry.model._meta.label_lower, model_field.name),
                    label="%s: %s"
                    % (
                        str(entry.model._meta.verbose_name).capitalize(),
                        str(model_field.verbose_name),
                    ),
                    model=entry.model,
                    field_name=model_field.name,
                    category=entry.category,
                    safety_protected=model_field.name in entry.safety_protected_fields,
                )
            )
    return items


def disclosable_item(key: str) -> DisclosableItem | None:
    return next((item for item in disclosable_items() if item.key == key), None)


# The apps whose every model must declare a map entry.
MAPPED_APPS = ("access", "records", "disclosures", "sar")


def entry_for(model) -> PersonalData | None:
    entry = model.__dict__.get("personal_data")
    if entry is None:
        return None
    if entry.model is not model:
        object.__setattr__(entry, "model", model)
    return entry


def entries() -> Iterator[PersonalData]:
    for model in apps.get_models():
        entry = entry_for(model)
        if entry is not None:
            yield entry


def encrypted_file_fields() -> list[tuple[type, str]]:
    """(model, field) for every field the map says holds the storage name of an encrypted
    file: documents, disclosure evidence and packs, and whatever is added later."""
    return [
        (entry.model, field_name) for entry in entries() for field_name in entry.encrypted_files
    ]


def personal_entries() -> Iterator[PersonalData]:
    return (entry for entry in entries() if entry.is_personal)


def unmapped_models(app_labels: Iterable[str] = MAPPED_APPS) -> list[str]:
    return [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in app_labels and entry_for(model) is None
    ]
