"""`manage.py seed_demo`: a believable Tenant Management Organisation to demonstrate and explore.

Everything is invented. Names come from short UK-ish lists, addresses lie in a fictional borough with
postcodes in districts that do not exist (SE99), phone numbers are Ofcom's drama ranges (07700 900xxx,
020 7946 0xxx), emails use the reserved example.org / example.com / .example domains and National
Insurance numbers the 'QQ' prefix, which is never issued. A fixed random seed makes the data the same
on every run (dates are relative to today, so "over a year ago" stays true).

Only plain `random` is used, so the command needs none of the development-only packages.
"""

import datetime
import itertools
import random
import struct
import time
import zlib
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from access.roles import Role
from records import services
from records.models import (
    AuthorisedRepresentative,
    ContactMethod,
    ContactRecord,
    Contractor,
    ContractorBid,
    ContractorContact,
    Document,
    EqualityMonitoring,
    HouseholdMember,
    HousingApplication,
    JobApplication,
    Marker,
    Patch,
    Person,
    Property,
    SensitiveInformation,
    StaffRecord,
    Tenancy,
)
from tmo import filestore

# Published in the help text and README on purpose: these accounts exist only where DEMO_MODE is on.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
MIN_HOMES = 12

Rel = HouseholdMember.Relationship
Channel = ContactRecord.Channel
Direction = ContactRecord.Direction
Topic = ContactRecord.Topic

# username, role, first name, last name, job title, department. The committee member and the tenant
# are named after residents once the households exist, so they carry no staff record.
ACCOUNTS = (
    ("housing", Role.HOUSING_OFFICER, "Amara", "Okafor", "Housing officer", "Housing"),
    (
        "repairs",
        Role.REPAIRS_OFFICER,
        "Gareth",
        "Pritchard",
        "Repairs officer",
        "Property services",
    ),
    ("finance", Role.FINANCE_OFFICER, "Priya", "Raman", "Income officer", "Finance"),
    ("hr", Role.HR_OFFICER, "Siobhan", "Keane", "HR adviser", "Corporate services"),
    (
        "contracts",
        Role.CONTRACTS_OFFICER,
        "Tomasz",
        "Nowak",
        "Contracts officer",
        "Property services",
    ),
    ("senior", Role.SENIOR_OFFICER, "Margaret", "Adeyemi", "Estate manager", "Housing"),
    (
        "dpo",
        Role.DATA_PROTECTION_LEAD,
        "David",
        "Chen",
        "Data protection lead",
        "Corporate services",
    ),
    ("committee", Role.COMMITTEE_MEMBER, "", "", "", ""),
    ("tenant", Role.TENANT, "", "", "", ""),
    (
        "admin",
        Role.SYSTEM_ADMINISTRATOR,
        "Kwame",
        "Mensah",
        "Systems administrator",
        "Corporate services",
    ),
)
EXTRA_STAFF = (
    ("Dean", "Fletcher", "M", "Caretaker", "Estate services", "27450.00", None),
    (
        "Chantelle",
        "Morgan",
        "F",
        "Customer services adviser",
        "Customer services",
        "26100.00",
        None,
    ),
    ("Imran", "Siddiqui", "M", "Income officer", "Finance", "30900.00", None),
    ("Bridget", "Doyle", "F", "Resident involvement officer", "Housing", "31800.00", None),
    ("Paul", "Hendry", "M", "Repairs surveyor", "Property services", "36200.00", 400),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE = _words(
    "Amelia Olivia Isla Grace Sophie Emily Jessica Chloe Hannah Charlotte Lucy Megan Aisha Fatima "
    "Zainab Amina Priya Anjali Nia Precious Blessing Funmilayo Mei Ewa Agnieszka Maria Ana Siobhan "
    "Niamh Margaret Patricia Linda Carol Susan Janet Deborah Tracey Kerry Donna Gemma Stacey Jade "
    "Shanice Yasmin Leyla Sadia Rukhsana Joy Abena Claire Rachel Nicola Sarah Danielle Kelly Ruth"
)
MALE = _words(
    "Oliver Jack Harry George Noah Charlie Jacob Thomas James William Daniel Ryan Liam Connor "
    "Kieran Wayne Darren Lee Gary Mark Stephen Peter Michael Kevin Mohammed Ahmed Ibrahim Yusuf Omar "
    "Tariq Rajesh Arjun Kofi Tunde Chidi Emeka Delroy Winston Piotr Marek Andrei Luca Mateus Sean "
    "Declan Callum Jamal Ravi Samuel Joseph Anthony Craig Neil Adrian Desmond Leon Nathan Aaron Jordan"
)
SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
    "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner "
    "Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott "
    "Phillips Watson Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson "
    "Bailey Collins Bell Shaw Murphy Miller Cox Khan Ali Hussain Ahmed Rahman Chowdhury Shah Sharma "
    "Okonkwo Adebayo Boateng Owusu Campbell Francis Gordon Popescu Silva Santos O'Brien O'Connor "
    "Murray Byrne Quinn McCarthy Nguyen Tran Wong Yilmaz Demir Mohamed Abdi Osman Warsame Haile "
    "Kowal Novak Reid Grant Stewart Fraser"
)

