"""Collection reads the personal-data map: every row about the person, in plain words."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from records.models import ContactRecord
from sar import collection
from tests.factories import (
    ContactRecordFactory,
    DisclosureDecisionFactory,
    DisclosureRequestFactory,
    MarkerFactory,
    PersonFactory,
    user_with_role,
)


def _rows(person, **kwargs):
    return {(r.model_label, r.row.pk): r for r in collection.collect(person, **kwargs)}


def _fields(row):
    return {f["name"]: f["value"] for f in row.fields}


def test_rows_come_from_every_app_in_plain_words(db):
    person = PersonFactory(
        first_name="Dana", ni_number="QQ123456C", preferred_contact_method="email"
    )
    contact = ContactRecordFactory(person=person, notes="Asked about the boiler.")
    marker = MarkerFactory(person=person)
    decision = DisclosureDecisionFactory(request=DisclosureRequestFactory(person=person))
    rows = _rows(person)
    own = _fields(rows[("records.person", person.pk)])
    assert own["first_name"] == "Dana" and own["ni_number"] == "QQ123456C"  # decrypted
    assert own["preferred_contact_method"] == "Email"  # the choice's label
    assert own["date_of_birth"] == "17 May 1980"
    # Blind indexes and how the record is kept never appear.
    assert not {"ni_number_index", "email_index", "created_at", "email_confirmed_on"} & set(own)
    notes = _fields(rows[("records.contactrecord", contact.pk)])
    assert notes["notes"] == "Asked about the boiler." and notes["channel"] == "Phone"
    assert "person" not in notes and "recorded_at" not in notes
    assert ("records.marker", marker.pk) in rows
    assert ("disclosures.disclosuredecision", decision.pk) in rows
    assert "pack_storage_name" not in _fields(rows[("disclosures.disclosuredecision", decision.pk)])


def test_nothing_about_anyone_else_is_collected(db):
    person, other = PersonFactory(), PersonFactory()
    ContactRecordFactory(person=other)
    assert all(
        getattr(r.row, "person_id", person.pk) == person.pk for r in collection.collect(person)
    )
    assert ("records.person", other.pk) not in _rows(person)


def test_the_date_range_uses_the_entry_s_own_date(db):
    person = PersonFactory()
    old = ContactRecordFactory(
        person=person, occurred_at=timezone.now() - datetime.timedelta(days=400)
    )
    new = ContactRecordFactory(person=person)
    rows = _rows(person, date_from=timezone.localdate() - datetime.timedelta(days=30))
    assert ("records.contactrecord", new.pk) in rows
    assert ("records.contactrecord", old.pk) not in rows
    assert ("records.person", person.pk) in rows  # no date of its own: kept
    assert ContactRecord.objects.count() == 2


def test_rows_the_map_holds_back_are_flagged(db):
    person = PersonFactory()
    secret = DisclosureDecisionFactory(
        request=DisclosureRequestFactory(person=person), person_told="not_told_crime"
    )
    told = DisclosureDecisionFactory(request=DisclosureRequestFactory(person=person))
    rows = _rows(person)
    assert rows[("disclosures.disclosuredecision", secret.pk)].withheld
    assert rows[("disclosures.disclosurerequest", secret.request_id)].withheld
    assert not rows[("disclosures.disclosuredecision", told.pk)].withheld


def test_sar_s_own_working_rows_are_not_collected():
    labels = {e.model._meta.label_lower for e in collection.collectable_entries()}
    assert not labels & collection.OWN_MODELS
    assert "sar.subjectaccessrequest" in labels


def test_related_rows_are_named_once_however_many_records_point_at_them(db):
    """A heavy subject's thousands of records name the same few officers: one query per kind
    of related row, not one per record."""
    person = PersonFactory()
    officer = user_with_role("housing_officer", first_name="Olu", last_name="Officer")

    def queries_for(n):
        ContactRecordFactory.create_batch(n, person=person, recorded_by=officer)
        with CaptureQueriesContext(connection) as queries:
            rows = collection.collect(person)
        return len(queries), rows

    few, _ = queries_for(2)
    many, rows = queries_for(30)
    assert many == few
    contacts = [r for r in rows if r.model_label == "records.contactrecord"]
    assert len(contacts) == 32
    assert {_fields(r)["recorded_by"] for r in contacts} == {"Olu Officer"}
