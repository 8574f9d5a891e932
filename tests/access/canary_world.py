"""The matrix world with a canary in every sensitive text field the personal-data map names.

`build_canary_world()` builds `matrix_world.build_world()`, adds a row of every other kind the
map lists for the OWN / OTHER / UNASSIGNED cases (disclosures, rights requests and their bundles,
breaches, meetings, emergency access, holds, portal rows...), then walks `datamap.personal_entries()`
and writes a distinctive token into every sensitive text field of every row held. The list of
fields comes from the map (`masked_fields()`), never from this file: a field added to the map is
planted on the next run. Values are written through the model fields, so encrypted fields are
stored encrypted (`planted_in_clear()` checks that no token sits in a database column as written).

A token is CANARY + five digits + X: all the same length, so no token contains another, and plain
letters and digits, so HTML escaping leaves them alone. Matching is case-insensitive (a template
may title-case a value; an email address is lower case).
"""

import datetime
import json
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.utils import timezone

from access.roles import Role
from records import services as record_services
from tests.access.matrix_world import OTHER, OWN, UNASSIGNED, build_world
from tests.factories import (
    AuthorisedRepresentativeFactory,
    DisclosureDecisionFactory,
    DisclosureEvidenceFactory,
    EmergencyAccessFactory,
    EqualityMonitoringFactory,
    HousingApplicationFactory,
    IdentityEvidenceFactory,
    InternalReviewFactory,
    LegalHoldFactory,
    MarkerFactory,
    MeetingFactory,
    PortalMessageFactory,
    PortalRequestFactory,
    PortalVerificationFactory,
    ReportCopyFactory,
    RightsActionFactory,
    SarRedactionFactory,
    SensitiveInformationFactory,
    SubjectAccessRequestFactory,
    UserFactory,
    WorkOrderFactory,
)
from tmo import datamap

CASES = (OWN, OTHER, UNASSIGNED)
TOKEN = "CANARY%05dX"
# Sensitive fields the sweep cannot plant a token in, with the reason. Asserted exactly by the
# sweep, so a field added to the map that cannot take a token has to be considered here.
NOT_PLANTED = {
    ("access.UserSession", "session_key"): "a credential the session store looks rows up by; a "
    "token in it would end the session, and it is never displayed",
    ("sar.PortalActivationCode", "selector"): "the public half of an activation code, looked up "
    "by value; it is shown once, to the officer issuing it, when it is made",
    ("sar.PortalActivationCode", "code_hash"): "a password hash, checked and never displayed",
    ("records.Person", "bank_sort_code"): "six digits: too short for a token that no other "
    "value (a CSRF token, a reference) could contain by chance",
    ("records.Person", "bank_account_number"): "eight digits: too short for a distinctive token",
}


@dataclass(frozen=True)
class Canary:
    token: str
    label: str  # "records.person"
    field: str  # a field name, or "file" for the contents of an encrypted file
    pk: int
    case: str  # OWN / OTHER / UNASSIGNED where the row belongs to one, else ""

    def __str__(self):
        return "%s %s.%s #%s (%s)" % (self.token, self.label, self.field, self.pk, self.case)


def _is_text(model_field) -> bool:
    from tmo.fields import BlindIndexField, EncryptedField, EncryptedTextField

    if isinstance(model_field, BlindIndexField) or model_field.choices:
        return False
    if isinstance(model_field, EncryptedField):
        # Encrypted dates, amounts and flags are stored as text but hold no text.
        return isinstance(model_field, EncryptedTextField)
    return isinstance(model_field, models.CharField | models.TextField)


def plantable_fields(entry) -> list[str]:
    """The entry's sensitive text fields (as the map masks them), less NOT_PLANTED."""
    label = entry.model._meta.label
    names = []
    for name in entry.masked_fields():
        model_field = entry.model._meta.get_field(name)
        if not _is_text(model_field) or (label, name) in NOT_PLANTED:
            continue
        names.append(name)
    return names