# name, code, share of homes, officers (usernames)
PATCHES = (
    ("Weaver Estate", "WE", 0.35, ("housing", "repairs")),
    ("Canal Side", "CS", 0.20, ("housing",)),
    ("Bellfield Towers", "BT", 0.30, ("repairs",)),
    ("Orchard Gardens", "OG", 0.15, ()),
)
WEAVER_BLOCKS = (
    ("Tanner House", "Weaver Road", "SE99 4TH", 1968),
    ("Fuller House", "Weaver Road", "SE99 4TJ", 1968),
    ("Dyer House", "Loom Street", "SE99 4UA", 1970),
    ("Spinner House", "Loom Street", "SE99 4UB", 1970),
    ("Carder House", "Shuttle Walk", "SE99 4UD", 1972),
)
CANAL_STREETS = (
    ("Lock Street", "SE99 2LS", 1889),
    ("Wharf Terrace", "SE99 2WT", 1894),
    ("Barge Road", "SE99 2BR", 1898),
    ("Towpath Row", "SE99 2TR", 1903),
)
BELLFIELD_TOWERS = (
    ("Bellfield Tower North", "SE99 7BN", 1966),
    ("Bellfield Tower South", "SE99 7BS", 1967),
)
ORCHARD_STREETS = (
    ("Quince Close", "SE99 9QC", 1994),
    ("Medlar Way", "SE99 9MW", 1995),
    ("Damson Court", "SE99 9DA", 1997),
)
ASBESTOS_NOTES = (
    "Asbestos survey 2019: textured coating (Artex) to living room and hall ceilings contains "
    "chrysotile. Low risk if undisturbed; no drilling or sanding without controls.",
    "Asbestos survey 2018: vinyl floor tiles in kitchen contain asbestos; encapsulated under new "
    "flooring 2020. Do not lift.",
    "Asbestos insulating board to the boxing around the riser in the hall. Encapsulated 2017; "
    "re-inspect annually. Licensed contractor only.",
    "Asbestos cement panel behind the bath; labelled. Notify contractors before any bathroom work.",
    "Management survey 2022: no asbestos-containing materials found in accessible areas. Refurbishment "
    "survey needed before intrusive works.",
)
ACCESS_NOTES = (
    "Dog in the property: please ring ahead so it can be shut away.",
    "Tenant works nights: appointments after 1pm only.",
    "Entry phone is unreliable: call the tenant's mobile on arrival.",
    "Tenant has limited mobility: allow time to answer the door.",
    "Two cats: keep the front door closed.",
    "Parking: visitor bays at the rear of the block only.",
    "Morning appointments preferred (school run 3pm).",
)
HEALTH_NOTES = (
    (
        SensitiveInformation.Kind.DISABILITY,
        "Wheelchair user; needs level access and a ground-floor "
        "or lift-served home. Adaptations: ramp and level-access shower.",
        "Occupational therapy report",
    ),
    (
        SensitiveInformation.Kind.HEALTH,
        "COPD; uses home oxygen. Heating and power failures are an emergency for this household.",
        "Tenant, at tenancy audit",
    ),
    (
        SensitiveInformation.Kind.HEALTH,
        "Type 1 diabetes; insulin kept in the fridge, so a fridge-freezer power fault is urgent.",
        "Tenant, by phone",
    ),
    (
        SensitiveInformation.Kind.DISABILITY,
        "Profoundly deaf; British Sign Language user. Book a BSL "
        "interpreter for visits; contact by email or text, not by phone.",
        "Tenancy sign-up form",
    ),
    (
        SensitiveInformation.Kind.HEALTH,
        "Long-term mental health condition; supported by the community "
        "mental health team. Letters should be plain and followed up by a call.",
        "Support worker",
    ),
    (
        SensitiveInformation.Kind.DISABILITY,
        "Partially sighted; large-print letters (18pt) please.",
        "Tenant, at sign-up",
    ),
)
INTERPRETER_LANGUAGES = ("Bengali (Sylheti)", "Somali", "Polish", "Turkish", "Tigrinya", "Romanian")
# Roughly an inner London borough's mix, in the order of EqualityMonitoring's choices.
EQUALITY_ETHNICITY_WEIGHTS = (4, 3, 8, 1, 2, 12, 7, 2, 2, 1, 1, 1, 30, 2, 0.5, 0.5, 10, 2, 2, 6)
EQUALITY_LANGUAGE_WEIGHTS = (70, 0.5, 2, 5, 1, 1, 4, 2, 2, 4, 2, 3, 1, 3, 3)
VULNERABLE_NOTES = (
    "Recently bereaved and living alone; memory difficulties. Explain things slowly and confirm in "
    "writing; a daughter helps with post.",
    "Care leaver, first tenancy. Tenancy sustainment support in place; check in monthly.",
    "Hoarding: fire risk assessed; agreed plan with the fire service and support worker.",
    "Frail, in her nineties; falls risk. Key safe fitted by the council's telecare service.",
)
REPAIRS = (
    # what, where, how it was fixed, priority, trade
    ("a leaking tap", "kitchen", "replaced the tap cartridge and washers", "routine", "plumbing"),
    ("no hot water", "flat", "replaced the diverter valve on the boiler", "urgent", "plumbing"),
    ("a broken extractor fan", "bathroom", "fitted a new extractor fan", "routine", "electrical"),
    ("a blocked sink", "kitchen", "cleared the waste pipe and trap", "urgent", "plumbing"),
    (
        "a cracked window pane",
        "living room",
        "replaced the sealed glazing unit",
        "routine",
        "building",
    ),
    (
        "a faulty light switch",
        "hall",
        "replaced the switch and tested the circuit",
        "urgent",
        "electrical",
    ),
    (
        "a cold radiator",
        "main bedroom",
        "bled the system and replaced the valve",
        "routine",
        "plumbing",
    ),
    (
        "a loose stair handrail",
        "stairs",
        "refixed the handrail with new brackets",
        "routine",
        "building",
    ),
    (
        "a toilet that keeps running",
        "bathroom",
        "replaced the cistern fill valve",
        "routine",
        "plumbing",
    ),
    (
        "a front door that will not lock",
        "front door",
        "replaced the lock cylinder",
        "emergency",
        "building",
    ),
    (
        "water coming through the ceiling",
        "bathroom",
        "traced the leak to the flat above and resealed the bath",
        "emergency",
        "plumbing",
    ),
    (
        "a broken kitchen cupboard door",
        "kitchen",
        "rehung the door on new hinges",
        "routine",
        "building",
    ),
    ("no heating", "flat", "replaced the boiler pump", "urgent", "plumbing"),
    (
        "sockets that trip the electrics",
        "kitchen",
        "found a faulty socket and replaced it",
        "urgent",
        "electrical",
    ),
)
GENERAL_CONTACTS = (
    (
        Channel.PHONE,
        Direction.INBOUND,
        "Change of phone number",
        "Gave a new mobile number; record updated and confirmed with them.",
    ),
    (
        Channel.ONLINE,
        Direction.INBOUND,
        "Bulky waste collection",
        "Asked for a sofa and a fridge to be collected. Booked with the council's bulky waste service.",
    ),
    (
        Channel.PHONE,
        Direction.INBOUND,
        "Parking permit enquiry",
        "Asked how to get a visitor parking permit. Explained the scheme and emailed the form.",
    ),
    (
        Channel.EMAIL,
        Direction.INBOUND,
        "Request for a rent statement",
        "Needs a rent statement for a benefits claim. Statement for the last 12 months emailed.",
    ),
    (
        Channel.FACE_TO_FACE,
        Direction.INBOUND,
        "Enquiry about the garden fence",
        "Asked who is responsible for the broken fence between the gardens. Explained that it is ours; "
        "passed to repairs.",
    ),
    (
        Channel.LETTER,
        Direction.OUTBOUND,
        "Annual rent change letter",
        "Standard letter giving four weeks' notice of the new weekly rent from April.",
    ),
    (
        Channel.PHONE,
        Direction.INBOUND,
        "Communal lights out on the landing",
        "Reported that the landing lights have been out for two nights. Passed to the caretaker.",
    ),
)
TENANCY_CONTACTS = (
    (
        Channel.VISIT,
        Direction.OUTBOUND,
        "Tenancy audit visit",
        "Checked photo ID of the adults in the household; household as recorded; home in good "
        "condition. Reminded about the gas safety check.",
    ),
    (
        Channel.EMAIL,
        Direction.INBOUND,
        "Request to add partner to the household",
        "Partner moved in last month. Sent the household change form and asked for ID.",
    ),
    (
        Channel.PHONE,
        Direction.INBOUND,
        "Mutual exchange enquiry",
        "Would like to swap to a bigger home. Explained HomeSwapper and the permission process.",
    ),
    (
        Channel.LETTER,
        Direction.INBOUND,
        "Permission to keep a dog",
        "Asked for permission to keep a small dog. Permission given with the usual conditions.",
    ),
    (
        Channel.PHONE,
        Direction.OUTBOUND,
        "Gas safety check: no access",
        "Third attempt to gain access for the annual gas safety check. Agreed a Saturday appointment.",
    ),
)
SUPPORT_CONTACTS = (
    (
        Channel.PHONE,
        Direction.OUTBOUND,
        "Welfare check",
        "Called to check in after a neighbour said they had not been seen. All well; feeling unwell "
        "last week but recovering.",
    ),
    (
        Channel.FACE_TO_FACE,
        Direction.INBOUND,
        "Referral to money advice",
        "Struggling with energy bills. Referred to the Citizens Advice money adviser with consent.",
    ),
    (
        Channel.VISIT,
        Direction.OUTBOUND,
        "Adaptations assessment request",
        "Finding the bath hard to use. Referred to the council's occupational therapy team for an "
        "assessment for a level-access shower.",
    ),
    (
        Channel.PHONE,
        Direction.INBOUND,
        "Food bank voucher",
        "Asked for help with food this week. Issued a food bank voucher and booked a benefits check.",
    ),
)
ASB_REPORTS = (
    "loud music late at night from a neighbouring flat",
    "people gathering and smoking cannabis on the stairwell",
    "a neighbour's dog barking for hours when left alone",
    "rubbish dumped outside the bin store",
)
APPLICATION_CIRCUMSTANCES = (
    "Overcrowded: family of five in a one-bedroom private flat; the children share the living room.",
    "Private rented tenancy ending: section 21 notice served, expires next month. Two children at "
    "local schools.",
    "Living with parents since the relationship ended; sleeping on the sofa with a toddler.",
    "Medical priority: wheelchair user in a second-floor flat with no lift.",
    "Left the armed forces in March; staying with a friend short term.",
    "Disrepair in private rented flat: serious damp; environmental health involved.",
    "Care leaver, moving on from supported housing; support worker will help with the tenancy.",
)
TRANSFER_CIRCUMSTANCES = (
    "Under-occupying a three-bedroom house since the children left; wants to downsize to a "
    "one-bedroom flat nearer her daughter.",
    "Overcrowded: two adults and three children in a two-bedroom flat.",
    "Cannot manage the stairs after a stroke; needs a ground-floor or lift-served home.",
)
MEMBERSHIP_CIRCUMSTANCES = (
    "Wants to join the TMO and would consider standing for the committee next year.",
    "Joining to vote at the annual general meeting on the repairs contract.",
    "Interested in the estate improvement working group.",
)
STAFF_NOTES = (
    "Probation passed. Data protection training completed and refreshed this year.",
    "Flexible working agreed: compressed hours, Fridays off.",
    "Return-to-work meeting after five days' sickness absence; no further action.",
    "Completed the Level 4 Certificate in Housing; pay progression approved.",
    "Annual appraisal: meets expectations; wants to lead the damp and mould project.",
)
CONTRACTORS = (
    # name, trade, office phone, performance notes, insurance months left
    (
        "Thameside Plumbing & Heating Ltd",
        "Plumbing and heating",
        "020 7946 0101",
        "Good first-time fix rate (87%). Two missed appointments in the spring; improved after review "
        "meeting.",
        9,
    ),
    (
        "Brightwire Electrical Services Ltd",
        "Electrical",
        "020 7946 0102",
        "Electrical testing programme on time. One complaint about mess left after a rewire, resolved.",
        14,
    ),
    (
        "DryHome Damp Solutions Ltd",
        "Damp and mould",
        "020 7946 0103",
        "Treats symptoms well, but surveys have missed underlying causes twice this year. Now required "
        "to include a cause diagnosis in every report.",
        5,
    ),
    (
        "Capital Roofing & Guttering Ltd",
        "Roofing",
        "020 7946 0104",
        "Reliable; thorough photographic reports. Slow to quote for larger jobs.",
        11,
    ),
    (
        "Keystone Building Maintenance Ltd",
        "General building",
        "020 7946 0105",
        "Responsive repairs contractor. Satisfaction 91%. Invoice errors in two months; credit notes "
        "issued.",
        -1,
    ),
    (
        "ClearAir Ventilation Ltd",
        "Ventilation",
        "020 7946 0106",
        "New supplier on trial: positive resident feedback on quiet extractor fans.",
        20,
    ),
)
CONTRACTOR_CONTACT_ROLES = (
    "Contracts manager",
    "Site supervisor",
    "Operations director",
    "Scheduling coordinator",
)
BIDS = (
    # contract, contractors (index) with price, status and evaluation notes
    (
        "Gas servicing and boiler repairs 2027-2030",
        (
            (
                0,
                "412800.00",
                ContractorBid.Status.ACCEPTED,
                "Best quality score (72/80) and second-cheapest. Strong gas safety record.",
            ),
            (
                4,
                "398500.00",
                ContractorBid.Status.REJECTED,
                "Cheapest, but method statement weak on landlord gas safety record management.",
            ),
        ),
    ),
    (
        "Electrical testing (EICR) programme 2027",
        (
            (1, "86400.00", ContractorBid.Status.ACCEPTED, "Only compliant bid within budget."),
            (4, "104900.00", ContractorBid.Status.REJECTED, "Over budget by 21%."),
        ),
    ),
    (
        "Damp and mould remediation framework 2027",
        (
            (
                2,
                "155000.00",
                ContractorBid.Status.SUBMITTED,
                "Price competitive. Ask for evidence of root-cause diagnosis before award.",
            ),
            (
                5,
                "171250.00",
                ContractorBid.Status.SUBMITTED,
                "Good on ventilation, needs a partner for insulation and cold-bridge works.",
            ),
            (4, "163400.00", ContractorBid.Status.SUBMITTED, "Generalist; limited damp expertise."),
        ),
    ),
    (
        "Roof renewals: Weaver Estate blocks",
        (
            (
                3,
                "238900.00",
                ContractorBid.Status.ACCEPTED,
                "Includes parapet flashing renewal across all five blocks; 10-year guarantee.",
            ),
        ),
    ),
    (
        "Responsive repairs 2027-2029",
        (
            (
                4,
                "1240000.00",
                ContractorBid.Status.SUBMITTED,
                "Incumbent; schedule of rates 3% below current. Evaluation panel meets next month.",
            ),
        ),
    ),
)
JOB_APPLICANTS = (
    (
        "Lauren",
        "Abbott",
        "F",
        "Repairs officer",
        JobApplication.Status.SHORTLISTED,
        "Six years as a repairs administrator; clear answers on damp and mould triage.",
    ),
    (
        "Marcus",
        "Ellison",
        "M",
        "Repairs officer",
        JobApplication.Status.UNSUCCESSFUL,
        "Did not meet the essential criterion on customer service experience.",
    ),
    (
        "Hafsa",
        "Nur",
        "F",
        "Resident involvement officer",
        JobApplication.Status.INTERVIEWED,
        "Strong presentation on engaging younger residents; references awaited.",
    ),
    (
        "Grzegorz",
        "Mazur",
        "M",
        "Caretaker",
        JobApplication.Status.APPOINTED,
        "Appointed subject to DBS check and references.",
    ),
    ("Bethany", "Lowe", "F", "Customer services adviser", JobApplication.Status.RECEIVED, ""),
)


