"""manage.py seed_demo: a believable demo organisation, written only where DEMO_MODE is on."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from access.roles import Role
from records.management.commands import seed_demo
from records.models import (
    ContactRecord,
    Contractor,
    ContractorBid,
    Document,
    HouseholdMember,
    HousingApplication,
    Marker,
    Patch,
    Person,
    PersonUserObjectPermission,
    Property,
    StaffRecord,
    Tenancy,
)
from tmo import filestore

ACCOUNTS = {
    "housing": Role.HOUSING_OFFICER,
    "repairs": Role.REPAIRS_OFFICER,
    "finance": Role.FINANCE_OFFICER,
    "hr": Role.HR_OFFICER,
    "contracts": Role.CONTRACTS_OFFICER,
    "senior": Role.SENIOR_OFFICER,
    "dpo": Role.DATA_PROTECTION_LEAD,
    "committee": Role.COMMITTEE_MEMBER,
    "tenant": Role.TENANT,
    "admin": Role.SYSTEM_ADMINISTRATOR,
}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", homes=20, stdout=out, **options)
    return out.getvalue()


def user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def seeded(db):
    return seed()


def test_one_account_per_role_with_the_demo_password(seeded):
    for username, role in ACCOUNTS.items():
        account = user(username)
        assert list(account.groups.values_list("name", flat=True)) == [role]
        assert account.check_password("demo-password-2026")
        assert account.is_staff == (username == "admin")
        assert not account.is_superuser
    # The closing table lists every account and the password.
    table = seeded.split("Demo accounts", 1)[1]
    assert "demo-password-2026" in table
    for username in ACCOUNTS:
        assert "\n  %s " % username in table


def test_staff_accounts_have_staff_records_and_officers_have_patches(seeded):
    for username in ("housing", "repairs", "finance", "hr", "contracts", "senior", "dpo", "admin"):
        account = user(username)
        assert StaffRecord.objects.filter(
            person__first_name=account.first_name, person__last_name=account.last_name
        ).exists()
    assert 1 <= user("housing").patches.count() <= 2
    assert 1 <= user("repairs").patches.count() <= 2
    assert 3 <= Patch.objects.count() <= 4
    assert Property.objects.count() == 20
    assert StaffRecord.objects.count() > 8


def test_resident_accounts_are_named_after_a_tenant(seeded):
    for username in ("committee", "tenant"):
        account = user(username)
        assert HouseholdMember.objects.filter(
            person__first_name=account.first_name,
            person__last_name=account.last_name,
            relationship__in=HouseholdMember.TENANT_RELATIONSHIPS,
        ).exists()


def test_households_have_children_with_dates_of_birth(seeded):
    today = timezone.localdate()
    children = HouseholdMember.objects.filter(
        relationship=HouseholdMember.Relationship.CHILD, tenancy__end_date__isnull=True
    ).select_related("person")
    assert children
    for child in children:
        assert child.person.date_of_birth is not None
        assert child.person.age_on(today) < 18
    assert Tenancy.objects.filter(end_date__isnull=False).exists()
    assert Tenancy.objects.filter(end_date__isnull=True).count() >= 15


def test_safe_address_case(seeded):
    marker = Marker.objects.get(kind=Marker.Kind.SAFE_ADDRESS)
    person = marker.person
    assert person.has_safety_block()
    assert "PO Box" in person.correspondence_address
    # Re-housed: the old tenancy ended, the new one is current.
    memberships = person.household_memberships.select_related("tenancy")
    assert {m.tenancy.end_date is None for m in memberships} == {True, False}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT correspondence_address FROM records_person WHERE id = %s", [person.pk]
        )
        (stored,) = cursor.fetchone()
    assert "PO Box" not in stored
    assert Marker.objects.filter(kind=Marker.Kind.STAFF_SAFETY).exists()
    assert Marker.objects.filter(kind=Marker.Kind.NO_VOICEMAIL).count() >= 3


def test_nobody_with_a_no_voicemail_marker_was_left_one(seeded):
    assert not ContactRecord.objects.filter(
        left_voicemail=True, person__markers__kind=Marker.Kind.NO_VOICEMAIL
    ).exists()
    assert ContactRecord.objects.filter(left_voicemail=True).exists()


def test_damp_and_mould_case_reads_as_one_timeline_with_documents(seeded):
    case = (
        ContactRecord.objects.filter(topic=ContactRecord.Topic.DAMP_MOULD)
        .exclude(case_reference="")
        .values("case_reference")
        .annotate(contacts=Count("pk"))
        .order_by("-contacts")
        .first()
    )
    assert case["contacts"] >= 4
    records = ContactRecord.objects.filter(case_reference=case["case_reference"])
    assert records.values("person").distinct().count() == 1
    assert records.filter(topic=ContactRecord.Topic.COMPLAINT).exists()
    photo = Document.objects.get(
        contact_record__case_reference=case["case_reference"], kind=Document.Kind.PHOTO
    )
    assert photo.content_type == "image/png"
    assert filestore.read_decrypted(photo.storage_name).startswith(b"\x89PNG\r\n\x1a\n")
    # On disk it is a Fernet token (base64), in which the PNG signature's \x89 byte cannot occur.
    assert b"\x89PNG" not in filestore.read_token(photo.storage_name)
    assert (
        Document.objects.filter(contact_record__case_reference=case["case_reference"]).count() >= 2
    )


def test_contractors_have_contacts_and_bids(seeded):
    contractors = Contractor.objects.annotate(people=Count("contacts"))
    assert contractors.count() >= 5
    assert all(c.people >= 1 for c in contractors)
    bids = ContractorBid.objects.all()
    assert bids.count() >= 5
    assert all(bid.price > 0 and bid.evaluation_notes for bid in bids)


def test_applications_and_contact_history(seeded):
    housing = user("housing")
    applications = HousingApplication.objects.filter(kind=HousingApplication.Kind.HOUSING)
    assert applications.filter(assigned_officer=housing).exists()
    assert applications.filter(assigned_officer__isnull=True).exists()
    assert HousingApplication.objects.filter(kind=HousingApplication.Kind.MEMBERSHIP).exists()
    year_ago = timezone.now() - datetime.timedelta(days=365)
    assert ContactRecord.objects.filter(occurred_at__gte=year_ago).count() >= 100
    assert not ContactRecord.objects.filter(occurred_at__gt=timezone.now()).exists()


def test_contact_details_are_searchable_and_some_need_reconfirming(seeded):
    person = Person.objects.exclude(ni_number_index="").exclude(email_index="").first()
    dpo = user("dpo")
    # Bulk-created people still get their blind indexes.
    assert list(Person.objects.visible_to(dpo).search(person.ni_number)) == [person]
    assert list(Person.objects.visible_to(dpo).search(person.email)) == [person]
    assert person.email.endswith(("@example.org", "@example.com", ".example"))
    assert person.ni_number.startswith("QQ")
    assert any(p.stale_contact_details() for p in Person.objects.all())


def test_housing_officer_sees_some_people_committee_and_admin_none(seeded):
    everyone = Person.objects.count()
    housing = user("housing")
    visible = Person.objects.visible_to(housing)
    assert 0 < visible.count() < everyone
    # The ASB "other" people are hers by object permission, though they are not tenants.
    assigned = PersonUserObjectPermission.objects.filter(user=housing).values("content_object")
    assert assigned.exists()
    others = Person.objects.filter(pk__in=assigned)
    assert not HouseholdMember.objects.filter(person__in=others).exists()
    assert set(visible.filter(pk__in=assigned)) == set(others)
    # Staff records are HR's business, not hers.
    assert not visible.filter(staff_record__isnull=False).exists()
    for username in ("committee", "admin", "tenant"):
        account = user(username)
        assert not Person.objects.visible_to(account).exists()
        assert not ContactRecord.objects.visible_to(account).exists()
        assert not Document.objects.visible_to(account).exists()


def test_if_empty_twice_does_not_duplicate(db):
    seed(if_empty=True)
    counts = (Person.objects.count(), ContactRecord.objects.count(), Document.objects.count())
    out = seed(if_empty=True)
    assert "nothing to do" in out
    assert (
        Person.objects.count(),
        ContactRecord.objects.count(),
        Document.objects.count(),
    ) == counts
    assert get_user_model().objects.filter(username="dpo").count() == 1


def test_second_run_without_if_empty_refuses(seeded):
    people = Person.objects.count()
    with pytest.raises(CommandError, match="already present"):
        seed()
    assert Person.objects.count() == people


@override_settings(DEMO_MODE=False)
def test_refuses_outside_demo_mode_and_writes_nothing(db):
    with pytest.raises(CommandError, match="DEMO_MODE"):
        seed()
    assert not get_user_model().objects.exists()
    assert not Person.objects.exists()
    assert not Patch.objects.exists()


def test_a_failure_leaves_no_rows_and_no_document_files(db, monkeypatch):
    def fail(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(seed_demo.DemoBuilder, "name_resident_accounts", fail)
    with pytest.raises(RuntimeError):
        seed()
    assert not Person.objects.exists()
    assert not get_user_model().objects.exists()
    root = Path(settings.DOCUMENT_ROOT)
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_the_smallest_demo_it_allows_builds():
    """The least --homes accepts once failed: the work order went to a tenancy that had ended."""
    from disclosures.models import WorkOrder

    call_command("seed_demo", homes=seed_demo.MIN_HOMES, stdout=io.StringIO())
    work_order = WorkOrder.objects.get()
    assert work_order.tenancy.is_current()