def _value_for(token: str, field_name: str, current: str, max_length: int | None) -> str:
    """The token, shaped to what the field holds: JSON keeps its shape with every string value
    replaced, an email address stays an email address."""
    try:
        parsed = json.loads(current) if current else None
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict | list):

        def swap(value):
            if isinstance(value, dict):
                return {key: swap(item) for key, item in value.items()}
            if isinstance(value, list):
                return [swap(item) for item in value]
            return token if isinstance(value, str) else value

        return json.dumps(swap(parsed))
    if "email" in field_name:
        return "%s@example.org" % token.lower()
    value = token
    if max_length is not None and len(value) > max_length:
        raise AssertionError("%s cannot hold a canary (max %s)" % (field_name, max_length))
    return value


def _extra_rows(world) -> dict:
    """A row of every kind the map lists that build_world does not make, per ownership case."""
    users = world["users"]
    people = world["people"]
    officer, senior = users[Role.HOUSING_OFFICER], users[Role.SENIOR_OFFICER]
    dpo, member = users[Role.DATA_PROTECTION_LEAD], users[Role.COMMITTEE_MEMBER]
    from access.models import BreachOutcome, BreachSubject, EmergencyAccessAttempt, UserSession
    from access.services import breaches
    from access.services.compliance import start_access_review
    from sar.models import BundleDownload, ClockStop, PortalActivationCode, ResidentLink

    kinds: dict[str, dict] = {}

    def add(kind, case, obj):
        kinds.setdefault(kind, {})[case] = obj
        return obj

    # A tenant who has signed up to the portal, linked to the OWN person.
    portal_user = UserFactory(roles=[Role.TENANT])
    ResidentLink.objects.create(user=portal_user, person=people[OWN], method="code")
    # Emergency access by an officer outside the sweep, so no swept role's scope widens.
    breaker = UserFactory(roles=[Role.HOUSING_OFFICER])
    for case in CASES:
        person = people[case]
        add("marker", case, MarkerFactory(person=person, details="x"))
        add("sensitive", case, SensitiveInformationFactory(person=person))
        add("representative", case, AuthorisedRepresentativeFactory(person=person))
        add("application", case, HousingApplicationFactory(person=person))
        add("equality", case, EqualityMonitoringFactory(person=person))
        add(
            "text_document",
            case,
            record_services.document_upload(
                uploaded_by=dpo,
                person=person,
                upload=SimpleUploadedFile("note.txt", b"placeholder"),
                title="Note",
                kind="correspondence",
            ),
        )
        evidence = add(
            "disclosure_evidence",
            case,
            DisclosureEvidenceFactory(request__person=person, request__logged_by=officer),
        )
        add("disclosure", case, evidence.request)
        DisclosureDecisionFactory(
            request=evidence.request,
            decided_by=senior,
            recipient_confirmed="x",
            released_content=json.dumps(
                [{"key": "records.person.phone", "label": "Phone", "values": ["x"]}]
            ),
            pack_storage_name="pack-%s" % case,
        )
        if case != UNASSIGNED:
            add(
                "work_order",
                case,
                WorkOrderFactory(
                    person=person,
                    tenancy=world["objects"]["tenancy"][case],
                    raised_by=users[Role.REPAIRS_OFFICER],
                ),
            )
        sar = add("sar", case, SubjectAccessRequestFactory(person=person))
        redaction = add("redaction", case, SarRedactionFactory(item__bundle__request=sar))
        add("sar_item", case, redaction.item)
        bundle = add("bundle", case, redaction.item.bundle)
        BundleDownload.objects.create(bundle=bundle)
        add("identity_evidence", case, IdentityEvidenceFactory(request=sar))
        PortalRequestFactory(
            request=sar, account=portal_user if case == OWN else None, represented_name="x"
        )
        PortalMessageFactory(request=sar)
        InternalReviewFactory(request=sar, outcome_details="x")
        RightsActionFactory(request=sar, done_by=senior)
        ClockStop.objects.create(
            request=sar, stopped_on=timezone.localdate(), reason="x", stopped_by=senior
        )
        PortalVerificationFactory(person=person)
        PortalActivationCode.objects.create(
            person=person,
            selector="sel%05d" % person.pk,
            code_hash="hash",
            created_by=officer,
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )
        breach = add("breach", case, breaches.report_breach(reported_by=officer, summary="x"))
        BreachSubject.objects.create(breach=breach, content_object=person, added_by=dpo)
        BreachOutcome.objects.create(
            breach=breach, kind="disciplinary_referral", user=breaker, decided_by=dpo, notes="x"
        )
        add(
            "legal_hold",
            case,
            LegalHoldFactory(
                model_label="records.person",
                object_id=str(person.pk),
                placed_by=dpo,
                lift_reason="x",
            ),
        )
    emergency = add("emergency", OTHER, EmergencyAccessFactory(user=breaker, target=people[OTHER]))
    EmergencyAccessAttempt.objects.create(
        user=breaker,
        identifier_kind="record_number",
        reason="x",
        outcome="opened",
        access=emergency,
    )
    # Meetings: OWN is one the committee member attends and holds a copy for; OTHER is not.
    for case, holder in ((OWN, member), (OTHER, UserFactory(roles=[Role.COMMITTEE_MEMBER]))):
        meeting = add("meeting", case, MeetingFactory(confidential_minutes="x"))
        copy = add("copy", case, ReportCopyFactory(report__meeting=meeting, member=holder))
        copy.lost_reason = "x"
        copy.save(update_fields=["lost_reason"])
        meeting.attendees.add(holder)
        add("report", case, copy.report)
    for case, user in ((OWN, officer), (OTHER, senior)):
        UserSession.objects.create(user=user, session_key="canary-session-%s" % case)
    review = add("access_review", OWN, start_access_review(started_by=dpo, period="Canary sweep"))
    add("access_review_item", OWN, review.items.order_by("pk").first())
    _route_objects(world, kinds, add)
    return {"kinds": kinds, "portal_user": portal_user}