@dataclass
class Household:
    tenancy: Tenancy
    property: Property
    adults: list
    tenant: Person
    current: bool
    special: bool = False


def _png(rng: random.Random, width: int = 160, height: int = 120) -> bytes:
    """A small real PNG: an off-white wall corner with dark mould spots, for the damp case."""
    spots = {}
    for _ in range(60):
        cx = int(abs(rng.gauss(0, width / 4)))
        cy = int(abs(rng.gauss(0, height / 4)))
        radius = rng.randint(1, 7)
        for y in range(max(0, cy - radius), min(height, cy + radius + 1)):
            for x in range(max(0, cx - radius), min(width, cx + radius + 1)):
                if (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius:
                    spots[(x, y)] = rng.randint(25, 60)
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # PNG filter type "none" for the row
        for x in range(width):
            if (x, y) in spots:
                dark = spots[(x, y)]
                raw += bytes((dark, dark + 8, dark))
            else:
                shade = max(0, 232 - (x + y) // 8 + rng.randint(-5, 5))
                raw += bytes((shade, max(0, shade - 4), max(0, shade - 14)))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


class DemoBuilder:
    """Builds the demo organisation in memory stage by stage and writes each stage in bulk."""

    def __init__(self, *, homes: int, seed: int, log):
        self.rng = random.Random(seed)
        self.homes = homes
        self.scale = homes / 200
        self.log = log
        self.today = timezone.localdate()
        self.people: list[Person] = []
        self.used_emails: set[str] = set()
        self.phone_serial = 0
        self.ni_serial = 0
        self.tenancy_serial = 10000
        self.case_serial = 0
        self.users = {}
        self.patches: dict[str, Patch] = {}
        self.properties: dict[str, list[Property]] = {}
        self.households: list[Household] = []
        self.members: list[HouseholdMember] = []
        self.contacts: list[ContactRecord] = []
        self.contractors: list[Contractor] = []
        self.storage_names: list[str] = []
        self.counts: dict[str, int] = {}
        self.named_accounts: dict[str, str] = {}

    # -- small helpers ------------------------------------------------------------------------

    def scaled(self, number: int, minimum: int = 1) -> int:
        return max(minimum, round(number * self.scale))

    def days_ago(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    def between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return start + datetime.timedelta(days=self.rng.randint(0, (end - start).days))

    def dob(self, age: int) -> datetime.date:
        return self.today - datetime.timedelta(days=round(age * 365.25) + self.rng.randint(0, 364))

    def at(self, day: datetime.date) -> datetime.datetime:
        """A time in office hours on the day, never in the future."""
        moment = datetime.time(self.rng.randint(9, 16), self.rng.randrange(0, 60, 5))
        return min(timezone.make_aware(datetime.datetime.combine(day, moment)), timezone.now())

    def confirmed_on(self) -> datetime.date:
        # Some are over a year old, so the re-confirmation list has work in it.
        if self.rng.random() < 0.12:
            return self.days_ago(380, 1100)
        return self.days_ago(0, 330)

    def next_phone(self) -> str:
        serial = self.phone_serial % 2000
        self.phone_serial += 1
        if serial < 1000:
            return "07700 900%03d" % serial
        return "020 7946 0%03d" % (serial - 1000)

    def next_ni(self) -> str:
        self.ni_serial += 1
        return "QQ%06d%s" % (100000 + self.ni_serial * 7, "ABCD"[self.ni_serial % 4])

    def email_for(self, first: str, last: str, domain: str | None = None) -> str:
        local = "%s.%s" % (first.lower(), last.lower())
        local = "".join(c for c in local if c.isalnum() or c == ".")
        domain = domain or self.rng.choice(("example.org", "example.com"))
        email = "%s@%s" % (local, domain)
        serial = 1
        while email in self.used_emails:
            serial += 1
            email = "%s%d@%s" % (local, serial, domain)
        self.used_emails.add(email)
        return email

    def first_name(self, sex: str) -> str:
        return self.rng.choice(FEMALE if sex == "F" else MALE)

    def title(self, sex: str, age: int) -> str:
        if age < 18:
            return ""
        if self.rng.random() < 0.02:
            return "Dr"
        if sex == "M":
            return "Mr"
        return self.rng.choice(("Ms", "Mrs", "Mrs", "Miss") if age < 40 else ("Ms", "Mrs", "Mrs"))

    def person(
        self,
        sex: str,
        age: int,
        *,
        first_name: str = "",
        last_name: str = "",
        contact: bool = True,
        email_domain: str | None = None,
        with_dob: bool = True,
        bank: bool = False,
    ) -> Person:
        first_name = first_name or self.first_name(sex)
        last_name = last_name or self.rng.choice(SURNAMES)
        adult = age >= 18
        person = Person(
            title=self.title(sex, age),
            first_name=first_name,
            last_name=last_name,
            date_of_birth=self.dob(age) if with_dob else None,
        )
        if adult and contact:
            if self.rng.random() < 0.85 or email_domain:
                person.email = self.email_for(first_name, last_name, email_domain)
                person.email_confirmed_on = self.confirmed_on()
            if self.rng.random() < 0.95:
                person.phone = self.next_phone()
                person.phone_confirmed_on = self.confirmed_on()
            person.preferred_contact_method = self.rng.choice(
                (
                    ContactMethod.PHONE,
                    ContactMethod.PHONE,
                    ContactMethod.EMAIL,
                    ContactMethod.TEXT_MESSAGE,
                    ContactMethod.LETTER,
                    "",
                )
            )
            if not person.email and person.preferred_contact_method == ContactMethod.EMAIL:
                person.preferred_contact_method = ContactMethod.PHONE
        if adult and with_dob and self.rng.random() < 0.9:
            person.ni_number = self.next_ni()
        if bank:
            person.bank_account_name = (
                "%s %s %s" % (person.title, first_name[0], last_name)
            ).upper()
            person.bank_sort_code = "%02d-%02d-%02d" % tuple(
                self.rng.randint(10, 99) for _ in range(3)
            )
            person.bank_account_number = "%08d" % self.rng.randint(10000000, 99999999)
        self.people.append(person)
        return person

    def flush_people(self) -> None:
        # bulk_create runs each field's pre_save, so the blind indexes are computed here too
        # (tests/records/test_seed_demo.py checks that a seeded NI number is searchable).
        Person.objects.bulk_create(self.people, batch_size=500)
        self.counts["people"] = self.counts.get("people", 0) + len(self.people)
        self.people = []

    def case_reference(self, prefix: str, day: datetime.date) -> str:
        self.case_serial += 1
        return "%s-%d-%04d" % (prefix, day.year, self.case_serial)

    # -- stages -------------------------------------------------------------------------------

    def build(self) -> None:
        self.create_accounts()
        self.create_places()
        self.plan_households()
        self.plan_others()
        self.flush_people()
        self.save_households()
        self.save_others()
        self.add_markers_and_sensitive_information()
        self.plan_contact_history()
        self.save_contacts()
        self.damp_and_mould_case()
        self.name_resident_accounts()
        self.add_equality_answers()

    def create_accounts(self) -> None:
        user_model = get_user_model()
        # The demo accounts share one published password, so one hash (one salt) is no weaker and
        # saves a second of key stretching per account.
        password = make_password(DEMO_PASSWORD)
        groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
        missing = set(Role.values) - set(groups)
        if missing:
            raise CommandError(
                "The role groups are missing (%s): run manage.py migrate first."
                % ", ".join(sorted(missing))
            )
        self.staff_people = []
        for username, role, first, last, job, department in ACCOUNTS:
            user = user_model.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email="%s@tmo.example" % username,
                password=password,
                is_staff=role == Role.SYSTEM_ADMINISTRATOR,
            )
            user.groups.add(groups[role])
            self.users[username] = user
            if job:
                sex = "F" if first in FEMALE else "M"
                person = self.person(
                    sex,
                    self.rng.randint(26, 60),
                    first_name=first,
                    last_name=last,
                    email_domain="tmo.example",
                    bank=True,
                )
                self.staff_people.append((person, job, department, None, None))
        for first, last, sex, job, department, salary, left_days in EXTRA_STAFF:
            person = self.person(
                sex, self.rng.randint(22, 62), first_name=first, last_name=last, bank=True
            )
            self.staff_people.append((person, job, department, Decimal(salary), left_days))
        self.log("Accounts: %d users, one per role" % len(self.users))
        self.sign_undertakings_and_record_training()

    def sign_undertakings_and_record_training(self) -> None:
        """Staff and committee accounts open nothing until they have signed the code and done
        their training, so every demo account has. The finance officer's training runs out within
        the month, to show on the DPO's training page and dashboard."""
        from access.compliance import REQUIRED_ROLES
        from access.models import TrainingModule, TrainingRecord, Undertaking, add_months
        from access.services.compliance import current_code, publish_initial_code

        code = publish_initial_code() or current_code()
        module = TrainingModule.objects.create(
            name="UK GDPR essentials",
            description="Data protection law, the confidentiality code and how to spot a breach.",
            roles=sorted(REQUIRED_ROLES),
            validity_months=12,
        )
        today = timezone.localdate()
        for index, (username, role, *_) in enumerate(ACCOUNTS):
            if role not in REQUIRED_ROLES:
                continue
            user = self.users[username]
            Undertaking.objects.create(
                user=user, code=code, signed_name=user.get_full_name() or username
            )
            if username == "finance":
                completed_on = add_months(today, -12) + datetime.timedelta(days=18)
            else:
                completed_on = today - datetime.timedelta(days=40 + 25 * index)
            TrainingRecord.objects.create(
                user=user,
                module=module,
                completed_on=completed_on,
                recorded_by=self.users["dpo"],
                evidence="Online course certificate",
            )
        self.log("Confidentiality code version %s signed; training recorded" % code.version)

    def create_places(self) -> None:
        shares = [share for _, _, share, _ in PATCHES]
        counts = [max(2, round(self.homes * share)) for share in shares]
        counts[-1] = max(2, self.homes - sum(counts[:-1]))
        all_properties = []
        for (name, code, _, officers), count in zip(PATCHES, counts, strict=True):
            patch = Patch.objects.create(name=name)
            patch.officers.add(*(self.users[username] for username in officers))
            self.patches[code] = patch
            made = [self.property_in(code, patch, index) for index in range(count)]
            # The first homes of three patches hold the special cases: families with children.
            if made[0].bedrooms < 2:
                made[0].bedrooms = 2
            if made[0].property_type == Property.PropertyType.BEDSIT:
                made[0].property_type = Property.PropertyType.FLAT
            self.properties[code] = made
            all_properties.extend(made)
        Property.objects.bulk_create(all_properties)
        self.counts["properties"] = len(all_properties)
        self.log("Places: %d homes in %d patches" % (len(all_properties), len(self.patches)))

    def property_in(self, code: str, patch: Patch, index: int) -> Property:
        rng = self.rng
        asbestos = ""
        if code == "WE":
            block, street, postcode, built = WEAVER_BLOCKS[index % len(WEAVER_BLOCKS)]
            number = index // len(WEAVER_BLOCKS) + 1
            maisonette = number > 8 and rng.random() < 0.6
            kind = Property.PropertyType.MAISONETTE if maisonette else Property.PropertyType.FLAT
            bedrooms = rng.choice((2, 3, 3, 4)) if maisonette else rng.choice((1, 1, 2, 2, 2, 3))
            line_1, line_2 = "Flat %d %s" % (number, block), street
            kitchen = rng.randint(1998, 2023)
            if rng.random() < 0.45:
                asbestos = rng.choice(ASBESTOS_NOTES)
        elif code == "CS":
            street, postcode, built = CANAL_STREETS[index % len(CANAL_STREETS)]
            number = (index // len(CANAL_STREETS)) * 2 + 1
            built += rng.randint(0, 3)
            if rng.random() < 0.25:
                flat = rng.choice("AB")
                line_1 = "Flat %s, %d %s" % (flat, number, street)
                kind = rng.choice((Property.PropertyType.FLAT, Property.PropertyType.BEDSIT))
                bedrooms = 0 if kind == Property.PropertyType.BEDSIT else rng.choice((1, 2))
            else:
                line_1 = "%d %s" % (number, street)
                kind = Property.PropertyType.HOUSE
                bedrooms = rng.choice((2, 3, 3, 4))
            line_2 = ""
            kitchen = rng.randint(1995, 2024)
            if rng.random() < 0.12:
                asbestos = rng.choice(ASBESTOS_NOTES[3:])
        elif code == "BT":
            tower, postcode, built = BELLFIELD_TOWERS[index % len(BELLFIELD_TOWERS)]
            number = index // len(BELLFIELD_TOWERS) + 1
            line_1, line_2 = "Flat %d %s" % (number, tower), "Bellfield Road"
            if rng.random() < 0.15:
                kind, bedrooms = Property.PropertyType.BEDSIT, 0
            else:
                kind, bedrooms = Property.PropertyType.FLAT, rng.choice((1, 1, 2, 2, 2, 3))
            kitchen = rng.randint(2001, 2022)
            if rng.random() < 0.6:
                asbestos = rng.choice(ASBESTOS_NOTES[:3])
        else:
            street, postcode, built = ORCHARD_STREETS[index % len(ORCHARD_STREETS)]
            number = index // len(ORCHARD_STREETS) + 1
            line_1, line_2 = "%d %s" % (number, street), ""
            kind, bedrooms = Property.PropertyType.HOUSE, rng.choice((2, 3, 3, 4))
            kitchen = rng.randint(2010, 2024)
        return Property(
            reference="%s-%04d" % (code, index + 1),
            address_line_1=line_1,
            address_line_2=line_2,
            town="London",
            postcode=postcode,
            patch=patch,
            property_type=kind,
            bedrooms=bedrooms,
            built_year=built,
            kitchen_installed_year=None if rng.random() < 0.05 else max(kitchen, built),
            asbestos_survey_notes=asbestos,
        )

    # -- households ---------------------------------------------------------------------------

    def new_tenancy(self, prop: Property, start: datetime.date, end: datetime.date | None = None):
        self.tenancy_serial += 1
        if end is None and (self.today - start).days < 365:
            kind = Tenancy.TenancyType.INTRODUCTORY
        elif self.rng.random() < 0.04:
            kind = Tenancy.TenancyType.TEMPORARY
        else:
            kind = Tenancy.TenancyType.SECURE
        base = {0: 88, 1: 104, 2: 118, 3: 131, 4: 145}[min(prop.bedrooms, 4)]
        return Tenancy(
            reference="T%05d" % self.tenancy_serial,
            property=prop,
            tenancy_type=kind,
            start_date=start,
            end_date=end,
            weekly_rent=Decimal(base) + Decimal(self.rng.randint(0, 1200)) / 100,
            access_notes=self.rng.choice(ACCESS_NOTES) if self.rng.random() < 0.3 else "",
        )

    def member(self, tenancy, person, relationship, start, end=None) -> HouseholdMember:
        member = HouseholdMember(
            tenancy=tenancy,
            person=person,
            relationship=relationship,
            start_date=max(start, tenancy.start_date),
            end_date=end,
        )
        self.members.append(member)
        return member

    def household(self, prop: Property, start: datetime.date, end: datetime.date | None = None):
        """A believable household for a tenancy: tenants, partners, children, lodgers, carers."""
        rng = self.rng
        tenancy = self.new_tenancy(prop, start, end)
        reference_day = end or self.today
        years = (reference_day - start).days // 365
        ages_back = (self.today - reference_day).days // 365
        low, high = max(20, years + 19), min(90, years + 68)
        beds = prop.bedrooms
        shapes = [
            "single",
            "couple",
            "partner",
            "single_parent",
            "family",
            "carer",
            "lodger",
            "relative",
        ]
        weights = [30, 18, 8, 15 if beds >= 2 else 2, 17 if beds >= 2 else 1, 5, 3, 4]
        if beds == 0:
            weights = [85, 5, 5, 0, 0, 3, 0, 2]
        shape = rng.choices(shapes, weights)[0]
        if shape in ("single_parent", "family"):
            high = min(high, 55)
        if shape == "carer":
            low = max(low, 68)
        age = rng.randint(min(low, high), max(low, high)) + ages_back
        sex = rng.choice("FM") if shape != "single_parent" else rng.choice("FFFFM")
        tenant = self.person(sex, age, bank=rng.random() < 0.35)
        adults = [tenant]
        members = [self.member(tenancy, tenant, Rel.TENANT, start, end)]
        surname = tenant.last_name
        if shape in ("couple", "partner", "family"):
            partner_sex = "M" if sex == "F" and rng.random() < 0.9 else "F"
            partner = self.person(
                partner_sex,
                max(20, age + rng.randint(-6, 6)),
                last_name=surname if rng.random() < 0.6 else "",
            )
            relationship = (
                Rel.JOINT_TENANT if shape != "partner" and rng.random() < 0.7 else Rel.PARTNER
            )
            joined = (
                start if relationship == Rel.JOINT_TENANT else self.between(start, reference_day)
            )
            adults.append(partner)
            members.append(self.member(tenancy, partner, relationship, joined, end))
        if shape in ("single_parent", "family"):
            for _ in range(rng.randint(1, min(4, beds + 1))):
                child_age = rng.randint(0, min(17, max(0, age - ages_back - 19)))
                child = self.person(rng.choice("FM"), child_age + ages_back, last_name=surname)
                members.append(self.member(tenancy, child, Rel.CHILD, child.date_of_birth, end))
        if shape == "carer":
            carer = self.person(rng.choice("FFM"), rng.randint(25, 55) + ages_back)
            adults.append(carer)
            members.append(
                self.member(tenancy, carer, Rel.CARER, self.between(start, reference_day), end)
            )
        if shape == "lodger":
            lodger = self.person(rng.choice("FM"), rng.randint(20, 50) + ages_back)
            adults.append(lodger)
            members.append(
                self.member(tenancy, lodger, Rel.LODGER, self.between(start, reference_day), end)
            )
        if shape == "relative":
            relative = self.person(
                rng.choice("FM"), min(95, age + rng.randint(20, 30)), last_name=surname
            )
            adults.append(relative)
            members.append(
                self.member(
                    tenancy, relative, Rel.RELATIVE, self.between(start, reference_day), end
                )
            )
        household = Household(tenancy, prop, adults, tenant, current=end is None)
        self.households.append(household)
        return household

    def plan_households(self) -> None:
        rng = self.rng
        damp_home = self.properties["WE"][0]
        safe_home = self.properties["CS"][0]
        fled_home = self.properties["BT"][0]
        fled_end = self.days_ago(420, 420)
        self.special_homes = {damp_home.reference, safe_home.reference, fled_home.reference}
        self.plan_damp_household(damp_home)
        self.plan_safe_address_case(safe_home, fled_home, fled_end)
        # The home she fled was re-let after a short void.
        self.household(fled_home, fled_end + datetime.timedelta(days=rng.randint(21, 60)))
        for code in ("WE", "CS", "BT", "OG"):
            for prop in self.properties[code]:
                if prop.reference in self.special_homes:
                    continue
                roll = rng.random()
                if roll < 0.05:
                    # Void: the last tenancy ended recently and the home is being re-let.
                    end = self.days_ago(10, 80)
                    self.household(
                        prop,
                        self.between(datetime.date(1995, 1, 1), end - datetime.timedelta(days=700)),
                        end,
                    )
                elif roll < 0.12:
                    end = self.days_ago(200, 2500)
                    self.household(
                        prop,
                        self.between(datetime.date(1988, 1, 1), end - datetime.timedelta(days=900)),
                        end,
                    )
                    self.household(prop, end + datetime.timedelta(days=rng.randint(14, 70)))
                else:
                    earliest = max(
                        datetime.date(1986, 1, 1), datetime.date(prop.built_year or 1986, 6, 1)
                    )
                    self.household(
                        prop, self.between(earliest, self.today - datetime.timedelta(days=30))
                    )
        for household in self.households:
            if not household.current and not household.special:
                for person in household.adults:
                    if rng.random() < 0.5:
                        person.correspondence_address = "%d %s, %s %s" % (
                            rng.randint(1, 120),
                            rng.choice(
                                ("Marine Parade", "Station Road", "Church Lane", "Mill Road")
                            ),
                            rng.choice(("Northbrook", "Eastmere", "Saltcombe", "Harrowfield")),
                            "ZZ99 %d%s" % (rng.randint(1, 9), rng.choice(("AB", "DE", "HJ", "QP"))),
                        )
                        person.address_confirmed_on = household.tenancy.end_date
        current = sum(1 for h in self.households if h.current)
        self.log(
            "Households: %d current and %d former tenancies"
            % (current, len(self.households) - current)
        )

    def plan_damp_household(self, prop: Property) -> None:
        start = self.today - datetime.timedelta(days=365 * 7 + 40)
        tenancy = self.new_tenancy(prop, start)
        nasra = self.person("F", 34, first_name="Nasra", last_name="Ali", bank=True)
        nasra.title, nasra.preferred_contact_method = "Mrs", ContactMethod.PHONE
        nasra.phone, nasra.phone_confirmed_on = self.next_phone(), self.days_ago(20, 60)
        husband = self.person("M", 39, first_name="Abdirahman", last_name="Ali")
        hodan = self.person("F", 7, first_name="Hodan", last_name="Ali")
        yusuf = self.person("M", 3, first_name="Yusuf", last_name="Ali")
        self.member(tenancy, nasra, Rel.JOINT_TENANT, start)
        self.member(tenancy, husband, Rel.JOINT_TENANT, start)
        self.member(tenancy, hodan, Rel.CHILD, hodan.date_of_birth)
        self.member(tenancy, yusuf, Rel.CHILD, yusuf.date_of_birth)
        self.damp = Household(tenancy, prop, [nasra, husband], nasra, current=True, special=True)
        self.damp_child = yusuf
        self.households.append(self.damp)

    def plan_safe_address_case(self, safe_home, fled_home, fled_end) -> None:
        fled_start = fled_end - datetime.timedelta(days=365 * 6)
        joanne = self.person("F", 33, first_name="Joanne", last_name="Whitfield", bank=True)
        joanne.title, joanne.preferred_contact_method = "Ms", ContactMethod.LETTER
        joanne.correspondence_address = (
            "c/o Haven Women's Support Service\nPO Box 7731\nLondon\nSE99 1HW"
        )
        joanne.address_confirmed_on = self.days_ago(60, 90)
        craig = self.person("M", 37, first_name="Craig", last_name="Dawson")
        kai = self.person("M", 9, first_name="Kai", last_name="Whitfield")
        ruby = self.person("F", 6, first_name="Ruby", last_name="Whitfield")
        old = self.new_tenancy(fled_home, fled_start, fled_end)
        for person, relationship in (
            (joanne, Rel.JOINT_TENANT),
            (craig, Rel.JOINT_TENANT),
            (kai, Rel.CHILD),
            (ruby, Rel.CHILD),
        ):
            self.member(old, person, relationship, max(fled_start, person.date_of_birth), fled_end)
        self.households.append(
            Household(old, fled_home, [joanne, craig], joanne, current=False, special=True)
        )
        new_start = fled_end + datetime.timedelta(days=12)
        new = self.new_tenancy(safe_home, new_start)
        new.tenancy_type = Tenancy.TenancyType.SECURE  # a management transfer keeps her security
        new.access_notes = "Safe address: never give this address or access details to anyone."
        for person, relationship in ((joanne, Rel.TENANT), (kai, Rel.CHILD), (ruby, Rel.CHILD)):
            self.member(new, person, relationship, new_start)
        self.safe = Household(new, safe_home, [joanne], joanne, current=True, special=True)
        self.households.append(self.safe)
        self.abuser = craig

    def plan_others(self) -> None:
        rng = self.rng
        current = [h for h in self.households if h.current and not h.special]
        # Housing and transfer applications; about half assigned to the demo housing officer.
        self.applications = []
        for index in range(self.scaled(24, 4)):
            received = self.days_ago(5, 500)
            applicant = self.person(rng.choice("FM"), rng.randint(19, 70))
            self.applications.append(
                HousingApplication(
                    reference="HA%05d" % (2000 + index),
                    person=applicant,
                    kind=HousingApplication.Kind.HOUSING,
                    received_on=received,
                    status=rng.choice(HousingApplication.Status.values[:4]),
                    bedrooms_needed=rng.choice((1, 1, 2, 2, 3, 4)),
                    assigned_officer=self.users["housing"] if index % 2 == 0 else None,
                    circumstances=rng.choice(APPLICATION_CIRCUMSTANCES),
                )
            )
        for index, household in enumerate(
            rng.sample(current, min(len(current), self.scaled(6, 2)))
        ):
            self.applications.append(
                HousingApplication(
                    reference="TR%05d" % (500 + index),
                    person=household.tenant,
                    kind=HousingApplication.Kind.TRANSFER,
                    received_on=self.days_ago(20, 400),
                    status=rng.choice(
                        (HousingApplication.Status.ACTIVE, HousingApplication.Status.ASSESSING)
                    ),
                    bedrooms_needed=rng.choice((1, 2, 3)),
                    assigned_officer=self.users["housing"] if index % 2 else None,
                    circumstances=rng.choice(TRANSFER_CIRCUMSTANCES),
                )
            )
        for index, household in enumerate(
            rng.sample(current, min(len(current), self.scaled(10, 2)))
        ):
            self.applications.append(
                HousingApplication(
                    reference="MEM%04d" % (300 + index),
                    person=household.tenant,
                    kind=HousingApplication.Kind.MEMBERSHIP,
                    received_on=self.days_ago(5, 700),
                    status=rng.choice(
                        (HousingApplication.Status.RECEIVED, HousingApplication.Status.CLOSED)
                    ),
                    circumstances=rng.choice(MEMBERSHIP_CIRCUMSTANCES),
                )
            )
        # People whose behaviour affects tenants: not tenants themselves.
        self.asb_people = [
            self.person("M", 24, first_name="Jordan", last_name="Pike"),
            self.person("M", 31, first_name="Leon", last_name="Carver"),
            self.person("F", 45, first_name="Tina", last_name="Marsh"),
        ][: max(2, min(3, self.scaled(3)))]
        self.job_applicants = []
        for first, last, sex, post, status, notes in JOB_APPLICANTS:
            person = self.person(sex, rng.randint(21, 55), first_name=first, last_name=last)
            self.job_applicants.append(
                JobApplication(
                    person=person,
                    post=post,
                    received_on=self.days_ago(10, 200),
                    status=status,
                    interview_notes=notes,
                )
            )
        self.contractor_contacts = []
        for index, (name, trade, phone, notes, months) in enumerate(CONTRACTORS):
            contractor = Contractor(
                name=name,
                trade=trade,
                office_phone=phone,
                performance_notes=notes,
                insurance_expires_on=self.today + datetime.timedelta(days=30 * months),
            )
            self.contractors.append(contractor)
            domain = "%s.example.com" % name.split()[0].lower()
            for role_title in CONTRACTOR_CONTACT_ROLES[: 1 + index % 3]:
                person = self.person(rng.choice("FM"), 40, email_domain=domain, with_dob=False)
                self.contractor_contacts.append(
                    ContractorContact(contractor=contractor, person=person, role_title=role_title)
                )

    def save_households(self) -> None:
        Tenancy.objects.bulk_create([h.tenancy for h in self.households])
        HouseholdMember.objects.bulk_create(self.members, batch_size=500)
        self.counts["tenancies"] = len(self.households)
        self.counts["household members"] = len(self.members)
        children = sum(1 for m in self.members if m.relationship == Rel.CHILD)
        self.log(
            "People: %d, of them %d household members (%d children)"
            % (self.counts["people"], len(self.members), children)
        )

    def save_others(self) -> None:
        rng = self.rng
        HousingApplication.objects.bulk_create(self.applications)
        StaffRecord.objects.bulk_create(
            [
                StaffRecord(
                    person=person,
                    employee_number="E%04d" % (101 + index),
                    job_title=job,
                    department=department,
                    start_date=self.days_ago(300, 5000),
                    end_date=self.days_ago(left_days - 30, left_days) if left_days else None,
                    salary=salary or Decimal(rng.randrange(30000, 52000, 150)),
                    hr_notes=rng.choice(STAFF_NOTES),
                )
                for index, (person, job, department, salary, left_days) in enumerate(
                    self.staff_people
                )
            ]
        )
        JobApplication.objects.bulk_create(self.job_applicants)
        Contractor.objects.bulk_create(self.contractors)
        ContractorContact.objects.bulk_create(self.contractor_contacts)
        bids = []
        for title, offers in BIDS:
            submitted = self.days_ago(30, 330)
            for index, price, status, notes in offers:
                bids.append(
                    ContractorBid(
                        contractor=self.contractors[index],
                        contract_title=title,
                        submitted_on=submitted,
                        price=Decimal(price),
                        status=status,
                        evaluation_notes=notes,
                    )
                )
        ContractorBid.objects.bulk_create(bids)
        # Case assignment: the housing officer may see the people in her ASB cases.
        for person in self.asb_people:
            assign_perm("records.view_person", self.users["housing"], person)
        self.log(
            "Applications: %d housing/transfer/membership; staff: %d; job applications: %d; "
            "contractors: %d with %d bids"
            % (
                len(self.applications),
                len(self.staff_people),
                len(self.job_applicants),
                len(self.contractors),
                len(bids),
            )
        )

    # -- markers, special category data, representatives --------------------------------------

    def add_markers_and_sensitive_information(self) -> None:
        rng = self.rng
        housing = self.users["housing"]
        markers = []

        def mark(person, kind, details, starts_on=None):
            marker = Marker(
                kind=kind, details=details, starts_on=starts_on or self.days_ago(30, 900)
            )
            markers.append(services.marker_add(created_by=housing, person=person, marker=marker))

        mark(
            self.safe.tenant,
            Marker.Kind.SAFE_ADDRESS,
            "Fled domestic abuse from her former partner (MARAC referral made). Her address, phone "
            "and email must never be given to Craig Dawson or anyone asking for him, including "
            "other agencies without a senior officer's decision. Check caller ID every time; "
            "letters only to the correspondence address.",
            starts_on=self.safe.tenancy.start_date - datetime.timedelta(days=14),
        )
        mark(
            self.abuser,
            Marker.Kind.STAFF_SAFETY,
            "Threatened a housing officer during a visit in the former tenancy. Never visit or "
            "meet alone; do not discuss any other resident with him.",
            starts_on=self.safe.tenancy.start_date - datetime.timedelta(days=30),
        )
        mark(
            self.damp.adults[1],
            Marker.Kind.INTERPRETER,
            "Somali interpreter for anything formal; Mrs Ali speaks English and is happy to be "
            "the main contact.",
        )
        ordinary = [h for h in self.households if h.current and not h.special]
        adults = [p for h in ordinary for p in h.adults]
        rng.shuffle(adults)
        # A small demo has few adults: going round again beats failing.
        pool = itertools.cycle(adults)
        for _ in range(self.scaled(6, 3)):
            mark(
                next(pool),
                Marker.Kind.NO_VOICEMAIL,
                "Asked us never to leave voicemails: shares a phone with family members.",
            )
        for _ in range(self.scaled(4, 1)):
            mark(next(pool), Marker.Kind.VULNERABLE, rng.choice(VULNERABLE_NOTES))
        for _ in range(self.scaled(4, 1)):
            mark(
                next(pool),
                Marker.Kind.INTERPRETER,
                "%s interpreter needed; use the telephone interpreting service."
                % rng.choice(INTERPRETER_LANGUAGES),
            )
        mark(
            next(pool),
            Marker.Kind.STAFF_SAFETY,
            "Large dog that has bitten a contractor: it must be shut away before anyone enters.",
        )
        mark(
            next(pool),
            Marker.Kind.NO_HOME_VISITS,
            "Works shifts and sleeps in the day: appointments by arrangement only.",
        )
        self.counts["markers"] = len(markers)
        self.forbidden = {}
        for marker in markers:
            if marker.kind in Marker.FORBIDDEN_METHOD:
                self.forbidden.setdefault(marker.person_id, set()).add(
                    Marker.FORBIDDEN_METHOD[marker.kind]
                )

        sensitive = 0
        for kind, details, source in (HEALTH_NOTES * 2)[: self.scaled(12, 3)]:
            services.sensitive_information_add(
                recorded_by=housing,
                person=next(pool),
                information=SensitiveInformation(
                    kind=kind,
                    details=details,
                    source=source,
                    condition=rng.choice(
                        (
                            SensitiveInformation.Condition.SOCIAL_CARE,
                            SensitiveInformation.Condition.EXPLICIT_CONSENT,
                        )
                    ),
                    recorded_on=self.days_ago(30, 1500),
                ),
            )
            sensitive += 1
        services.sensitive_information_add(
            recorded_by=self.users["repairs"],
            person=self.damp_child,
            information=SensitiveInformation(
                kind=SensitiveInformation.Kind.HEALTH,
                condition=SensitiveInformation.Condition.VITAL_INTERESTS,
                details="Asthma; two chest infections last winter. Damp and mould in the home is a "
                "direct risk to his health: treat damp reports as priority.",
                source="Mother, by phone; GP letter received later",
                recorded_on=self.days_ago(295, 295),
            ),
        )
        services.sensitive_information_add(
            recorded_by=housing,
            person=self.safe.tenant,
            information=SensitiveInformation(
                kind=SensitiveInformation.Kind.CRIMINAL_OFFENCE,
                condition=SensitiveInformation.Condition.SUBSTANTIAL_PUBLIC_INTEREST,
                details="Victim of domestic abuse; police reference and MARAC minutes held by the "
                "senior officer. Non-molestation order in force against Craig Dawson.",
                source="Police and MARAC coordinator",
                recorded_on=self.safe.tenancy.start_date - datetime.timedelta(days=20),
            ),
        )
        sensitive += 2
        for _ in range(self.scaled(5, 2)):
            services.sensitive_information_add(
                recorded_by=housing,
                person=next(pool),
                information=SensitiveInformation(
                    kind=SensitiveInformation.Kind.ETHNICITY,
                    condition=SensitiveInformation.Condition.EQUALITY_MONITORING,
                    details=rng.choice(
                        (
                            "Black British: Caribbean",
                            "Asian British: Bangladeshi",
                            "White: Irish",
                            "Mixed: White and Black African",
                            "White: Polish",
                            "Black British: Somali",
                        )
                    ),
                    source="Equality monitoring form",
                    recorded_on=self.days_ago(30, 1500),
                ),
            )
            sensitive += 1
        self.counts["sensitive information"] = sensitive

        representatives = [
            (
                next(pool),
                AuthorisedRepresentative(
                    name="Grace Ndlovu",
                    relationship=AuthorisedRepresentative.Relationship.SUPPORT_WORKER,
                    organisation="Southbank Floating Support",
                    contact_details="grace.ndlovu@southbank-support.example.org\n020 7946 0811",
                    evidence="Signed consent form, kept on file",
                    scope=AuthorisedRepresentative.Scope.ALL,
                    valid_from=self.days_ago(100, 300),
                ),
            ),
            (
                next(pool),
                AuthorisedRepresentative(
                    name="Harriet Lang",
                    relationship=AuthorisedRepresentative.Relationship.SOLICITOR,
                    organisation="Lang & Osei Solicitors",
                    contact_details="h.lang@langosei.example.com\n020 7946 0822\nDX 99123 Riverside",
                    evidence="Letter of authority signed by the tenant",
                    scope=AuthorisedRepresentative.Scope.SPECIFIC,
                    scope_notes="Rent arrears possession claim only",
                    valid_from=self.days_ago(60, 90),
                    expires_on=self.today + datetime.timedelta(days=120),
                ),
            ),
            (
                next(pool),
                AuthorisedRepresentative(
                    name="Cllr Samuel Adjei",
                    relationship=AuthorisedRepresentative.Relationship.COUNCILLOR,
                    organisation="Riverside ward councillor",
                    contact_details="cllr.adjei@riverside-council.example.org",
                    evidence="Tenant's email asking the councillor to act, forwarded to us",
                    scope=AuthorisedRepresentative.Scope.SPECIFIC,
                    scope_notes="Transfer application",
                    valid_from=self.days_ago(20, 40),
                    expires_on=self.today + datetime.timedelta(days=150),
                ),
            ),
        ]
        for person, representative in representatives:
            services.representative_add(
                recorded_by=housing, person=person, representative=representative
            )
        self.log(
            "Markers: %d; sensitive information: %d; representatives: %d"
            % (len(markers), sensitive, len(representatives))
        )

    # -- contact history ----------------------------------------------------------------------

    def contact(
        self,
        household,
        person,
        day,
        channel,
        direction,
        topic,
        subject,
        notes,
        by,
        case="",
        voicemail=False,
    ) -> ContactRecord:
        record = ContactRecord(
            person=person,
            tenancy=household.tenancy if household else None,
            property=household.property if household else None,
            occurred_at=self.at(day),
            channel=channel,
            direction=direction,
            left_voicemail=voicemail,
            topic=topic,
            case_reference=case,
            subject=subject,
            notes=notes,
            recorded_by=self.users[by],
        )
        method = record.method_used()
        forbidden = self.forbidden.get(person.pk, set())
        if method in forbidden:
            # Respect the person's wishes in the invented history too.
            record.left_voicemail = False
            if record.method_used() in forbidden:
                record.channel = Channel.PHONE
        self.contacts.append(record)
        return record

    def contractor_for(self, trade: str) -> str:
        return {"plumbing": CONTRACTORS[0][0], "electrical": CONTRACTORS[1][0]}.get(
            trade, CONTRACTORS[4][0]
        )

    def repair_case(self, household, person, day) -> None:
        rng = self.rng
        what, where, fix, priority, trade = rng.choice(REPAIRS)
        case = self.case_reference("RJ", day)
        contractor = self.contractor_for(trade)
        self.contact(
            household,
            person,
            day,
            rng.choice((Channel.PHONE, Channel.PHONE, Channel.ONLINE, Channel.EMAIL)),
            Direction.INBOUND,
            Topic.REPAIR,
            "Reported %s" % what,
            "Reported %s (%s). Raised job %s as %s priority with %s."
            % (what, where, case, priority, contractor),
            "repairs",
            case,
        )
        visit = day + datetime.timedelta(
            days={"emergency": 0, "urgent": 2}.get(priority, rng.randint(5, 20))
        )
        if priority == "routine":
            voicemail = rng.random() < 0.3
            self.contact(
                household,
                person,
                day + datetime.timedelta(days=1),
                Channel.PHONE,
                Direction.OUTBOUND,
                Topic.REPAIR,
                "Appointment booked",
                (
                    "Left a voicemail with the appointment: %d %s, 8am-1pm."
                    if voicemail
                    else "Appointment agreed for %d %s, 8am-1pm."
                )
                % (visit.day, visit.strftime("%B")),
                "repairs",
                case,
                voicemail=voicemail,
            )
        if visit > self.today:
            return
        if rng.random() < 0.12:
            self.contact(
                household,
                person,
                visit,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.REPAIR,
                "No access for repair",
                "%s called at the appointment time; no answer. "
                "Card left asking to rebook." % contractor,
                "repairs",
                case,
            )
            visit += datetime.timedelta(days=rng.randint(3, 10))
            if visit > self.today:
                return
        self.contact(
            household,
            person,
            visit,
            Channel.VISIT,
            Direction.OUTBOUND,
            Topic.REPAIR,
            "Repair completed",
            "%s attended and %s. Tenant satisfied with the work." % (contractor, fix),
            "repairs",
            case,
        )

    def rent_case(self, household, person, day) -> None:
        rng = self.rng
        arrears = Decimal(rng.randint(180, 1400))
        case = self.case_reference("AR", day)
        self.contact(
            household,
            person,
            day,
            Channel.LETTER,
            Direction.OUTBOUND,
            Topic.RENT,
            "Rent arrears: first letter",
            "Account £%s in arrears after missed payments. Letter offering an appointment "
            "and free money advice." % arrears,
            "finance",
            case,
        )
        later = day + datetime.timedelta(days=rng.randint(3, 20))
        if later <= self.today:
            weekly = rng.choice((5, 8, 10, 15, 20))
            self.contact(
                household,
                person,
                later,
                Channel.PHONE,
                Direction.INBOUND,
                Topic.RENT,
                "Repayment arrangement agreed",
                "Universal Credit payment was late. Agreed £%d a week towards the arrears "
                "on top of the rent; confirmed in writing." % weekly,
                "finance",
                case,
            )

    def asb_case(self, household, person, day) -> str:
        rng = self.rng
        case = self.case_reference("ASB", day)
        report = rng.choice(ASB_REPORTS)
        self.contact(
            household,
            person,
            day,
            Channel.PHONE,
            Direction.INBOUND,
            Topic.ASB,
            "Report of anti-social behaviour",
            "Reported %s. Opened case %s; sent diary "
            "sheets and the noise app link." % (report, case),
            "housing",
            case,
        )
        later = day + datetime.timedelta(days=rng.randint(10, 30))
        if later <= self.today:
            self.contact(
                household,
                person,
                later,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.ASB,
                "ASB case review visit",
                "Went through the diary sheets. Agreed an action "
                "plan; will write to the household causing the nuisance.",
                "housing",
                case,
            )
        return case

    def templated(self, household, person, day, choices, topic, by) -> None:
        channel, direction, subject, notes = self.rng.choice(choices)
        self.contact(household, person, day, channel, direction, topic, subject, notes, by)

    def plan_contact_history(self) -> None:
        rng = self.rng
        generators = (
            (self.repair_case, 36),
            (self.rent_case, 14),
            (self.asb_case, 5),
            (
                lambda h, p, d: self.templated(h, p, d, GENERAL_CONTACTS, Topic.GENERAL, "housing"),
                18,
            ),
            (
                lambda h, p, d: self.templated(h, p, d, TENANCY_CONTACTS, Topic.TENANCY, "housing"),
                10,
            ),
            (
                lambda h, p, d: self.templated(h, p, d, SUPPORT_CONTACTS, Topic.SUPPORT, "housing"),
                8,
            ),
            (self.condensation_case, 5),
            (self.complaint_case, 4),
        )
        functions = [g for g, _ in generators]
        weights = [w for _, w in generators]
        for household in self.households:
            if household.special:
                continue
            if household.current:
                for _ in range(rng.randint(2, 8)):
                    day = self.days_ago(1, 364)
                    if day < household.tenancy.start_date:
                        continue
                    person = (
                        household.tenant if rng.random() < 0.75 else rng.choice(household.adults)
                    )
                    rng.choices(functions, weights)[0](household, person, day)
            elif household.tenancy.end_date >= self.today - datetime.timedelta(days=364):
                end = household.tenancy.end_date
                self.contact(
                    household,
                    household.tenant,
                    end - datetime.timedelta(days=28),
                    Channel.LETTER,
                    Direction.INBOUND,
                    Topic.TENANCY,
                    "Notice to end tenancy",
                    "Gave four weeks' notice: moving out of London to be near family.",
                    "housing",
                )
                self.contact(
                    household,
                    household.tenant,
                    end,
                    Channel.VISIT,
                    Direction.OUTBOUND,
                    Topic.TENANCY,
                    "End of tenancy inspection and keys returned",
                    "Keys returned. Home left clean; minor decoration needed. Forwarding "
                    "address taken.",
                    "housing",
                )
        self.asb_cases()
        self.safe_address_history()
        self.applicant_history()

    def condensation_case(self, household, person, day) -> None:
        case = self.case_reference("DM", day)
        self.contact(
            household,
            person,
            day,
            Channel.PHONE,
            Direction.INBOUND,
            Topic.DAMP_MOULD,
            "Reported mould in the bathroom",
            "Black spots on the bathroom ceiling. Case %s opened; inspection booked." % case,
            "repairs",
            case,
        )
        later = day + datetime.timedelta(days=self.rng.randint(4, 10))
        if later <= self.today:
            self.contact(
                household,
                person,
                later,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Damp and mould inspection",
                "Surface mould around the bathroom window; extractor fan weak. Mould wash "
                "done and a new fan ordered from ClearAir Ventilation.",
                "repairs",
                case,
            )

    def complaint_case(self, household, person, day) -> None:
        case = self.case_reference("CMP", day)
        self.contact(
            household,
            person,
            day,
            Channel.EMAIL,
            Direction.INBOUND,
            Topic.COMPLAINT,
            "Complaint: repair not done on time",
            "Unhappy that a repair was rebooked twice. Stage 1 complaint %s logged and "
            "acknowledged." % case,
            "senior",
            case,
        )
        later = day + datetime.timedelta(days=self.rng.randint(7, 10))
        if later <= self.today:
            self.contact(
                household,
                person,
                later,
                Channel.LETTER,
                Direction.OUTBOUND,
                Topic.COMPLAINT,
                "Stage 1 complaint response",
                "Complaint upheld in part: apology and £50 goodwill payment. Told of the "
                "right to go to stage 2 and then the Housing Ombudsman.",
                "senior",
                case,
            )

    def asb_cases(self) -> None:
        """Neighbours' reports about the people in self.asb_people, and letters to those people."""
        victims = [
            h
            for h in self.households
            if h.current and not h.special and h.property.patch.name == "Weaver Estate"
        ]
        victims = victims or [h for h in self.households if h.current and not h.special]
        for index, other in enumerate(self.asb_people):
            household = victims[index % len(victims)]
            day = self.days_ago(60, 250)
            case = self.asb_case(household, household.tenant, day)
            place = household.property.address_line_2 or household.property.address_line_1
            self.contact(
                None,
                other,
                day + datetime.timedelta(days=25),
                Channel.LETTER,
                Direction.OUTBOUND,
                Topic.ASB,
                "Warning letter about behaviour",
                "Letter about behaviour reported at %s, asking it to stop and offering a "
                "meeting. Not a tenant of ours: visits a resident of the block." % place,
                "housing",
                case,
            )
            self.contact(
                None,
                other,
                day + datetime.timedelta(days=40),
                Channel.FACE_TO_FACE,
                Direction.INBOUND,
                Topic.ASB,
                "Meeting about behaviour",
                "Attended the meeting; accepted the music was too loud and agreed an "
                "acceptable behaviour contract for six months.",
                "housing",
                case,
            )

    def safe_address_history(self) -> None:
        old = next(h for h in self.households if h.special and not h.current)
        joanne, craig = self.safe.tenant, self.abuser
        move = self.safe.tenancy.start_date
        case = self.case_reference("MT", move)
        self.contact(
            old,
            joanne,
            move - datetime.timedelta(days=40),
            Channel.FACE_TO_FACE,
            Direction.INBOUND,
            Topic.SUPPORT,
            "Disclosure of domestic abuse",
            "Disclosed domestic abuse by her partner. Safety plan agreed; referred to the "
            "independent domestic violence adviser and to MARAC with her consent.",
            "housing",
            case,
        )
        self.contact(
            old,
            joanne,
            move - datetime.timedelta(days=25),
            Channel.PHONE,
            Direction.OUTBOUND,
            Topic.TENANCY,
            "Management transfer approved",
            "Senior officer approved an emergency management transfer. Offer of a home "
            "in another area made; she accepted.",
            "senior",
            case,
        )
        self.contact(
            self.safe,
            joanne,
            move,
            Channel.VISIT,
            Direction.OUTBOUND,
            Topic.TENANCY,
            "Sign-up at the new home",
            "Signed the new tenancy. Safe address marker confirmed with her; all letters to "
            "the correspondence address.",
            "housing",
            case,
        )
        self.contact(
            None,
            craig,
            move + datetime.timedelta(days=50),
            Channel.PHONE,
            Direction.INBOUND,
            Topic.TENANCY,
            "Asked for his ex-partner's new address",
            "Asked where Joanne and the children now live. Told him we cannot discuss "
            "anyone else's housing. Nothing disclosed; senior officer informed.",
            "housing",
        )

    def applicant_history(self) -> None:
        for application in self.applications:
            if application.kind != HousingApplication.Kind.HOUSING:
                continue
            if application.received_on < self.today - datetime.timedelta(days=364):
                continue
            self.contact(
                None,
                application.person,
                application.received_on,
                Channel.LETTER,
                Direction.OUTBOUND,
                Topic.GENERAL,
                "Application acknowledged",
                "Letter confirming we received application %s and explaining what "
                "happens next." % application.reference,
                "housing",
                application.reference,
            )

    def save_contacts(self) -> None:
        ContactRecord.objects.bulk_create(self.contacts, batch_size=500)
        self.counts["contact records"] = len(self.contacts)
        self.log("Contact records: %d over the past year" % len(self.contacts))

    # -- the damp and mould case --------------------------------------------------------------

    def upload(self, person, record, filename, data, title, kind, by="repairs") -> Document:
        document = services.document_upload(
            uploaded_by=self.users[by],
            person=person,
            upload=SimpleUploadedFile(filename, data),
            title=title,
            kind=kind,
            contact_record=record,
        )
        self.storage_names.append(document.storage_name)
        return document

    def damp_and_mould_case(self) -> None:
        """One household's case from first report to closure, so the timeline tells the story."""
        household = self.damp
        nasra, child = household.tenant, self.damp_child
        first = self.today - datetime.timedelta(days=300)
        case = "DM-%d-0001" % first.year
        dryhome, roofer, builder = CONTRACTORS[2][0], CONTRACTORS[3][0], CONTRACTORS[4][0]

        def when(days):
            return first + datetime.timedelta(days=days)

        steps = [
            (
                0,
                Channel.PHONE,
                Direction.INBOUND,
                Topic.DAMP_MOULD,
                "Reported black mould in the children's bedroom",
                "Reported black mould spreading on the outside wall and ceiling of bedroom 2, worse "
                "since the autumn. Windows stream with condensation every morning. %s (3) has asthma "
                "and has had two chest infections this winter. Priority inspection: child with a "
                "respiratory condition." % child.first_name,
                "repairs",
            ),
            (
                6,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Damp and mould inspection",
                "Inspected with Mrs Ali. Black mould about 1.5 m² on the external wall and ceiling "
                "corner of bedroom 2; bathroom extractor fan not working; no trickle vents in the "
                "bedroom window. Humidity 78% in bedroom 2; wall readings high at the ceiling junction, "
                "so possible cold bridge or roof leak above. Photos taken. Gave heating and "
                "ventilation advice without blaming the household.",
                "repairs",
            ),
            (
                8,
                Channel.LETTER,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Works ordered",
                "Letter confirming the findings and the works: mould treatment, new extractor fan and "
                "trickle vents by %s; roof survey to follow. Case reference %s." % (dryhome, case),
                "repairs",
            ),
            (
                21,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Mould treatment and extractor fan fitted",
                "%s attended: mould wash and fungicidal treatment to bedroom 2, stain block and "
                "anti-mould paint, humidistat extractor fan in the bathroom, two trickle vents "
                "fitted." % dryhome,
                "repairs",
            ),
            (
                55,
                Channel.PHONE,
                Direction.INBOUND,
                Topic.DAMP_MOULD,
                "Mould has come back",
                "Black spots back on the ceiling corner of bedroom 2 three weeks after treatment. "
                "%s's asthma worse; GP letter offered. Roof survey booked with %s."
                % (child.first_name, roofer),
                "repairs",
            ),
            (
                57,
                Channel.EMAIL,
                Direction.INBOUND,
                Topic.COMPLAINT,
                "Formal complaint: damp and mould not fixed",
                "Stage 1 complaint: the mould came back after treatment and she feels her concerns "
                "about her son's health were not taken seriously. Asks for a permanent fix or a move. "
                "Acknowledged; response due within 10 working days.",
                "senior",
            ),
            (
                63,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Roof and thermal survey",
                "%s surveyed the flat roof above: defective flashing at the parapet is letting water "
                "into the ceiling void over bedroom 2. Thermal imaging also shows a cold bridge at the "
                "concrete ring beam. Survey report attached." % roofer,
                "repairs",
            ),
            (
                68,
                Channel.LETTER,
                Direction.OUTBOUND,
                Topic.COMPLAINT,
                "Stage 1 complaint response",
                "Complaint upheld: the first repair treated the symptoms, not the cause. Apology; £250 "
                "compensation offered (£150 distress and inconvenience, £100 extra heating costs). "
                "Roof repair and wall insulation booked. Told of stage 2 and the Housing Ombudsman.",
                "senior",
            ),
            (
                82,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Roof flashing renewed and wall insulated",
                "%s renewed the parapet flashing. %s dried out the ceiling void, lined the external "
                "wall of bedroom 2 with insulated plasterboard and redecorated with anti-mould paint."
                % (roofer, builder),
                "repairs",
            ),
            (
                126,
                Channel.VISIT,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Follow-up inspection: no mould",
                "Six weeks after the works: no mould, walls dry, humidity 52% in bedroom 2. Family "
                "pleased. Compensation of £250 paid.",
                "repairs",
            ),
            (
                230,
                Channel.PHONE,
                Direction.OUTBOUND,
                Topic.DAMP_MOULD,
                "Winter check: case closed",
                "Called Mrs Ali: no mould through the cold months and %s has had no chest infections. "
                "Case closed with her agreement." % child.first_name,
                "repairs",
            ),
        ]
        records = []
        for days, channel, direction, topic, subject, notes, by in steps:
            record = ContactRecord(
                person=nasra,
                tenancy=household.tenancy,
                property=household.property,
                occurred_at=self.at(when(days)),
                channel=channel,
                direction=direction,
                topic=topic,
                case_reference=case,
                subject=subject,
                notes=notes,
                recorded_by=self.users[by],
            )
            records.append(record)
        ContactRecord.objects.bulk_create(records)
        self.damp_case_reference = case
        self.upload(
            nasra,
            records[1],
            "bedroom-2-mould.png",
            _png(self.rng),
            "Bedroom 2: black mould on the external wall and ceiling",
            Document.Kind.PHOTO,
        )
        survey = (
            "ROOF AND THERMAL SURVEY\n"
            "Property: %s\nCase: %s\nSurveyor: %s\n\n"
            "Findings\n"
            "1. Lead flashing at the parapet above bedroom 2 has split along 2.4 m; water enters the "
            "ceiling void in heavy rain.\n"
            "2. Thermal imaging: surface temperature 9.1C at the ceiling/wall junction against 17.5C "
            "mid-wall (cold bridge at the concrete ring beam).\n"
            "3. Ventilation now adequate after the new extractor fan and trickle vents.\n\n"
            "Recommendations\n"
            "Renew the parapet flashing; dry the void; line the external wall with insulated "
            "plasterboard; recheck in six weeks.\n" % (household.property.address, case, roofer)
        )
        self.upload(
            nasra,
            records[6],
            "roof-and-thermal-survey.txt",
            survey.encode(),
            "Roof and thermal survey report",
            Document.Kind.REPORT,
        )
        response = (
            "Dear Mrs Ali\n\nYour complaint %s: damp and mould in bedroom 2\n\n"
            "Thank you for telling us that the mould came back. We have upheld your complaint. "
            "Our first repair treated the mould but not its cause, and we should have surveyed the "
            "roof at the start. We are sorry.\n\n"
            "We offer you £250 compensation and have booked the roof repair and wall insulation.\n\n"
            "If you are not satisfied you can ask us to review this at stage 2, and then contact "
            "the Housing Ombudsman.\n\nYours sincerely\n\n%s\nEstate manager\n"
            % (case, self.users["senior"].get_full_name())
        )
        self.upload(
            nasra,
            records[7],
            "complaint-response-stage-1.txt",
            response.encode(),
            "Stage 1 complaint response",
            Document.Kind.CORRESPONDENCE,
            by="senior",
        )
        self.counts["contact records"] += len(records)
        self.log(
            "Damp and mould case %s: %d contacts, 3 documents (encrypted on disk)"
            % (case, len(records))
        )

    def name_resident_accounts(self) -> None:
        """The committee member and the tenant are residents: name their accounts after one."""
        user_model = get_user_model()
        taken = set()
        for username, code in (("committee", "CS"), ("tenant", "OG")):
            candidates = [
                h
                for h in self.households
                if h.current
                and not h.special
                and h.tenant.email
                and h.tenant.pk not in self.forbidden
                and h.tenant.pk not in taken
            ]
            in_patch = [h for h in candidates if h.property.patch == self.patches[code]]
            household = (in_patch or candidates)[0]
            person = household.tenant
            taken.add(person.pk)
            user_model.objects.filter(pk=self.users[username].pk).update(
                first_name=person.first_name, last_name=person.last_name, email=person.email
            )
            self.named_accounts[username] = "%s, tenant at %s" % (
                person.full_name,
                household.property.address_line_1,
            )

    def add_equality_answers(self) -> None:
        """Most current tenants, and some applicants, answered the equality monitoring questions.

        A random stream of its own, so adding this stage changed nothing else in the demo."""
        rng = random.Random("equality-monitoring")
        current = {h.tenancy.pk for h in self.households if h.current}
        tenants = [
            m.person
            for m in self.members
            if m.tenancy.pk in current
            and m.relationship in HouseholdMember.TENANT_RELATIONSHIPS
            and m.end_date is None
        ]
        applicants = [
            a.person for a in self.applications if a.status in HousingApplication.Status.values[:4]
        ]
        E = EqualityMonitoring

        def pick(choices, weights):
            return rng.choices(choices.values, weights)[0]

        rows, seen = [], set()
        for person, share in [(p, 0.85) for p in tenants] + [(p, 0.6) for p in applicants]:
            if person.pk in seen:
                continue
            seen.add(person.pk)
            if rng.random() >= share:
                continue
            gender = {"Mr": E.Gender.MAN, "Ms": E.Gender.WOMAN, "Mrs": E.Gender.WOMAN}.get(
                person.title, E.Gender.WOMAN if person.title == "Miss" else None
            )
            if gender is None or rng.random() < 0.04:
                gender = pick(E.Gender, (45, 45, 3, 2, 5))
            rows.append(
                E(
                    person=person,
                    ethnicity=pick(E.Ethnicity, EQUALITY_ETHNICITY_WEIGHTS),
                    first_language=pick(E.Language, EQUALITY_LANGUAGE_WEIGHTS),
                    gender=gender,
                    disability=pick(E.Disability, (10, 14, 68, 8)),
                    religion=pick(E.Religion, (28, 35, 1, 3, 1, 20, 1, 2, 9)),
                    sexual_orientation=pick(E.SexualOrientation, (80, 3, 2, 1, 14)),
                    recorded_by=self.users["housing"],
                    recorded_on=self.today - datetime.timedelta(days=rng.randint(10, 900)),
                )
            )
        EqualityMonitoring.objects.bulk_create(rows, batch_size=500)
        self.counts["equality monitoring answers"] = len(rows)
        self.log("Equality monitoring answers: %d" % len(rows))

    def remove_written_files(self) -> None:
        """The database rolls back on failure; the encrypted files it pointed to must go too."""
        for name in self.storage_names:
            filestore.delete(name)


def seed_other_apps(*, users, log) -> None:
    """Apps above records (disclosures, sar) add their own demo data from a `demo` module, found
    by name so that records imports none of them."""
    for config in apps.get_app_configs():
        if config.name == "records":
            continue
        try:
            module = import_module("%s.demo" % config.name)
        except ModuleNotFoundError as exc:
            if exc.name != "%s.demo" % config.name:
                raise
            continue
        module.seed_demo(users=users, log=log)


class Command(BaseCommand):
    help = (
        "Fill an empty database with an invented Tenant Management Organisation: about --homes "
        "homes in four patches, households, applications, staff, contractors and bids, a year of "
        "contact records with a full damp and mould case, markers, and one account per role "
        "(password '%s'). Refuses to run unless settings.DEMO_MODE is true. Most rows are "
        "bulk-created for speed, so they have no auditlog change entries; markers, sensitive "
        "information, representatives and documents go through the services and do." % DEMO_PASSWORD
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--homes",
            type=int,
            default=200,
            help="How many homes to create (default 200, at least %d)." % MIN_HOMES,
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and say so) if the demo accounts already exist.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed; the same seed gives the same data on the same day.",
        )

    def handle(self, *args, homes: int, if_empty: bool, seed: int, **options):
        if getattr(settings, "DEMO_MODE", False) is not True:
            raise CommandError(
                "seed_demo invents people and accounts with a published password, so it only runs "
                "where settings.DEMO_MODE is True (development, test). These settings have it off, "
                "as production does: nothing was written."
            )
        if homes < MIN_HOMES:
            raise CommandError("--homes must be at least %d." % MIN_HOMES)
        if get_user_model().objects.filter(username="dpo").exists():
            if if_empty:
                self.stdout.write(
                    "Demo data already present (a user named 'dpo' exists): nothing to do."
                )
                return
            raise CommandError(
                "Demo data already present (a user named 'dpo' exists). Use --if-empty to skip "
                "quietly, or seed an empty database."
            )
        started = time.monotonic()
        verbosity = options.get("verbosity", 1)

        def log(message):
            if verbosity >= 1:
                self.stdout.write("  " + message)

        self.stdout.write("Seeding the demo organisation (%d homes, seed %d)..." % (homes, seed))
        builder = DemoBuilder(homes=homes, seed=seed, log=log)
        try:
            with transaction.atomic():
                builder.build()
                seed_other_apps(users=builder.users, log=log)
        except BaseException:
            builder.remove_written_files()
            raise
        self.stdout.write(self.style.SUCCESS("Done in %.1f s." % (time.monotonic() - started)))
        self.print_accounts(builder)

    def print_accounts(self, builder: DemoBuilder) -> None:
        rows = []
        for username, role, first, last, job, _ in ACCOUNTS:
            user = builder.users[username]
            if username in builder.named_accounts:
                notes = builder.named_accounts[username]
            else:
                notes = "%s %s, %s" % (first, last, job)
                patches = sorted(p.name for p in user.patches.all())
                if patches:
                    notes += "; officer for " + " and ".join(patches)
            if role == Role.SYSTEM_ADMINISTRATOR:
                notes += "; Django admin (staff, not superuser)"
            rows.append((username, str(Role(role).label), notes))
        width_user = max(len("Username"), *(len(r[0]) for r in rows))
        width_role = max(len("Role"), *(len(r[1]) for r in rows))
        self.stdout.write("")
        self.stdout.write("Demo accounts (password for all: %s)" % DEMO_PASSWORD)
        self.stdout.write(
            "  %s  %s  %s" % ("Username".ljust(width_user), "Role".ljust(width_role), "Who")
        )
        for username, label, notes in rows:
            self.stdout.write(
                "  %s  %s  %s" % (username.ljust(width_user), label.ljust(width_role), notes)
            )
