"""Third-party disclosure requests at scale, for `manage.py seed_scale`.

records.scale finds this module by name (records may not import disclosures) and calls
`seed_scale`, `audit_history` and `heavy_subject`. About 0.4 requests per home over three years
(10,000 at 25,000 homes): most decided by a senior officer with reasons, refusals recorded too,
releases sent with a small encrypted PDF pack and exactly what went out; the last few days' still
waiting. Their audit events (requested, decided, sent) go onto the one chain in time order.
"""

import datetime
import json
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from disclosures.models import (
    Basis,
    DisclosureDecision,
    DisclosureRequest,
    RequesterType,
)
from records.models import Marker, Person, Tenancy
from records.scale import event_entry, given_timestamps, office_time, storage_name
from tmo import datamap

Outcome = DisclosureDecision.Outcome
Status = DisclosureRequest.Status
PER_HOME = 0.4

# requester type, organisation, contact, identity check, items asked for, their words, purpose,
# basis, share of refusals, weight
REQUESTERS = (
    (
        RequesterType.POLICE,
        "Metropolitan Police Service",
        "DC %s, Riverside CID",
        "Called back on the station's published switchboard number",
        ["records.person.phone", "records.person.date_of_birth"],
        "Current phone number and date of birth.",
        "Tracing a witness to an assault on the estate.",
        Basis.CRIME_TAXATION,
        0.2,
        30,
    ),
    (
        RequesterType.COUNCIL,
        "Riverside Council: council tax",
        "%s, revenues officer",
        "Secure council email domain checked",
        ["records.tenancy.start_date", "records.tenancy.end_date"],
        "The dates the tenant lived at the address.",
        "Working out council tax liability for the property.",
        Basis.LEGAL_OBLIGATION,
        0.05,
        20,
    ),
    (
        RequesterType.DWP,
        "Department for Work and Pensions",
        "%s, counter-fraud investigator",
        "Signed DWP request form with the officer's reference",
        ["records.tenancy.weekly_rent", "records.tenancy.start_date"],
        "Weekly rent and tenancy start date.",
        "Checking the housing element of a Universal Credit claim.",
        Basis.CRIME_TAXATION,
        0.15,
        15,
    ),
    (
        RequesterType.UTILITY,
        "Riverside Water Ltd",
        "%s, customer accounts",
        "Letter on headed paper; number checked against the company's website",
        ["records.person.correspondence_address"],
        "A forwarding address for a former tenant.",
        "Sending a final bill.",
        Basis.CONSENT,
        0.7,
        10,
    ),
    (
        RequesterType.DEBT_COLLECTOR,
        "Northgate Recoveries Ltd",
        "%s, accounts team",
        "Letter on headed paper; no court order",
        ["records.person.phone", "records.person.email"],
        "Contact details for a customer in arrears.",
        "Collecting a private debt.",
        Basis.CONSENT,
        0.95,
        8,
    ),
    (
        RequesterType.SOLICITOR,
        "Lang & Osei Solicitors",
        "%s, solicitor",
        "Letter of authority signed by the client",
        ["records.tenancy.reference", "records.tenancy.start_date"],
        "Tenancy reference and start date for a disrepair claim.",
        "Legal proceedings for the tenant against a third party.",
        Basis.LEGAL_PROCEEDINGS,
        0.2,
        8,
    ),
    (
        RequesterType.COURT,
        "County Court at Riverside",
        "%s, court officer",
        "Sealed court order seen",
        ["records.tenancy.reference", "records.tenancy.weekly_rent"],
        "The tenancy reference and weekly rent, as the order requires.",
        "Proceedings under the court's order.",
        Basis.LEGAL_PROCEEDINGS,
        0.02,
        5,
    ),
    (
        RequesterType.MP,
        "Office of the MP for Riverside",
        "%s, caseworker",
        "Constituent's signed consent forwarded by the office",
        ["records.tenancy.start_date"],
        "How long the constituent has been a tenant.",
        "Casework on the constituent's transfer application.",
        Basis.CONSENT,
        0.1,
        4,
    ),
)
PROTECTED = {
    "records.person.phone",
    "records.person.email",
    "records.person.correspondence_address",
}
NAMES = ("Sam Holloway", "Priya Desai", "Tom Reilly", "Ama Mensah", "Kate Lowe", "Ben Okoro")


