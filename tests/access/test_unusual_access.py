"""The unusual-access check: a heavy reader and an out-of-scope reader are raised for review, a
normal reader is not, reads under emergency access or a committee grant are expected, and no
finding is raised twice.

Reads are audit entries written with the time they happened (the log is append-only, so they
are created with it rather than changed afterwards)."""

import datetime
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from access.models import Breach, CommitteeAccessRequest, UnusualAccessFinding
from access.roles import Role
from access.services import breaches, grants
from access.services.unusual_access import check_unusual_access, daily_unusual_access_check
from tests.factories import (
    ContactRecordFactory,
    EmergencyAccessFactory,
    PatchFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def read(user, obj, when):
    return LogEntry.objects.log_create(
        obj, force_log=True, action=LogEntry.Action.ACCESS, changes={}, actor=user, timestamp=when
    )


def officer_with_history(patch):
    officer = user_with_role(Role.HOUSING_OFFICER)
    officer.date_joined = at(DAY - datetime.timedelta(days=90), 9)
    officer.save(update_fields=["date_joined"])
    patch.officers.add(officer)
    return officer


@pytest.fixture
def patch():
    return PatchFactory()


@pytest.fixture
def contacts(patch):
    """Forty records in the patch: contact records about one tenant."""
    tenant = tenant_in_patch(patch)
    return [ContactRecordFactory(person=tenant) for _ in range(40)]


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD, email="dpo@tmo.example")


def history(user, records, per_day, days):
    for offset in range(1, days + 1):
        day = DAY - datetime.timedelta(days=offset)
        for index, record in enumerate(records[:per_day]):
            read(user, record, at(day, 10, index % 60))


def test_a_heavy_reader_is_raised_for_review_with_their_entries(patch, contacts):
    heavy = officer_with_history(patch)
    history(heavy, contacts, per_day=5, days=20)  # a usual day: 5 records (median of 28 days)
    today = [read(heavy, record, at(DAY, 11, index)) for index, record in enumerate(contacts)]
    read(heavy, contacts[0], at(DAY, 12))  # the same record twice counts once

    [breach] = check_unusual_access(day=DAY)
    finding = breach.finding
    assert breach.kind == Breach.Kind.UNUSUAL_ACCESS
    assert breach.status == Breach.Status.FOR_REVIEW
    assert breach.concerns_user == heavy
    assert breach.became_aware_at is None  # no clock until the DPO confirms it
    assert (finding.kind, finding.user, finding.day) == (
        UnusualAccessFinding.Kind.VOLUME,
        heavy,
        DAY,
    )
    assert finding.distinct_records == 40
    assert finding.baseline == 5
    assert set(finding.entry_ids) >= {entry.pk for entry in today}
    assert (
        LogEntry.objects.get_for_object(breach)
        .filter(additional_data__event="unusual_access_raised")
        .exists()
    )


def test_a_normal_reader_is_not_raised(patch, contacts):
    steady = officer_with_history(patch)
    history(steady, contacts, per_day=12, days=28)
    for index, record in enumerate(contacts[:35]):  # at least 30, but under 3 x 12
        read(steady, record, at(DAY, 11, index))
    quiet = officer_with_history(patch)
    for index, record in enumerate(contacts[:8]):
        read(quiet, record, at(DAY, 11, index))
    assert check_unusual_access(day=DAY) == []
    assert not Breach.objects.exists()


def test_an_out_of_scope_reader_is_raised_but_not_for_emergency_or_granted_reads(
    patch, contacts, dpo
):
    officer = officer_with_history(patch)
    read(officer, contacts[0], at(DAY, 9))  # their own patch: fine
    elsewhere = tenant_in_patch(PatchFactory(), last_name="Otherpatchperson")
    stray = read(officer, elsewhere, at(DAY, 9, 30))
    stray_contact = read(officer, ContactRecordFactory(person=elsewhere), at(DAY, 9, 31))

    # Under emergency access: the person and their linked records are expected.
    emergency_person = tenant_in_patch(PatchFactory())
    EmergencyAccessFactory(
        user=officer,
        target=emergency_person,
        started_at=at(DAY, 10),
        expires_at=at(DAY, 14),
    )
    read(officer, emergency_person, at(DAY, 10, 5))
    read(officer, ContactRecordFactory(person=emergency_person), at(DAY, 10, 6))
    # The same person after the emergency access ended is not.
    late = read(officer, emergency_person, at(DAY, 15))

    [breach] = check_unusual_access(day=DAY)
    finding = breach.finding
    assert finding.kind == UnusualAccessFinding.Kind.OUT_OF_SCOPE
    assert finding.user == officer
    assert sorted(finding.entry_ids) == sorted([stray.pk, stray_contact.pk, late.pk])
    assert finding.distinct_records == 3
    assert "outside their usual scope" in breach.summary


