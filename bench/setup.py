"""What the benchmark adds to a seeded database before it measures: staff accounts with known
passwords and authenticator keys, the pages they will visit, and heavy subjects for the bundle.

Runs inside Django (tmo.settings.bench). Accounts are named bench-* and reset on every run, so a
second run on the same database signs in afresh; heavy subjects are new each run.
"""

import datetime
import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import Role
from records.models import (
    ContactRecord,
    Document,
    HouseholdMember,
    Patch,
    Person,
    Property,
    Tenancy,
)
from tmo import filestore

PASSWORD = "bench-" + secrets.token_urlsafe(12)
# The heavy subject of the issue: 2,000 contact records, 100 documents and 20 disclosures.
HEAVY_CONTACTS = 2000
HEAVY_DOCUMENTS = 100
HEAVY_DISCLOSURES = 20


def make_compliant(user, roles: set[str]) -> None:
    """Sign the current confidentiality code and record in-date training, as staff in use
    have done: without them the policies show the account nothing."""
    from access.compliance import forget_compliance
    from access.models import TrainingModule, TrainingRecord, Undertaking
    from access.services.compliance import current_code, publish_initial_code

    code = current_code() or publish_initial_code()
    Undertaking.objects.get_or_create(user=user, code=code, defaults={"signed_name": user.username})
    today = timezone.localdate()
    for module in TrainingModule.objects.all():
        in_date = TrainingRecord.objects.filter(user=user, module=module, expires_on__gt=today)
        if module.applies_to(roles) and not in_date.exists():
            TrainingRecord.objects.create(user=user, module=module, completed_on=today)
    forget_compliance(user)


@transaction.atomic
def staff_account(username: str, role: str, *, patch: Patch | None = None, hashed: str) -> dict:
    """A compliant staff member with a fresh authenticator device whose key the bench knows."""
    user, _ = get_user_model().objects.update_or_create(
        username=username,
        defaults={
            "password": hashed,
            "is_active": True,
            "first_name": "Bench",
            "last_name": username,
            "email": "%s@bench.example" % username,
        },
    )
    user.groups.set([Group.objects.get(name=role)])
    if patch is not None:
        user.patches.set([patch])
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Bench authenticator", confirmed=True)
    make_compliant(user, {role})
    return {"id": user.pk, "username": username, "password": PASSWORD, "key": device.key}


def busiest_patches(count: int) -> list[Patch]:
    """The patches with the most homes, so that each officer has people to look at."""
    return list(
        Patch.objects.annotate(homes=Count("properties")).order_by("-homes", "pk")[: max(count, 1)]
    )


def staff_accounts(prefix: str, count: int, role: str = Role.HOUSING_OFFICER) -> list[dict]:
    hashed = make_password(PASSWORD)
    patches = busiest_patches(count)
    return [
        staff_account(
            "%s-%03d" % (prefix, number), role, patch=patches[number % len(patches)], hashed=hashed
        )
        for number in range(count)
    ]


def officer_targets(user_id: int, *, people: int = 60, terms: int = 8) -> dict:
    """People this officer may open, and surnames common among them to search for."""
    user = get_user_model().objects.get(pk=user_id)
    visible = Person.objects.visible_to(user)
    person_ids = list(visible.order_by("?").values_list("pk", flat=True)[:people])
    common = (
        visible.order_by()
        .values("last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "last_name")[:terms]
    )
    return {"person_ids": person_ids, "terms": [row["last_name"] for row in common]}


# --- the heavy subject ---------------------------------------------------------------------------


@transaction.atomic
def heavy_subject(*, tag: str, scale: float, patch: Patch, logged_by, decided_by):
    """A tenant with scale x (2,000 contact records, 100 documents, 20 disclosures) and an
    open subject access request, written in bulk. Returns the request."""
    from disclosures.models import DisclosureDecision, DisclosureRequest
    from sar.models import SubjectAccessRequest

    today = timezone.localdate()
    person = Person.objects.create(
        first_name="Heavy",
        last_name="Subject %s" % tag,
        date_of_birth=datetime.date(1970, 1, 1),
        email="heavy-%s@mail.example" % tag,
        phone="07700 900999",
        ni_number="QQ123456C",
    )
    home = Property.objects.create(
        reference="BH-%s" % tag,
        address_line_1="1 Benchmark Row",
        town="London",
        postcode="SE99 9ZZ",
        patch=patch,
        property_type=Property.PropertyType.FLAT,
        bedrooms=2,
    )
    tenancy = Tenancy.objects.create(
        reference="BT-%s" % tag,
        property=home,
        tenancy_type=Tenancy.TenancyType.SECURE,
        start_date=datetime.date(2010, 4, 1),
        weekly_rent=Decimal("120.00"),
    )
    HouseholdMember.objects.create(
        tenancy=tenancy,
        person=person,
        relationship=HouseholdMember.Relationship.TENANT,
        start_date=datetime.date(2010, 4, 1),
    )
    now = timezone.now()
    ContactRecord.objects.bulk_create(
        (
            ContactRecord(
                person=person,
                tenancy=tenancy,
                occurred_at=now - datetime.timedelta(hours=number),
                channel=ContactRecord.Channel.PHONE,
                direction=ContactRecord.Direction.INBOUND,
                topic=ContactRecord.Topic.REPAIR,
                subject="Repair call %d" % number,
                notes="Called about the repair, visit %d booked. Kitchen tap drips." % number,
                recorded_by=logged_by,
            )
            for number in range(int(HEAVY_CONTACTS * scale))
        ),
        batch_size=1000,
    )
    documents = Document.objects.bulk_create(
        (
            Document(
                person=person,
                title="Letter %d" % number,
                original_filename="letter-%d.pdf" % number,
                content_type="application/pdf",
                size=64,
                uploaded_by=logged_by,
            )
            for number in range(int(HEAVY_DOCUMENTS * scale))
        ),
        batch_size=500,
    )
    for document in documents:
        filestore.write_encrypted(document.storage_name, b"%PDF-1.4 bench letter " + tag.encode())
    requests = DisclosureRequest.objects.bulk_create(
        DisclosureRequest(
            reference="BD-%s-%d" % (tag, number),
            requester_type="police",
            requester_organisation="Metropolitan Police Service",
            requester_name="DC Sam Holloway",
            requester_contact="sam.holloway@met.police.example",
            identity_check="Called back on the published switchboard",
            person=person,
            requested_items=["records.person.phone"],
            request_details="Current phone number.",
            purpose="Tracing a witness.",
            basis="crime_taxation",
            logged_by=logged_by,
        )
        for number in range(int(HEAVY_DISCLOSURES * scale))
    )
    DisclosureDecision.objects.bulk_create(
        DisclosureDecision(
            request=request,
            outcome="partial",
            released_items=["records.person.phone"],
            necessity="The phone number is needed to contact the witness.",
            reasons="Not disclosing would prejudice the investigation.",
            decided_by=decided_by,
            decider_position="Housing services manager",
            person_told="told",
        )
        for request in requests
    )
    return SubjectAccessRequest.objects.create(
        reference="BS-%s" % tag,
        kind="access",
        channel="online",
        person=person,
        requester_name=person.full_name,
        requester_email=person.email,
        requester_address="1 Benchmark Row, London SE99 9ZZ",
        details="Everything you hold about me.",
        received_on=today,
        identity_required=False,
        status="in_progress",
        logged_by=logged_by,
    )
