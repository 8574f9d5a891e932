"""A synthetic organisation at housing-body scale, for `manage.py seed_scale` and benchmarks.

The people, households and contact history come from the same invented-UK generators as
`seed_demo` (its DemoBuilder: names, SE99 addresses, Ofcom drama numbers, QQ NI numbers, repair
and rent cases), written in bulk, a chunk of homes at a time, so memory stays bounded whatever the
size. bulk_create runs each field's get_prep_value and pre_save, so encrypted columns hold real
Fernet tokens and blind indexes real HMACs; documents are real files encrypted into the file
store. Apps above records (disclosures, sar) add their part from a `scale` module found by name,
as seed_demo finds `demo` modules, so records imports none of them.

Everything scales linearly with --homes: the figures below are for 25,000 homes.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from access.roles import Role
from records.management.commands.seed_demo import (
    APPLICATION_CIRCUMSTANCES,
    CONTRACTOR_CONTACT_ROLES,
    CONTRACTORS,
    DEMO_PASSWORD,
    HEALTH_NOTES,
    INTERPRETER_LANGUAGES,
    STAFF_NOTES,
    SURNAMES,
    TRANSFER_CIRCUMSTANCES,
    VULNERABLE_NOTES,
    DemoBuilder,
    Household,
    _png,
    _words,
)
from records.models import (
    ContactMethod,
    ContactRecord,
    Contractor,
    ContractorContact,
    Document,
    HouseholdMember,
    HousingApplication,
    Marker,
    Patch,
    Person,
    PersonUserObjectPermission,
    Property,
    SensitiveInformation,
    StaffRecord,
    Tenancy,
)
from tmo import auditbulk, crypto, filestore

REFERENCE_HOMES = 25_000
Rel = HouseholdMember.Relationship
Topic = ContactRecord.Topic

# username prefix, role, accounts at 25,000 homes, job title, department. Accounts are numbered
# from 01 (housing01, housing02, ...); every one has the demo password. There are always at least
# two housing officers, so that even a small run has a patch that one of them does not see.
STAFF = (
    ("housing", Role.HOUSING_OFFICER, 25, "Housing officer", "Housing"),
    ("repairs", Role.REPAIRS_OFFICER, 12, "Repairs officer", "Property services"),
    ("finance", Role.FINANCE_OFFICER, 8, "Income officer", "Finance"),
    ("hr", Role.HR_OFFICER, 3, "HR adviser", "Corporate services"),
    ("contracts", Role.CONTRACTS_OFFICER, 3, "Contracts officer", "Property services"),
    ("senior", Role.SENIOR_OFFICER, 6, "Estate manager", "Housing"),
    ("dpo", Role.DATA_PROTECTION_LEAD, 3, "Data protection officer", "Corporate services"),
)
COMMITTEE = ("committee", Role.COMMITTEE_MEMBER, 12)
ADMIN = ("admin", Role.SYSTEM_ADMINISTRATOR, 1)
HOMES_PER_PATCH = 250
TRAINING_MODULE = "UK GDPR essentials"

# Per home, at any size: what the brief for 25,000 homes works out to.
CURRENT_CONTACTS = (12, 58)  # contact records per current household (uniform range)
FORMER_CONTACTS = (2, 16)
ACCESS_READS_PER_HOME = 6  # audit ACCESS entries over the last year
CHUNK_HOMES = 500

ESTATE_WORDS = _words(
    "Abbey Alder Ash Aspen Barley Beacon Beech Birch Bramble Brook Cedar Chestnut Clover Cobalt "
    "Copper Cotton Cresswell Dale Elm Fern Flint Forge Foundry Glebe Granary Harbour Hawthorn "
    "Hazel Heather Holly Ivy Juniper Kiln Lantern Larch Laurel Linden Maple Meadow Mill Mulberry "
    "Oak Osier Paddock Pear Pine Poplar Quarry Reed Rope Rowan Saddler Sorrel Spruce Tannery "
    "Teasel Thatcher Thorn Timber Vine Walnut Wheat Willow Yew"
)
ESTATE_KINDS = ("Estate", "Gardens", "Towers", "Park", "Court")
STREET_KINDS = ("Road", "Street", "Walk", "Close", "Way", "Row")
OFFICE_ADDRESSES = tuple("10.20.%d.%d" % (a, b) for a in (1, 2, 3) for b in range(11, 41))


def users_by_prefix():
    """The scale accounts by prefix ("housing" -> [housing01, housing02, ...])."""
    prefixes = [s[0] for s in STAFF] + [COMMITTEE[0], ADMIN[0]]
    found = defaultdict(list)
    users = get_user_model().objects.filter(username__regex=r"^(%s)\d{2,}$" % "|".join(prefixes))
    for user in users.order_by("username"):
        found[user.username.rstrip("0123456789")].append(user)
    return dict(found)


class Progress:
    """Prints the stage, rows written so far and rows per second, every few seconds."""

    def __init__(self, write, interval: float = 5.0):
        self.write = write
        self.interval = interval
        self.counts: dict[str, int] = defaultdict(int)
        self.name = ""
        self.rows = 0
        self.expected = None
        self.started = self.last = time.monotonic()

    @contextlib.contextmanager
    def stage(self, name: str, expected: int | None = None):
        self.name, self.rows, self.expected = name, 0, expected
        self.started = self.last = time.monotonic()
        self.write(
            "%s%s..." % (name, " (about %s rows)" % format(expected, ",") if expected else "")
        )
        yield self
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.write(
            "%s: %s rows in %.1f s (%s rows/s)"
            % (name, format(self.rows, ","), elapsed, format(round(self.rows / elapsed), ","))
        )

    def add(self, table: str, rows: int) -> None:
        # With DEBUG on, Django keeps the last 9,000 queries, each bulk insert's parameters
        # included: hundreds of megabytes at this size. Nothing here needs them.
        reset_queries()
        self.counts[table] += rows
        self.rows += rows
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            elapsed = max(now - self.started, 1e-6)
            self.write(
                "  %s: %s rows%s, %s rows/s"
                % (
                    self.name,
                    format(self.rows, ","),
                    " of about %s" % format(self.expected, ",") if self.expected else "",
                    format(round(self.rows / elapsed), ","),
                )
            )


@dataclass
class ScaleContext:
    """What every app's scale module is given: sizes, seeded random streams, the accounts, the
    residents on the register, progress reporting, and the files written so far."""

    homes: int
    seed: int
    progress: Progress
    log: object
    today: datetime.date = field(default_factory=timezone.localdate)
    users: dict = field(default_factory=dict)
    storage_names: list = field(default_factory=list)
    _residents: list | None = None

    def rng(self, name: str) -> random.Random:
        return random.Random("%d:%s" % (self.seed, name))

    def scaled(self, at_reference: float, minimum: int = 1) -> int:
        """A count given for 25,000 homes, scaled linearly to this run."""
        return max(minimum, round(at_reference * self.homes / REFERENCE_HOMES))

    def role_users(self, prefix: str) -> list:
        return self.users.get(prefix, [])

    def residents(self) -> list[Resident]:
        """Every tenant and household member with their home's patch and officers, read once."""
        if self._residents is None:
            officers = patch_officers()
            rows = HouseholdMember.objects.values_list(
                "person_id",
                "person__first_name",
                "person__last_name",
                "tenancy_id",
                "tenancy__end_date",
                "tenancy__property__patch_id",
                "relationship",
            ).order_by("pk")
            self._residents = [
                Resident(
                    person_id=person_id,
                    name="%s %s" % (first, last),
                    tenancy_id=tenancy_id,
                    current=end is None or end >= self.today,
                    patch_id=patch_id,
                    tenant=relationship in HouseholdMember.TENANT_RELATIONSHIPS,
                    housing_officer_id=officers.get(patch_id, {}).get(Role.HOUSING_OFFICER),
                    repairs_officer_id=officers.get(patch_id, {}).get(Role.REPAIRS_OFFICER),
                )
                for person_id, first, last, tenancy_id, end, patch_id, relationship in rows
            ]
        return self._residents

    def store_file(self, storage_name: str, data: bytes) -> None:
        """Encrypt into the file store, as filestore.write_encrypted does, but without its
        per-file fsync: a failed run removes every file it wrote, and 100,000 fsyncs would take
        most of the time budget."""
        path = filestore.document_path(storage_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(crypto.encrypt_bytes(data))
        self.storage_names.append(storage_name)

    def remove_written_files(self) -> None:
        for name in self.storage_names:
            filestore.delete(name)


@dataclass(frozen=True)
class Resident:
    person_id: int
    name: str
    tenancy_id: int
    current: bool
    patch_id: int
    tenant: bool
    housing_officer_id: int | None
    repairs_officer_id: int | None


def patch_officers() -> dict[int, dict[str, int]]:
    """patch id -> {role: the first officer with that role}."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    through = Patch.officers.through.objects.values_list(
        "patch_id", "user_id", "user__groups__name"
    ).order_by("patch_id", "user_id")
    for patch_id, user_id, role in through:
        found[patch_id].setdefault(role, user_id)
    return found


def storage_name(rng: random.Random) -> str:
    return "%032x" % rng.getrandbits(128)


@contextlib.contextmanager
def given_timestamps(model, *names):
    """Let bulk_create keep the times we give auto_now(_add) fields, so history reads as history."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def scale_modules(exclude: str = "records") -> list:
    """Each installed app's `scale` module, found by name (records imports no app above it)."""
    found = []
    for config in apps.get_app_configs():
        if config.name == exclude:
            continue
        name = "%s.scale" % config.name
        try:
            found.append(import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def access_entry(*, content_type_id, obj_id, name, user, when, rng):
    from auditlog.models import LogEntry

    return LogEntry(
        content_type_id=content_type_id,
        object_pk=str(obj_id),
        object_id=obj_id,
        object_repr=name,
        serialized_data=None,
        action=LogEntry.Action.ACCESS,
        changes_text="",
        changes=None,
        actor_id=user.pk,
        actor_email=user.email or None,
        cid=uuid.UUID(int=rng.getrandbits(128)).hex,
        remote_addr=rng.choice(OFFICE_ADDRESSES),
        remote_port=None,
        timestamp=when,
        additional_data=None,
    )


def event_entry(*, obj_ct, obj_id, name, actor, when, rng, event, **details):
    """A domain event as tmo.audit.record_event writes it."""
    from auditlog.models import LogEntry

    return LogEntry(
        content_type_id=obj_ct,
        object_pk=str(obj_id),
        object_id=obj_id,
        object_repr=name,
        serialized_data=None,
        action=LogEntry.Action.UPDATE,
        changes_text="",
        changes={},
        actor_id=actor.pk if actor else None,
        actor_email=None,
        cid=uuid.UUID(int=rng.getrandbits(128)).hex,
        remote_addr=rng.choice(OFFICE_ADDRESSES) if actor else None,
        remote_port=None,
        timestamp=when,
        additional_data={"event": event, **details},
    )


def office_time(rng: random.Random, day: datetime.date) -> datetime.datetime:
    moment = datetime.time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60))
    return timezone.make_aware(datetime.datetime.combine(day, moment))