def test_committee_reads_under_a_live_grant_are_expected_and_others_are_not(patch):
    officer = user_with_role(Role.HOUSING_OFFICER)
    patch.officers.add(officer)
    senior = user_with_role(Role.SENIOR_OFFICER)
    member = user_with_role(Role.COMMITTEE_MEMBER)
    granted = tenant_in_patch(patch)
    other = tenant_in_patch(patch)
    request = grants.committee_access_request(
        requested_by=officer,
        decision="Item 2",
        reason="Needed for the decision.",
        members=[member],
        items=[("records.person", granted.pk)],
    )
    grants.committee_access_approve(decided_by=senior, request=request, reason="Yes.")
    CommitteeAccessRequest.objects.filter(pk=request.pk).update(
        decided_at=at(DAY, 9), expires_at=at(DAY, 18)
    )
    read(member, granted, at(DAY, 10))
    outside = read(member, other, at(DAY, 10, 30))
    [breach] = check_unusual_access(day=DAY)
    assert breach.finding.entry_ids == [outside.pk]


def test_the_scope_is_the_policy_without_a_live_emergency_access(patch, contacts):
    """An emergency access running when the check runs must not make yesterday's reads of that
    person's linked records look in scope (linked models read the person's working scope)."""
    officer = officer_with_history(patch)
    elsewhere = tenant_in_patch(PatchFactory())
    contact = ContactRecordFactory(person=elsewhere)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    entry = read(officer, contact, at(yesterday, 11))
    EmergencyAccessFactory(user=officer, target=elsewhere)  # live now, started today
    [breach] = check_unusual_access(day=yesterday)
    assert breach.finding.entry_ids == [entry.pk]


def test_no_finding_is_raised_twice(patch, contacts):
    officer = officer_with_history(patch)
    read(officer, tenant_in_patch(PatchFactory()), at(DAY, 9))
    assert len(check_unusual_access(day=DAY)) == 1
    assert check_unusual_access(day=DAY) == []
    out = StringIO()
    call_command("check_unusual_access", "--date", DAY.isoformat(), stdout=out)
    assert "0 new findings" in out.getvalue()
    assert Breach.objects.count() == 1


def test_the_command_and_the_daily_job(patch, settings):
    assert "access.services.unusual_access.daily_unusual_access_check" in settings.DAILY_JOBS
    officer = officer_with_history(patch)
    read(officer, tenant_in_patch(PatchFactory()), at(DAY, 9))
    now = at(DAY + datetime.timedelta(days=1), 2)
    assert daily_unusual_access_check(now=now) == "unusual access on 2026-03-02: 1 findings"
    out = StringIO()
    call_command("check_unusual_access", "--date", "2026-03-01", stdout=out)
    assert "Checked 2026-03-01: 0 new findings." in out.getvalue()


def test_the_dpo_reviews_a_finding_and_confirming_it_starts_the_clock(client, patch, dpo):
    officer = officer_with_history(patch)
    stranger = tenant_in_patch(PatchFactory(), last_name="Strangerperson")
    read(officer, stranger, at(DAY, 9))
    [breach] = check_unusual_access(day=DAY)
    client.force_login(dpo)
    body = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert "Records outside their usual scope" in body
    assert "Record %s" % stranger.pk in body
    assert "Clock not started" in body
    with pytest.raises(PermissionDenied):
        breaches.acknowledge_breach(user=officer, breach=breach, decision="open")
    response = client.post(
        reverse("breach_acknowledge", args=[breach.pk]), {"decision": "open", "notes": ""}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.status == Breach.Status.OPEN
    assert breach.became_aware_at is not None
    assert breach.clock().running


def test_a_finding_about_the_dpo_is_for_someone_else(patch, dpo):
    dpo.date_joined = at(DAY - datetime.timedelta(days=90), 9)
    dpo.save(update_fields=["date_joined"])
    patch_people = [tenant_in_patch(patch) for _ in range(31)]
    for index, person in enumerate(patch_people):
        read(dpo, person, at(DAY, 9, index))
    [breach] = check_unusual_access(day=DAY)
    assert breach.finding.kind == UnusualAccessFinding.Kind.VOLUME
    with pytest.raises(ValidationError, match="Someone else"):
        breaches.acknowledge_breach(user=dpo, breach=breach, decision="open")