def _route_objects(world, kinds, add) -> None:
    """Rows that hold no canary themselves but that URLs take, so every route is requested."""
    from access.services import dpia, grants
    from disclosures.models import InformationEnquiry
    from tests.factories import DisposalCandidateFactory, DisposalCertificateFactory
    from tmo.retention_models import RetentionRule

    users, people = world["users"], world["people"]
    officer, dpo = users[Role.HOUSING_OFFICER], users[Role.DATA_PROTECTION_LEAD]
    add(
        "dpia",
        OWN,
        dpia.create_assessment(
            user=dpo, values={"title": "Canary DPIA", "description": "x", "risks": "x"}
        ),
    )
    add(
        "grant",
        OWN,
        grants.committee_access_request(
            requested_by=officer,
            decision="Item 4: management transfer",
            reason="The committee decides transfers.",
            members=[users[Role.COMMITTEE_MEMBER]],
            items=[("records.person", people[OWN].pk)],
        ),
    )
    for case, order in kinds["work_order"].items():
        add("agreement", case, order.agreement)
    add(
        "enquiry",
        OWN,
        InformationEnquiry.objects.create(
            enquirer="A neighbour at number 6",
            question="When will the roof be fixed?",
            response=InformationEnquiry.Response.ANSWERED,
            response_details="Monday.",
            answered_by=officer,
        ),
    )
    add("retention_rule", OWN, RetentionRule.objects.get(model_label="records.person"))
    for case in CASES:
        row = DisposalCandidateFactory(model_label="records.person", object_id=str(people[case].pk))
        add("disposal_candidate", case, row)
        add("disposal_review", case, row.review)
    add("certificate", OWN, DisposalCertificateFactory(approved_by=dpo))