# --- documents ---------------------------------------------------------------------------------


def letter_text(person: Person, address: str, record: ContactRecord, officer) -> bytes:
    salutation = " ".join(p for p in (person.title, person.last_name) if p) or person.full_name
    signed = officer.get_full_name() if officer else "Housing services"
    return (
        "%s\n\n%s\n%s\n\n%s\n\nDear %s\n\n%s\n\n%s\n\nIf you have any questions, please contact "
        "us quoting %s.\n\nYours sincerely\n\n%s\n"
        % (
            settings.ORGANISATION_NAME,
            person.full_name,
            address,
            timezone.localtime(record.occurred_at).strftime("%-d %B %Y"),
            salutation,
            record.subject,
            record.notes,
            record.case_reference or "your tenancy reference",
            signed,
        )
    ).encode()


def report_text(person: Person, address: str, record: ContactRecord) -> bytes:
    return (
        "INSPECTION REPORT\nProperty: %s\nCase: %s\nResident: %s\nDate: %s\n\nFindings\n%s\n\n"
        "Recommendations\nSee the case notes; re-inspect if the problem returns.\n"
        % (
            address,
            record.case_reference or "-",
            person.full_name,
            timezone.localtime(record.occurred_at).strftime("%-d %B %Y"),
            record.notes,
        )
    ).encode()


