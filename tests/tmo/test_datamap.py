import pytest
from auditlog.models import LogEntry
from django.apps import apps

from tests.factories import (
    AuthorisedRepresentativeFactory,
    ContactRecordFactory,
    JobApplicationFactory,
    MarkerFactory,
    PersonFactory,
    SensitiveInformationFactory,
    StaffRecordFactory,
)
from tmo import datamap
from tmo.checks import every_model_is_mapped
from tmo.fields import encrypted_fields


def test_every_model_of_our_apps_is_mapped():
    assert datamap.unmapped_models() == []
    assert every_model_is_mapped(None) == []


def test_personal_models_say_how_to_find_a_persons_rows():
    for entry in datamap.personal_entries():
        if entry.category == datamap.Category.COMMERCIAL:
            continue
        assert entry.subject_paths or entry.subject_generic or entry.unlinked_reason, entry.model
        assert entry.retention is not None, entry.model


def test_every_encrypted_field_is_masked_in_audit():
    for model in apps.get_models():
        entry = datamap.entry_for(model)
        if entry is None:
            continue
        masked = set(entry.masked_fields())
        assert {f.name for f in encrypted_fields(model)} <= masked, model


@pytest.mark.django_db
def test_rows_about_finds_one_persons_rows():
    person = PersonFactory()
    mine = ContactRecordFactory(person=person)
    ContactRecordFactory()
    entry = datamap.entry_for(apps.get_model("records", "ContactRecord"))
    assert list(entry.rows_about(person)) == [mine]


@pytest.mark.django_db
def test_no_audit_row_holds_a_decrypted_sensitive_value():
    person = PersonFactory(
        ni_number="QQ 98 76 54 A",
        email="canary.email@mail.example",
        phone="07700 900999",
        bank_account_number="87654321",
        correspondence_address="17 Hidden Lane, Refuge Town",
    )
    SensitiveInformationFactory(person=person, details="CANARY-HEALTH-DETAIL")
    ContactRecordFactory(person=person, notes="CANARY-CONTACT-NOTE")
    MarkerFactory(person=person, details="CANARY-MARKER-DETAIL")
    AuthorisedRepresentativeFactory(person=person, contact_details="CANARY-REP-CONTACT")
    StaffRecordFactory(person=person, hr_notes="CANARY-HR-NOTE")
    JobApplicationFactory(person=person, interview_notes="CANARY-INTERVIEW")
    person.ni_number = "QQ 11 22 33 B"
    person.save()
    dump = "\n".join(
        str(row)
        for row in LogEntry.objects.values_list(
            "changes", "changes_text", "object_repr", "additional_data"
        )
    )
    assert dump
    for canary in (
        "QQ 98 76 54 A",
        "QQ 11 22 33 B",
        "canary.email@mail.example",
        "07700 900999",
        "87654321",
        "Hidden Lane",
        "CANARY",
        "Uses a wheelchair",
    ):
        assert canary not in dump, canary
    # Changes to sensitive fields are still recorded as having happened.
    assert LogEntry.objects.filter(changes__has_key="ni_number").count() >= 2


@pytest.mark.django_db
def test_role_changes_are_audited_without_the_password_hash():
    from django.contrib.auth.models import Group

    from access.roles import Role
    from tests.factories import UserFactory

    user = UserFactory()
    user.groups.add(Group.objects.get(name=Role.DATA_PROTECTION_LEAD))
    entries = LogEntry.objects.get_for_object(user)
    assert any(
        "groups" in (entry.changes or {}) and "data_protection_lead" in str(entry.changes["groups"])
        for entry in entries
    )
    assert not any("password" in (entry.changes or {}) for entry in entries)