def tiny_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF of text lines, standing in for the WeasyPrint pack."""

    def escape(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 10 Tf 50 800 Td 14 TL %s ET" % " ".join(
        "(%s) '" % escape(line) for line in lines
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length %d >>\nstream\n%s\nendstream" % (len(text.encode("latin-1")), text),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body.encode("latin-1") + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _value(person: Person, tenancy: Tenancy | None, key: str) -> str:
    model, field_name = key.rsplit(".", 1)
    row = person if model == "records.person" else tenancy
    if row is None:
        return ""
    value = getattr(row, field_name)
    if field_name == "property":
        return row.property.address
    if isinstance(value, datetime.date):
        return value.strftime("%-d %B %Y")
    return "" if value is None else str(value)


class Writer:
    def __init__(self, context, name: str):
        self.context = context
        self.rng = context.rng(name)
        self.today = context.today
        self.numbers = defaultdict(int)
        # Only references in the service's own shape (DR-2026-0001) count: others (the
        # benchmark's own subjects) must neither clash nor stop the count.
        for reference in DisclosureRequest.objects.filter(
            reference__regex=r"^[A-Z]+-[0-9]{4}-[0-9]+$"
        ).values_list("reference", flat=True):
            _, year, _ = reference.split("-")
            self.numbers[int(year)] += 1
        self.safe = set(
            Marker.objects.filter(kind__in=Marker.SAFETY_KINDS).values_list("person_id", flat=True)
        )
        self.seniors = context.role_users("senior") or context.role_users("dpo")
        self.labels = {item.key: item.label for item in datamap.disclosable_items()}

    def reference(self, day: datetime.date) -> str:
        self.numbers[day.year] += 1
        return "DR-%d-%04d" % (day.year, self.numbers[day.year])

    def write(self, plans: list[tuple]) -> tuple[int, int]:
        """plans: (person_id, tenancy_id, logged_by, received_on). Returns (requests, decisions)."""
        rng = self.rng
        requests, decisions, packs = [], [], []
        people = Person.objects.in_bulk([p[0] for p in plans])
        tenancies = Tenancy.objects.select_related("property").in_bulk([p[1] for p in plans])
        now = timezone.now()
        for person_id, tenancy_id, logged_by, received in sorted(plans, key=lambda p: p[3]):
            weights = [r[-1] for r in REQUESTERS]
            (
                kind,
                organisation,
                contact,
                identity,
                items,
                details,
                purpose,
                basis,
                refusals,
                _,
            ) = rng.choices(REQUESTERS, weights)[0]
            name = contact % rng.choice(NAMES)
            logged_at = min(now, office_time(rng, received))
            request = DisclosureRequest(
                reference=self.reference(received),
                requester_type=kind,
                requester_organisation=organisation,
                requester_name=name,
                requester_contact="%s@%s.example"
                % (
                    name.split(",")[0].lower().replace(" ", ".").replace("dc.", ""),
                    organisation.split()[0].lower().strip(":"),
                ),
                identity_check=identity,
                person_id=person_id,
                requested_items=list(items),
                request_details=details,
                purpose=purpose,
                basis=basis,
                received_on=received,
                urgency=rng.choice(("routine", "routine", "routine", "urgent")),
                logged_by=logged_by,
                logged_at=logged_at,
            )
            requests.append(request)
            age = (self.today - received).days
            if age < 7 and rng.random() < 0.6:
                continue  # still waiting for a decision
            decided_at = min(now, logged_at + datetime.timedelta(hours=rng.randint(2, 200)))
            senior = rng.choice(self.seniors)
            blocked = person_id in self.safe and PROTECTED & set(items)
            if blocked or rng.random() < refusals:
                decisions.append(
                    DisclosureDecision(
                        request=request,
                        outcome=Outcome.REFUSE,
                        released_items=[],
                        necessity="",
                        reasons=(
                            "A safety marker protects the person's whereabouts; nothing that "
                            "could locate them is released."
                            if blocked
                            else "No lawful basis for sharing shown: %s. The requester was told "
                            "to seek a court order or the person's consent." % purpose.lower()
                        ),
                        decided_by=senior,
                        decider_position="Estate manager",
                        decided_at=decided_at,
                        person_told=DisclosureDecision.PersonTold.NOT_YET,
                    )
                )
                request.status = Status.REFUSED
                continue
            released = list(items) if rng.random() < 0.75 else list(items[:1])
            decision = DisclosureDecision(
                request=request,
                outcome=Outcome.RELEASE if released == list(items) else Outcome.PARTIAL,
                released_items=released,
                necessity="Each item released is needed for the stated purpose: %s"
                % purpose.lower(),
                reasons="The basis relied on applies and the request is specific; only what "
                "is necessary is released.",
                decided_by=senior,
                decider_position="Estate manager",
                decided_at=decided_at,
            )
            decisions.append(decision)
            sent_at = decided_at + datetime.timedelta(hours=rng.randint(1, 48))
            if sent_at >= now or rng.random() < 0.05:
                request.status = Status.APPROVED
                continue
            person, tenancy = people[person_id], tenancies.get(tenancy_id)
            content = [
                {"key": key, "label": self.labels.get(key, key), "values": [value]}
                for key in released
                if (value := _value(person, tenancy, key))
            ]
            pack = storage_name(rng)
            packs.append(
                (
                    pack,
                    tiny_pdf(
                        [
                            "Disclosure %s to %s" % (request.reference, organisation),
                            "About: %s" % person.full_name,
                            "Sent: %s" % sent_at.strftime("%-d %B %Y"),
                        ]
                        + ["%s: %s" % (c["label"], "; ".join(c["values"])) for c in content]
                    ),
                )
            )
            decision.recipient_confirmed = request.requester_contact
            decision.released_content = json.dumps(content)
            decision.pack_storage_name = pack
            decision.sent_at = sent_at
            decision.sent_by = senior
            if kind == RequesterType.POLICE:
                decision.person_told = DisclosureDecision.PersonTold.NOT_TOLD_CRIME
            elif rng.random() < 0.6:
                decision.person_told = DisclosureDecision.PersonTold.TOLD
                decision.person_told_on = sent_at.date()
            request.status = Status.SENT
        for name, data in packs:
            self.context.store_file(name, data)
        with given_timestamps(DisclosureRequest, "logged_at"):
            DisclosureRequest.objects.bulk_create(requests, batch_size=2000)
        DisclosureDecision.objects.bulk_create(decisions, batch_size=2000)
        self.context.progress.add("disclosure requests", len(requests))
        self.context.progress.add("disclosure decisions", len(decisions))
        return len(requests), len(decisions)


def seed_scale(*, context) -> None:
    tenants = [r for r in context.residents() if r.tenant]
    users = {u.pk: u for u in context.role_users("housing")}
    if not tenants or not users:
        return
    total = context.scaled(PER_HOME * 25_000)
    writer = Writer(context, "disclosures")
    rng = writer.rng
    with context.progress.stage("disclosure requests", total * 2):
        for start in range(0, total, 2000):
            plans = []
            for _ in range(min(2000, total - start)):
                resident = rng.choice(tenants)
                officer = users.get(resident.housing_officer_id) or rng.choice(list(users.values()))
                received = context.today - datetime.timedelta(days=int(rng.triangular(0, 1095, 0)))
                plans.append((resident.person_id, resident.tenancy_id, officer, received))
            writer.write(plans)


def heavy_subject(*, context, person, factor: int) -> dict:
    count = 20 * factor
    tenancy = Tenancy.objects.filter(members__person=person).order_by("-start_date").first()
    officer = context.role_users("housing")[0]
    writer = Writer(context, "disclosures-heavy-%d" % person.pk)
    plans = [
        (
            person.pk,
            tenancy.pk if tenancy else None,
            officer,
            context.today - datetime.timedelta(days=writer.rng.randint(8, 1500)),
        )
        for _ in range(count)
    ]
    writer.write(plans)
    return {"disclosures": count}


def audit_history(*, context):
    """disclosure_requested, _decided and _sent events on the person, as the services write
    them, in time order."""
    rng = context.rng("disclosures-audit")
    person_ct = ContentType.objects.get_for_model(Person).pk
    users = {u.pk: u for users in context.users.values() for u in users}
    names = {
        pk: "%s %s" % (first, last)
        for pk, first, last in Person.objects.filter(disclosure_requests__isnull=False)
        .values_list("pk", "first_name", "last_name")
        .distinct()
    }
    events = []
    for row in DisclosureRequest.objects.values(
        "pk",
        "reference",
        "person_id",
        "requester_organisation",
        "logged_by_id",
        "logged_at",
        "decision__outcome",
        "decision__released_items",
        "decision__decided_by_id",
        "decision__decided_at",
        "decision__sent_at",
        "decision__sent_by_id",
    ):
        person = (row["person_id"], names.get(row["person_id"], ""))
        events.append(
            (
                row["logged_at"],
                row["pk"],
                0,
                person,
                row["logged_by_id"],
                "disclosure_requested",
                {"reference": row["reference"], "requester": row["requester_organisation"]},
            )
        )
        if row["decision__decided_at"]:
            items = row["decision__released_items"] or []
            events.append(
                (
                    row["decision__decided_at"],
                    row["pk"],
                    1,
                    person,
                    row["decision__decided_by_id"],
                    "disclosure_decided",
                    {
                        "reference": row["reference"],
                        "outcome": row["decision__outcome"],
                        "items": items,
                    },
                )
            )
        if row["decision__sent_at"]:
            events.append(
                (
                    row["decision__sent_at"],
                    row["pk"],
                    2,
                    person,
                    row["decision__sent_by_id"],
                    "disclosure_sent",
                    {
                        "reference": row["reference"],
                        "recipient": row["requester_organisation"],
                        "items": row["decision__released_items"] or [],
                    },
                )
            )
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for when, _, _, (person_id, name), actor_id, event, details in events:
        yield event_entry(
            obj_ct=person_ct,
            obj_id=person_id,
            name=name,
            actor=users.get(actor_id),
            when=when,
            rng=rng,
            event=event,
            **details,
        )