def _case_of(world, obj) -> str:
    """The ownership case of a row, from the person (or the row) it belongs to."""
    for rows in world["objects"].values():
        for case, row in rows.items():
            if type(row) is type(obj) and row.pk == obj.pk:
                return case
    person = getattr(obj, "person", None) or getattr(getattr(obj, "request", None), "person", None)
    for case, row in world["people"].items():
        if person is not None and person.pk == row.pk:
            return case
    return ""


def plant(world) -> list[Canary]:
    canaries = []
    for entry in datamap.personal_entries():
        fields = plantable_fields(entry)
        if not fields:
            continue
        model = entry.model
        for row in model._base_manager.all():
            values = {}
            case = _case_of(world, row)
            for name in fields:
                token = TOKEN % (len(canaries) + 1)
                model_field = model._meta.get_field(name)
                current = model_field.value_from_object(row)
                values[name] = _value_for(token, name, current or "", model_field.max_length)
                canaries.append(Canary(token, model._meta.label_lower, name, row.pk, case))
            # Saved through the model, as an edit would be: encrypted fields are stored encrypted
            # and the audit log records the change (masked, which the sweep then checks).
            for name, value in values.items():
                setattr(row, name, value)
            row.save(update_fields=list(values))
    canaries += _plant_files(world)
    return canaries


def _plant_files(world) -> list[Canary]:
    """The contents of every encrypted file the map says rows own (datamap.encrypted_file_fields:
    documents, disclosure evidence and packs, bundles, identity evidence): a canary each."""
    from tmo import filestore

    canaries = []
    for model, field_name in datamap.encrypted_file_fields():
        for row in model._base_manager.exclude(**{field_name: ""}):
            token = "CANARYF%04dX" % (len(canaries) + 1)
            content_type = getattr(row, "content_type", "")
            data = token.encode()
            if content_type == "application/pdf" or field_name == "pack_storage_name":
                data = _pdf_with(token)
            filestore.write_encrypted(getattr(row, field_name), data)
            if hasattr(row, "size"):
                model._base_manager.filter(pk=row.pk).update(size=len(data))
            canaries.append(
                Canary(token, row._meta.label_lower, "file", row.pk, _case_of(world, row))
            )
    return canaries


def _pdf_with(text: str) -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>%s</p>" % text).write_pdf()


def planted_in_clear(canaries) -> list[str]:
    """Tokens readable in a database column as stored: an encrypted field must hold none."""
    from django.apps import apps

    from tmo.fields import encrypted_fields

    found = []
    by_row: dict[tuple[str, int], list[Canary]] = {}
    for canary in canaries:
        by_row.setdefault((canary.label, canary.pk), []).append(canary)
    with connection.cursor() as cursor:
        for (label, pk), planted in by_row.items():
            model = apps.get_model(label)
            encrypted = {f.name for f in encrypted_fields(model)}
            for canary in planted:
                if canary.field not in encrypted:
                    continue
                column = model._meta.get_field(canary.field).column
                # The names come from the model's meta, quoted; only the key is a parameter.
                cursor.execute(
                    "SELECT %s FROM %s WHERE %s = %%s"  # noqa: S608
                    % (
                        connection.ops.quote_name(column),
                        connection.ops.quote_name(model._meta.db_table),
                        connection.ops.quote_name(model._meta.pk.column),
                    ),
                    [pk],
                )
                raw = str(cursor.fetchone()[0] or "")
                if canary.token.lower() in raw.lower():
                    found.append(str(canary))
    return found


def build_canary_world() -> dict:
    world = build_world()
    extra = _extra_rows(world)
    for kind, rows in extra["kinds"].items():
        world["objects"].setdefault(kind, {}).update(rows)
    world["portal_user"] = extra["portal_user"]
    world["canaries"] = plant(world)
    return world