class Images:
    """A few small real PNGs made once; each stored copy is encrypted afresh."""

    def __init__(self, rng: random.Random, count: int = 6):
        self.images = [_png(rng, 64, 48) for _ in range(count)]

    def pick(self, rng: random.Random) -> bytes:
        return rng.choice(self.images)


# --- the records builder -----------------------------------------------------------------------


class RecordsScale:
    """Writes records' part of the organisation: accounts, patches, homes, households, contact
    history, documents, markers, applications and assignments."""

    def __init__(self, context: ScaleContext):
        self.context = context
        self.progress = context.progress
        self.today = context.today
        self.rng = context.rng("records")
        # seed_demo's generators: names, addresses, phone and NI numbers, cases.
        self.gen = DemoBuilder(homes=REFERENCE_HOMES, seed=context.seed, log=context.log)
        self.gen.rng = self.rng
        self.gen.forbidden = {}
        self.gen.tenancy_serial = 0
        self.images = Images(context.rng("images"))
        self.serial = defaultdict(int)

    def next(self, name: str) -> int:
        self.serial[name] += 1
        return self.serial[name]

    # -- accounts ---------------------------------------------------------------------------

    def create_accounts(self) -> None:
        from access.compliance import REQUIRED_ROLES
        from access.models import TrainingModule, TrainingRecord, Undertaking
        from access.services.compliance import current_code, publish_initial_code

        user_model = get_user_model()
        password = make_password(DEMO_PASSWORD)
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        plan = [
            (p, role, self.context.scaled(n, 2 if role == Role.HOUSING_OFFICER else 1), job, dept)
            for p, role, n, job, dept in STAFF
        ]
        plan.append((COMMITTEE[0], COMMITTEE[1], self.context.scaled(COMMITTEE[2], 2), "", ""))
        plan.append((ADMIN[0], ADMIN[1], ADMIN[2], "Systems administrator", "Corporate services"))
        code = publish_initial_code() or current_code()
        module, _ = TrainingModule.objects.get_or_create(
            name=TRAINING_MODULE,
            defaults={
                "description": "Data protection law, the confidentiality code and how to spot a "
                "breach.",
                "roles": sorted(REQUIRED_ROLES),
                "validity_months": 12,
            },
        )
        staff_people = []
        with self.progress.stage("accounts"):
            for prefix, role, count, job, department in plan:
                for index in range(1, count + 1):
                    sex = self.rng.choice("FM")
                    first = self.gen.first_name(sex)
                    last = self.rng.choice(SURNAMES)
                    user = user_model.objects.create(
                        username="%s%02d" % (prefix, index),
                        first_name=first,
                        last_name=last,
                        email="%s%02d@tmo.example" % (prefix, index),
                        password=password,
                        is_staff=role == Role.SYSTEM_ADMINISTRATOR,
                    )
                    user.groups.add(groups[role])
                    self.context.users.setdefault(prefix, []).append(user)
                    self.progress.add("users", 1)
                    if job:
                        person = self.gen.person(
                            sex,
                            self.rng.randint(23, 62),
                            first_name=first,
                            last_name=last,
                            email_domain="tmo.example",
                            bank=True,
                        )
                        staff_people.append((person, job, department))
            dpo = self.context.users["dpo"][0]
            for prefix, role, *_ in plan:
                if role not in REQUIRED_ROLES:
                    continue
                for user in self.context.users[prefix]:
                    Undertaking.objects.create(
                        user=user, code=code, signed_name=user.get_full_name()
                    )
                    TrainingRecord.objects.create(
                        user=user,
                        module=module,
                        completed_on=self.today - datetime.timedelta(days=self.rng.randint(5, 300)),
                        recorded_by=dpo,
                        evidence="Online course certificate",
                    )
            self.flush_people()
            StaffRecord.objects.bulk_create(
                [
                    StaffRecord(
                        person=person,
                        employee_number="S%05d" % self.next("employee"),
                        job_title=job,
                        department=department,
                        start_date=self.gen.days_ago(200, 6000),
                        salary=Decimal(self.rng.randrange(28000, 56000, 150)),
                        hr_notes=self.rng.choice(STAFF_NOTES),
                    )
                    for person, job, department in staff_people
                ]
            )
            self.progress.add("staff records", len(staff_people))
        self.gen.users = {
            "housing": self.context.users["housing"][0],
            "repairs": self.context.users["repairs"][0],
            "finance": self.context.users["finance"][0],
            "senior": self.context.users["senior"][0],
        }

    # -- patches and homes ------------------------------------------------------------------

    def create_patches(self) -> None:
        count = max(2, round(self.context.homes / HOMES_PER_PATCH))
        housing = self.context.users["housing"]
        repairs = self.context.users["repairs"]
        words = list(ESTATE_WORDS)
        self.rng.shuffle(words)
        taken = set(Patch.objects.values_list("name", flat=True))
        self.patches = []
        with self.progress.stage("patches"):
            for index in range(count):
                word = words[index % len(words)]
                kind = ESTATE_KINDS[index % len(ESTATE_KINDS)]
                name = "%s %s" % (word, kind)
                serial = 1
                while name in taken:
                    serial += 1
                    name = "%s %s %d" % (word, kind, serial)
                taken.add(name)
                patch = Patch.objects.create(name=name)
                patch.scale_word = word
                patch.scale_kind = index % 4
                patch.scale_district = index
                self.patches.append(patch)
            through = Patch.officers.through
            through.objects.bulk_create(
                [
                    through(patch_id=patch.pk, user_id=officer.pk)
                    for index, patch in enumerate(self.patches)
                    for officer in (housing[index % len(housing)], repairs[index % len(repairs)])
                ]
            )
            self.progress.add("patches", count)
        self.officers = {
            patch.pk: {
                "housing": housing[index % len(housing)],
                "repairs": repairs[index % len(repairs)],
            }
            for index, patch in enumerate(self.patches)
        }

    def patch_for_home(self, home: int) -> tuple[Patch, int]:
        """The patch a home lies in, and its place among the patch's homes."""
        count, homes = len(self.patches), self.context.homes
        number = home * count // homes
        first = -(-number * homes // count)
        return self.patches[number], home - first

    def property_for(self, home: int, patch: Patch, index: int) -> Property:
        rng = self.rng
        word, district = patch.scale_word, patch.scale_district
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = "SE99 %d%s%s" % (
            district % 10,
            letters[(district // 10) % len(letters)],
            letters[(index // 20) % len(letters)],
        )
        asbestos = ""
        if patch.scale_kind == 0:  # an estate of low-rise blocks
            block = "%s House" % SURNAMES[(district * 5 + index % 5) % len(SURNAMES)]
            number = index // 5 + 1
            kind = Property.PropertyType.FLAT
            bedrooms = rng.choice((1, 1, 2, 2, 2, 3))
            if number > 8 and rng.random() < 0.5:
                kind, bedrooms = Property.PropertyType.MAISONETTE, rng.choice((2, 3, 3, 4))
            line_1, line_2 = "Flat %d %s" % (number, block), "%s Road" % word
            built = 1960 + district % 15
            if rng.random() < 0.4:
                asbestos = "Asbestos survey: textured coating to ceilings; do not drill or sand."
        elif patch.scale_kind == 1:  # Victorian streets
            street = "%s %s" % (word, STREET_KINDS[index % len(STREET_KINDS)])
            number = (index // len(STREET_KINDS)) * 2 + 1
            if rng.random() < 0.25:
                line_1 = "Flat %s, %d %s" % (rng.choice("AB"), number, street)
                kind, bedrooms = Property.PropertyType.FLAT, rng.choice((0, 1, 2))
                if bedrooms == 0:
                    kind = Property.PropertyType.BEDSIT
            else:
                line_1 = "%d %s" % (number, street)
                kind, bedrooms = Property.PropertyType.HOUSE, rng.choice((2, 3, 3, 4))
            line_2 = ""
            built = 1885 + rng.randint(0, 25)
        elif patch.scale_kind == 2:  # towers
            tower = "%s Tower %s" % (word, "North" if index % 2 else "South")
            number = index // 2 + 1
            line_1, line_2 = "Flat %d %s" % (number, tower), "%s Road" % word
            if rng.random() < 0.15:
                kind, bedrooms = Property.PropertyType.BEDSIT, 0
            else:
                kind, bedrooms = Property.PropertyType.FLAT, rng.choice((1, 1, 2, 2, 2, 3))
            built = 1965 + district % 6
            if rng.random() < 0.5:
                asbestos = "Asbestos insulating board boxing the riser; licensed contractor only."
        else:  # newer houses
            street = "%s %s" % (word, ("Close", "Way", "Court")[index % 3])
            number = index // 3 + 1
            line_1, line_2 = "%d %s" % (number, street), ""
            kind, bedrooms = Property.PropertyType.HOUSE, rng.choice((2, 3, 3, 4))
            built = 1990 + district % 10
        return Property(
            reference="SC%06d" % (home + 1),
            address_line_1=line_1,
            address_line_2=line_2,
            town="London",
            postcode=postcode,
            patch=patch,
            property_type=kind,
            bedrooms=bedrooms,
            built_year=built,
            kitchen_installed_year=max(built, rng.randint(1995, 2024)),
            asbestos_survey_notes=asbestos,
        )

    # -- households, people and their history -----------------------------------------------

    def new_tenancy(self, prop, start, end=None) -> Tenancy:
        tenancy = self.gen.new_tenancy(prop, start, end)
        tenancy.reference = "ST%07d" % self.gen.tenancy_serial
        return tenancy

    def former_household(self, prop, start, end) -> Household:
        """A household that has moved on. About half moved within the organisation (a transfer:
        the tenant of a home let after this tenancy ended); the others left, and about half of
        those left a forwarding address."""
        rng, gen = self.rng, self.gen
        tenancy = self.new_tenancy(prop, start, end)
        if rng.random() < 0.5:
            for _ in range(5):
                if not self.movers:
                    break
                mover = rng.choice(self.movers)
                if mover.tenancy.start_date > end and mover.tenant.scale_moved is False:
                    mover.tenant.scale_moved = True
                    gen.member(tenancy, mover.tenant, Rel.TENANT, start, end)
                    return Household(tenancy, prop, [mover.tenant], mover.tenant, current=False)
        years_ago = (self.today - end).days // 365
        age = rng.randint(22, 75) + years_ago
        tenant = gen.person(rng.choice("FM"), age, bank=rng.random() < 0.3)
        adults = [tenant]
        gen.member(tenancy, tenant, Rel.TENANT, start, end)
        if rng.random() < 0.2:
            partner = gen.person(rng.choice("FM"), max(20, age + rng.randint(-6, 6)))
            adults.append(partner)
            gen.member(tenancy, partner, Rel.JOINT_TENANT, start, end)
        for person in adults:
            person.scale_moved = True
            if rng.random() < 0.5:
                person.correspondence_address = "%d %s, %s ZZ99 %d%s" % (
                    rng.randint(1, 120),
                    rng.choice(("Marine Parade", "Station Road", "Church Lane", "Mill Road")),
                    rng.choice(("Northbrook", "Eastmere", "Saltcombe", "Harrowfield")),
                    rng.randint(1, 9),
                    rng.choice(("AB", "DE", "HJ", "QP")),
                )
                person.address_confirmed_on = end
        return Household(tenancy, prop, adults, tenant, current=False)

    def plan_home(self, prop: Property) -> list[Household]:
        rng, gen = self.rng, self.gen
        earliest = max(datetime.date(1986, 1, 1), datetime.date(prop.built_year or 1986, 6, 1))
        former = rng.choices((0, 1, 2, 3), (50, 37, 11, 2))[0]
        households = []
        if rng.random() < 0.04:
            # Void: the last tenancy ended lately and the home is being re-let.
            next_start = self.today - datetime.timedelta(days=rng.randint(10, 80))
            former = max(1, former)
        else:
            latest = self.today - datetime.timedelta(days=30)
            room = earliest + datetime.timedelta(days=900 * former)
            start = gen.between(min(room, latest), latest)
            gen.households = []
            household = gen.household(prop, start)
            household.tenancy.reference = "ST%07d" % gen.tenancy_serial
            household.tenant.scale_moved = False
            households.append(household)
            self.movers.append(household)
            next_start = start
        for _ in range(former):
            end = next_start - datetime.timedelta(days=rng.randint(14, 70))
            start = max(earliest, end - datetime.timedelta(days=rng.randint(700, 5000)))
            if (end - start).days < 180:
                break
            households.append(self.former_household(prop, start, end))
            next_start = start
        return households

    def contact_history(self, household: Household, patch: Patch) -> list[ContactRecord]:
        rng, gen = self.rng, self.gen
        officers = self.officers[patch.pk]
        gen.users["housing"] = officers["housing"]
        gen.users["repairs"] = officers["repairs"]
        gen.users["finance"] = self.pick_user("finance")
        gen.users["senior"] = self.pick_user("senior")
        gen.contacts = []
        tenancy = household.tenancy
        if household.current:
            target = rng.randint(*CURRENT_CONTACTS)
            first = max(tenancy.start_date, self.today - datetime.timedelta(days=6 * 365))
            last = self.today - datetime.timedelta(days=1)
        else:
            target = rng.randint(*FORMER_CONTACTS)
            first = max(tenancy.start_date, tenancy.end_date - datetime.timedelta(days=4 * 365))
            last = tenancy.end_date
        if last <= first:
            return []
        generators = (
            (gen.repair_case, 36),
            (gen.rent_case, 14),
            (gen.asb_case, 5),
            (self.templated("GENERAL_CONTACTS", Topic.GENERAL), 18),
            (self.templated("TENANCY_CONTACTS", Topic.TENANCY), 10),
            (self.templated("SUPPORT_CONTACTS", Topic.SUPPORT), 8),
            (gen.condensation_case, 5),
            (gen.complaint_case, 4),
        )
        functions = [g for g, _ in generators]
        weights = [w for _, w in generators]
        while len(gen.contacts) < target:
            day = gen.between(first, last)
            person = household.tenant if rng.random() < 0.75 else rng.choice(household.adults)
            rng.choices(functions, weights)[0](household, person, day)
        contacts = gen.contacts
        if not household.current:
            contacts = [c for c in contacts if c.occurred_at.date() <= last]
        now = timezone.now()
        for record in contacts:
            record.recorded_at = min(
                now, record.occurred_at + datetime.timedelta(minutes=rng.randint(2, 300))
            )
        return contacts

    def templated(self, name, topic):
        from records.management.commands import seed_demo

        choices = getattr(seed_demo, name)
        by = "housing"
        return lambda h, p, d: self.gen.templated(h, p, d, choices, topic, by)

    def pick_user(self, prefix):
        return self.rng.choice(self.context.users[prefix])

    def documents_for(self, household: Household, contacts: list[ContactRecord]) -> list:
        """Letters, reports and photos on some of the household's contacts, as files."""
        rng = self.rng
        if not contacts:
            return []
        count = rng.randint(1, 6) if household.current else rng.randint(0, 2)
        documents = []
        address = household.property.address
        for record in rng.sample(contacts, min(count, len(contacts))):
            person = record.person
            officer = record.recorded_by
            if record.topic in (Topic.REPAIR, Topic.DAMP_MOULD) and rng.random() < 0.6:
                if rng.random() < 0.6:
                    data, kind, filename, title = (
                        self.images.pick(rng),
                        Document.Kind.PHOTO,
                        "photo-%d.png" % rng.randint(1000, 9999),
                        "Photo: %s" % record.subject,
                    )
                else:
                    data, kind, filename, title = (
                        report_text(person, address, record),
                        Document.Kind.REPORT,
                        "inspection-report.txt",
                        "Report: %s" % record.subject,
                    )
            else:
                data, kind, filename, title = (
                    letter_text(person, address, record, officer),
                    Document.Kind.CORRESPONDENCE,
                    "letter-%s.txt" % (record.case_reference or "tenancy").lower(),
                    "Letter: %s" % record.subject,
                )
            name = storage_name(rng)
            self.context.store_file(name, data)
            documents.append(
                Document(
                    person=person,
                    contact_record=record,
                    kind=kind,
                    title=title[:200],
                    original_filename=filename,
                    content_type="image/png" if kind == Document.Kind.PHOTO else "text/plain",
                    size=len(data),
                    storage_name=name,
                    uploaded_by=officer,
                    uploaded_at=record.recorded_at,
                )
            )
        return documents

    def markers_for(self, household: Household, patch: Patch) -> tuple[list, list]:
        rng = self.rng
        officer = self.officers[patch.pk]["housing"]
        markers, sensitive = [], []
        for person in household.adults:
            roll = rng.random()
            if roll < 0.004:
                kind, details = (
                    Marker.Kind.SAFE_ADDRESS,
                    "Fled domestic abuse. Never give this address, phone or email to anyone "
                    "asking for the former partner; check caller ID every time.",
                )
            elif roll < 0.015:
                kind, details = Marker.Kind.NO_VOICEMAIL, "Asked us never to leave voicemails."
            elif roll < 0.025:
                kind, details = Marker.Kind.VULNERABLE, rng.choice(VULNERABLE_NOTES)
            elif roll < 0.035:
                kind, details = (
                    Marker.Kind.INTERPRETER,
                    "%s interpreter needed; use the telephone interpreting service."
                    % rng.choice(INTERPRETER_LANGUAGES),
                )
            else:
                kind = None
            if kind:
                markers.append(
                    Marker(
                        person=person,
                        kind=kind,
                        details=details,
                        starts_on=self.gen.days_ago(30, 1500),
                        created_by=officer,
                    )
                )
            if rng.random() < 0.02:
                kind, details, source = rng.choice(HEALTH_NOTES)
                sensitive.append(
                    SensitiveInformation(
                        person=person,
                        kind=kind,
                        details=details,
                        source=source,
                        condition=SensitiveInformation.Condition.SOCIAL_CARE,
                        recorded_on=self.gen.days_ago(30, 1500),
                        recorded_by=officer,
                    )
                )
        return markers, sensitive

    def create_homes(self) -> None:
        homes = self.context.homes
        # Homes, tenancies, people, members, contacts, documents and the rest, per home.
        expected = round(homes * 52.7)
        with self.progress.stage("homes, households and history", expected):
            for chunk_start in range(0, homes, CHUNK_HOMES):
                self.write_chunk(range(chunk_start, min(homes, chunk_start + CHUNK_HOMES)))

    def write_chunk(self, homes: range) -> None:
        gen, progress = self.gen, self.progress
        properties = []
        for home in homes:
            patch, index = self.patch_for_home(home)
            properties.append(self.property_for(home, patch, index))
        Property.objects.bulk_create(properties, batch_size=2000)
        progress.add("properties", len(properties))

        households: list[Household] = []
        gen.people, gen.members = [], []
        self.movers = []
        for prop in properties:
            households.extend(self.plan_home(prop))
        applications, assigned = self.plan_applications(properties, households)
        self.flush_people()
        Tenancy.objects.bulk_create([h.tenancy for h in households], batch_size=2000)
        progress.add("tenancies", len(households))
        HouseholdMember.objects.bulk_create(gen.members, batch_size=2000)
        progress.add("household members", len(gen.members))
        gen.members = []
        HousingApplication.objects.bulk_create(applications, batch_size=2000)
        progress.add("housing applications", len(applications))
        PersonUserObjectPermission.objects.bulk_create(assigned, batch_size=2000)
        progress.add("case assignments", len(assigned))

        markers, sensitive = [], []
        contacts, documents = [], []
        for household in households:
            patch = household.property.patch
            history = self.contact_history(household, patch)
            contacts.extend(history)
            household.history = history
            more_markers, more_sensitive = self.markers_for(household, patch)
            markers.extend(more_markers)
            sensitive.extend(more_sensitive)
            if len(contacts) >= 10000:
                self.flush_contacts(contacts)
                contacts = []
        self.flush_contacts(contacts)
        Marker.objects.bulk_create(markers, batch_size=2000)
        progress.add("markers", len(markers))
        SensitiveInformation.objects.bulk_create(sensitive, batch_size=2000)
        progress.add("sensitive information", len(sensitive))
        for household in households:
            documents.extend(self.documents_for(household, household.history))
            household.history = None
            if len(documents) >= 5000:
                self.flush_documents(documents)
                documents = []
        self.flush_documents(documents)

    def flush_people(self) -> None:
        Person.objects.bulk_create(self.gen.people, batch_size=2000)
        self.progress.add("people", len(self.gen.people))
        self.gen.people = []

    def flush_contacts(self, contacts) -> None:
        with given_timestamps(ContactRecord, "recorded_at"):
            ContactRecord.objects.bulk_create(contacts, batch_size=2000)
        self.progress.add("contact records", len(contacts))

    def flush_documents(self, documents) -> None:
        with given_timestamps(Document, "uploaded_at"):
            Document.objects.bulk_create(documents, batch_size=2000)
        self.progress.add("documents", len(documents))

    def plan_applications(self, properties, households):
        """Applications for homes (new people, assigned to the patch's housing officer),
        transfers from current tenants, and people outside any tenancy whose case a housing
        officer is assigned to (anti-social behaviour)."""
        rng, gen = self.rng, self.gen
        applications, assigned = [], []
        permission = self.view_person_permission()
        for prop in properties:
            officer = self.officers[prop.patch_id]["housing"]
            roll = rng.random()
            if roll < 0.02:
                applicant = gen.person(rng.choice("FM"), rng.randint(19, 70))
                applications.append(
                    HousingApplication(
                        reference="SHA%06d" % self.next("application"),
                        person=applicant,
                        kind=HousingApplication.Kind.HOUSING,
                        received_on=gen.days_ago(5, 900),
                        status=rng.choice(HousingApplication.Status.values[:4]),
                        bedrooms_needed=rng.choice((1, 1, 2, 2, 3, 4)),
                        assigned_officer=officer if rng.random() < 0.7 else None,
                        circumstances=rng.choice(APPLICATION_CIRCUMSTANCES),
                    )
                )
            elif roll < 0.03:
                current = [h for h in households if h.current and h.property is prop]
                if current:
                    applications.append(
                        HousingApplication(
                            reference="SHA%06d" % self.next("application"),
                            person=current[0].tenant,
                            kind=HousingApplication.Kind.TRANSFER,
                            received_on=gen.days_ago(20, 700),
                            status=rng.choice(
                                (
                                    HousingApplication.Status.ACTIVE,
                                    HousingApplication.Status.ASSESSING,
                                )
                            ),
                            bedrooms_needed=rng.choice((1, 2, 3)),
                            assigned_officer=officer,
                            circumstances=rng.choice(TRANSFER_CIRCUMSTANCES),
                        )
                    )
            elif roll < 0.034:
                other = gen.person(rng.choice("FM"), rng.randint(18, 50))
                assigned.append(
                    PersonUserObjectPermission(
                        user=officer, permission=permission, content_object=other
                    )
                )
        return applications, assigned

    def view_person_permission(self):
        if not hasattr(self, "_view_person"):
            self._view_person = Permission.objects.get(
                content_type=ContentType.objects.get_for_model(Person), codename="view_person"
            )
        return self._view_person

    def create_contractors(self) -> None:
        existing = set(Contractor.objects.values_list("name", flat=True))
        with self.progress.stage("contractors"):
            for index, (name, trade, phone, notes, months) in enumerate(CONTRACTORS):
                if name in existing:
                    continue
                contractor = Contractor.objects.create(
                    name=name,
                    trade=trade,
                    office_phone=phone,
                    performance_notes=notes,
                    insurance_expires_on=self.today + datetime.timedelta(days=30 * months),
                )
                domain = "%s.example.com" % name.split()[0].lower()
                self.gen.people = []
                people = [
                    self.gen.person(self.rng.choice("FM"), 40, email_domain=domain, with_dob=False)
                    for _ in CONTRACTOR_CONTACT_ROLES[: 1 + index % 3]
                ]
                self.flush_people()
                ContractorContact.objects.bulk_create(
                    ContractorContact(contractor=contractor, person=person, role_title=role)
                    for person, role in zip(people, CONTRACTOR_CONTACT_ROLES, strict=False)
                )
                self.progress.add("contractors", 1)

    def build(self) -> None:
        self.create_accounts()
        self.create_patches()
        self.create_contractors()
        self.create_homes()


# --- audit history -----------------------------------------------------------------------------


def audit_history(*, context: ScaleContext):
    """A year of staff opening the people in their patches and their documents, day by day in
    time order (ACCESS entries as tmo.audit.record_access writes them)."""
    rng = context.rng("records-audit")
    person_ct = ContentType.objects.get_for_model(Person).pk
    document_ct = ContentType.objects.get_for_model(Document).pk
    by_patch: dict[int, list[Resident]] = defaultdict(list)
    for resident in context.residents():
        if resident.current:
            by_patch[resident.patch_id].append(resident)
    officers = patch_officers()
    users = {u.pk: u for prefix in ("housing", "repairs") for u in context.role_users(prefix)}
    finance = context.role_users("finance")
    # Officer -> the residents of every patch they look after.
    caseload: dict[int, list[Resident]] = defaultdict(list)
    for patch_id, roles in officers.items():
        for user_id in roles.values():
            caseload[user_id].extend(by_patch.get(patch_id, []))
    documents = defaultdict(list)
    for doc_id, title, person_id in Document.objects.values_list("id", "title", "person_id"):
        documents[person_id].append((doc_id, title))
    readers = [(users[pk], people) for pk, people in caseload.items() if people and pk in users]
    everyone = [r for people in by_patch.values() for r in people]
    if not readers or not everyone:
        return
    total = ACCESS_READS_PER_HOME * context.homes
    days = [context.today - datetime.timedelta(days=n) for n in range(365, 0, -1)]
    days = [d for d in days if d.weekday() < 5]
    per_day = max(1, total // len(days))
    for day in days:
        entries = []
        for _ in range(per_day):
            if finance and rng.random() < 0.15:
                user, resident = rng.choice(finance), rng.choice(everyone)
            else:
                user, people = rng.choice(readers)
                resident = rng.choice(people)
            when = office_time(rng, day)
            entries.append(
                access_entry(
                    content_type_id=person_ct,
                    obj_id=resident.person_id,
                    name=resident.name,
                    user=user,
                    when=when,
                    rng=rng,
                )
            )
            papers = documents.get(resident.person_id)
            if papers and rng.random() < 0.2:
                doc_id, title = rng.choice(papers)
                entries.append(
                    access_entry(
                        content_type_id=document_ct,
                        obj_id=doc_id,
                        name=title,
                        user=user,
                        when=when + datetime.timedelta(seconds=rng.randint(5, 90)),
                        rng=rng,
                    )
                )
        entries.sort(key=lambda e: e.timestamp)
        yield from entries


def write_audit_history(context: ScaleContext, modules) -> int:
    """Every app's history merged into time order and appended to the one audit chain."""
    import heapq

    streams = [audit_history(context=context)]
    for module in modules:
        history = getattr(module, "audit_history", None)
        if history is not None:
            streams.append(history(context=context))
    merged = heapq.merge(*streams, key=lambda entry: entry.timestamp)
    with context.progress.stage("audit history", ACCESS_READS_PER_HOME * context.homes * 13 // 10):
        return auditbulk.append_entries(
            merged,
            batch_size=5000,
            on_batch=lambda n: context.progress.add("audit entries", n),
        )


# --- entry points ------------------------------------------------------------------------------


def seed_scale(*, homes: int, seed: int, write, interval: float = 5.0) -> ScaleContext:
    """Write the whole organisation in one transaction; on failure nothing stays, files included."""
    progress = Progress(write, interval)
    context = ScaleContext(homes=homes, seed=seed, progress=progress, log=write)
    modules = scale_modules()
    try:
        with transaction.atomic():
            RecordsScale(context).build()
            for module in modules:
                module.seed_scale(context=context)
            write_audit_history(context, modules)
    except BaseException:
        context.remove_written_files()
        raise
    # Planner statistics for the million new rows now: autovacuum gathers them minutes later, and
    # until then PostgreSQL plans on the figures of near-empty tables.
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    write("planner statistics gathered in %.1f s" % (time.monotonic() - started))
    return context


def make_heavy_subject(factor: int = 1, *, seed: int | None = None, write=None) -> Person:
    """A tenant with 2,000 x factor contact records, 100 x factor documents and (through the
    disclosures app's scale module) 20 x factor disclosure requests, plus (through sar's) an
    open access request ready for a bundle. Needs a database seeded by seed_scale (its accounts).
    Returns the person; a new one on every call."""
    write = write or (lambda message: None)
    users = users_by_prefix()
    if not users.get("housing"):
        raise ValueError("No seed_scale accounts here (housing01...): run seed_scale first.")
    serial = Person.objects.filter(first_name="Heavy").count() + 1
    # Each heavy subject has its own random streams, so its file names never repeat another's.
    seed = (2026 if seed is None else seed) * 1_000_000 + factor * 1000 + serial
    context = ScaleContext(homes=REFERENCE_HOMES, seed=seed, progress=Progress(write), log=write)
    context.users = users
    try:
        with transaction.atomic():
            person = _heavy_records(context, factor, serial)
            person.scale_details = {
                "contacts": 2000 * factor,
                "documents": 100 * factor,
            }
            for module in scale_modules():
                hook = getattr(module, "heavy_subject", None)
                if hook is not None:
                    person.scale_details.update(
                        hook(context=context, person=person, factor=factor) or {}
                    )
    except BaseException:
        context.remove_written_files()
        raise
    return person


def _heavy_records(context: ScaleContext, factor: int, serial: int) -> Person:
    builder = RecordsScale(context)
    builder.gen.users = {
        "housing": context.users["housing"][0],
        "repairs": context.users["repairs"][0],
        "finance": context.users["finance"][0],
        "senior": context.users["senior"][0],
    }
    officer = context.users["housing"][0]
    patch = Patch.objects.filter(officers=officer).order_by("pk").first()
    builder.officers = {patch.pk: {"housing": officer, "repairs": context.users["repairs"][0]}}
    prop = Property.objects.create(
        reference="SCH%02dX%03d" % (factor % 100, serial),
        address_line_1="Flat %d Heavy House" % serial,
        address_line_2="Ledger Road",
        town="London",
        postcode="SE99 9HH",
        patch=patch,
        property_type=Property.PropertyType.FLAT,
        bedrooms=2,
        built_year=1972,
    )
    start = context.today - datetime.timedelta(days=365 * 12)
    tenancy = builder.new_tenancy(prop, start)
    tenancy.reference = "SHT%02dX%04d" % (factor % 100, serial)
    tenancy.save()
    person = builder.gen.person(
        "F", 52, first_name="Heavy", last_name="Subject%d" % serial, bank=True
    )
    person.preferred_contact_method = ContactMethod.EMAIL
    builder.flush_people()
    HouseholdMember.objects.create(
        tenancy=tenancy, person=person, relationship=Rel.TENANT, start_date=start
    )
    household = Household(tenancy, prop, [person], person, current=True)
    wanted, documents_wanted = 2000 * factor, 100 * factor
    contacts = []
    with context.progress.stage("heavy subject x%d" % factor, wanted + documents_wanted):
        gen = builder.gen
        functions = (gen.repair_case, gen.rent_case, gen.condensation_case, gen.complaint_case)
        gen.contacts = []
        while len(gen.contacts) < wanted:
            day = gen.between(start, context.today - datetime.timedelta(days=1))
            builder.rng.choice(functions)(household, person, day)
        contacts = gen.contacts[:wanted]
        now = timezone.now()
        for record in contacts:
            record.recorded_at = min(now, record.occurred_at + datetime.timedelta(minutes=30))
        for index in range(0, len(contacts), 10000):
            builder.flush_contacts(contacts[index : index + 10000])
        documents = []
        for record in builder.rng.sample(contacts, min(documents_wanted, len(contacts))):
            data = letter_text(person, prop.address, record, officer)
            name = storage_name(builder.rng)
            context.store_file(name, data)
            documents.append(
                Document(
                    person=person,
                    contact_record=record,
                    kind=Document.Kind.CORRESPONDENCE,
                    title=("Letter: %s" % record.subject)[:200],
                    original_filename="letter.txt",
                    content_type="text/plain",
                    size=len(data),
                    storage_name=name,
                    uploaded_by=officer,
                    uploaded_at=record.recorded_at,
                )
            )
        builder.flush_documents(documents)
    return person
