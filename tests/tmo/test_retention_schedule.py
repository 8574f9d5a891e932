"""The retention schedule: seeded from the data map, changed only by the data protection lead,
audited, and followed by everything that reads retention (the sweep, the erasure screen)."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from access.services import retention as services
from records.models import ContactRecord, Document, HouseholdMember, Person, Tenancy
from sar.models import ClockStop
from sar.services import rights
from tests.factories import (
    ContactRecordFactory,
    PersonFactory,
    SubjectAccessRequestFactory,
    user_with_role,
)
from tmo import datamap, retention
from tmo.retention_models import DisposalCandidate, RetentionRule

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def rule(model) -> RetentionRule:
    return retention.ensure_schedule()[model._meta.label_lower]


def change(dpo, model, **values) -> RetentionRule:
    current = rule(model)
    fields = {
        "years": current.years,
        "after": current.after,
        "date_field": current.date_field,
        "action": current.action,
        "extra_fields": current.extra_fields,
        "notes": current.notes,
    }
    fields.update(values)
    return services.update_rule(changed_by=dpo, rule=current, **fields)


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD)


class TestSeed:
    def test_every_kind_of_personal_record_has_one_rule(self):
        rules = retention.ensure_schedule()
        labels = {entry.model._meta.label_lower for entry in datamap.personal_entries()}
        assert labels <= set(rules)
        assert RetentionRule.objects.filter(model_label__in=labels).count() == len(labels)

    def test_seeded_with_the_map_defaults_and_sensible_actions(self):
        tenancy = rule(Tenancy)
        assert (tenancy.years, tenancy.date_field, tenancy.action) == (6, "end_date", "anonymise")
        assert "access_notes" in tenancy.extra_fields
        member = rule(HouseholdMember)
        assert (member.years, member.date_field, member.action) == (6, "end_date", "delete")
        contact = rule(ContactRecord)
        assert (contact.years, contact.date_field, contact.action) == (6, "occurred_at", "delete")
        # The register of people is anonymised, never deleted, and has no date of its own.
        person = rule(Person)
        assert person.by_hand and person.action == "anonymise"
        # A path through a foreign key counts a request's pieces from its completion.
        assert rule(ClockStop).date_field == "request__completed_on"

    def test_the_migration_seeded_the_schedule(self):
        # No rule is created on reading: the migration wrote them all.
        count = RetentionRule.objects.count()
        retention.ensure_schedule()
        assert RetentionRule.objects.count() == count

    def test_every_seeded_date_field_is_a_real_date(self):
        for entry in datamap.personal_entries():
            seeded = rule(entry.model)
            if seeded.date_field:
                assert retention.valid_date_path(entry.model, seeded.date_field), entry.model


class TestScheduleFor:
    def test_follows_the_rule_in_force(self, dpo):
        assert retention.schedule_for(ContactRecord.personal_data).years == 6
        change(dpo, ContactRecord, years=2, after="the contact, for test")
        now = retention.schedule_for(ContactRecord.personal_data)
        assert (now.years, now.after, now.field) == (2, "the contact, for test", "occurred_at")

    def test_the_erasure_screen_follows_the_schedule(self, dpo):
        person = PersonFactory()
        contact = ContactRecordFactory(person=person)
        ContactRecord.objects.filter(pk=contact.pk).update(occurred_at=ago(3 * 366))
        key = "records.contactrecord:%s" % contact.pk

        def suggestion():
            return {row.key: row for row in rights.erasure_rows(person)}[key].suggestion

        assert suggestion() == rights.Suggestion.JUDGE
        change(dpo, ContactRecord, years=2)
        assert suggestion() == rights.Suggestion.ERASE

    def test_a_path_through_a_foreign_key(self):
        request = SubjectAccessRequestFactory(
            status="completed", completed_on=datetime.date(2020, 3, 2)
        )
        stop = ClockStop.objects.create(
            request=request,
            stopped_on=datetime.date(2020, 2, 1),
            reason="Asked which tenancy",
            stopped_by=user_with_role(Role.SENIOR_OFFICER),
        )
        status = retention.retention_status(ClockStop.personal_data, stop)
        assert status.ends_on == datetime.date(2022, 3, 2)
        assert status.expired(TODAY)
        # A request still open: its pieces' period has not begun.
        open_request = SubjectAccessRequestFactory()
        open_stop = ClockStop.objects.create(
            request=open_request,
            stopped_on=TODAY,
            reason="Asked which tenancy",
            stopped_by=stop.stopped_by,
        )
        assert retention.retention_status(ClockStop.personal_data, open_stop).running

    def test_date_choices_offer_own_and_linked_dates(self):
        choices = dict(retention.date_choices(ClockStop))
        assert "stopped_on" in choices
        assert choices["request__completed_on"].startswith("Request: ")
        # Encrypted dates cannot be compared in the database and are not offered.
        assert "date_of_birth" not in dict(retention.date_choices(Person))


class TestUpdateRule:
    def test_only_the_dpo_changes_the_schedule(self):
        senior = user_with_role(Role.SENIOR_OFFICER)
        with pytest.raises(PermissionDenied):
            change(senior, ContactRecord, years=1)
        assert rule(ContactRecord).years == 6

    @pytest.mark.parametrize(
        "values,field",
        [
            ({"years": 101}, "years"),
            ({"after": "  "}, "after"),
            ({"date_field": "subject"}, "date_field"),
            ({"date_field": "person__date_of_birth"}, "date_field"),
            ({"action": "shred"}, "action"),
            ({"extra_fields": ["notes_that_do_not_exist"]}, "extra_fields"),
        ],
    )
    def test_bad_values_are_refused_and_change_nothing(self, dpo, values, field):
        before = LogEntry.objects.count()
        with pytest.raises(ValidationError) as error:
            change(dpo, ContactRecord, **values)
        assert field in error.value.message_dict
        current = rule(ContactRecord)
        assert (current.years, current.date_field, current.action) == (6, "occurred_at", "delete")
        assert LogEntry.objects.count() == before

    def test_every_change_is_audited_with_who_and_what(self, dpo):
        updated = change(dpo, Document, date_field="uploaded_at", years=7)
        assert updated.changed_by == dpo
        entry = LogEntry.objects.get(additional_data__event="retention_rule_changed")
        assert entry.actor == dpo
        assert entry.additional_data["model_label"] == "records.document"
        assert entry.additional_data["changed"]["years"] == [6, 7]
        assert entry.additional_data["changed"]["date_field"] == ["", "uploaded_at"]

    def test_the_schedule_change_moves_what_the_sweep_finds(self, dpo):
        contact = ContactRecordFactory()
        ContactRecord.objects.filter(pk=contact.pk).update(occurred_at=ago(3 * 366))
        key = ("records.contactrecord", str(contact.pk))

        def swept():
            result = services.sweep()
            if result.review is None:
                return set()
            return {
                c.key
                for c in result.review.candidates.filter(status=DisposalCandidate.Status.PROPOSED)
            }

        assert key not in swept()
        change(dpo, ContactRecord, years=2)
        assert key in swept()
        change(dpo, ContactRecord, years=6)
        assert key not in swept()
        assert not DisposalCandidate.objects.filter(model_label=key[0], object_id=key[1]).exists()

    def test_rules_reviewed_by_hand_are_skipped_and_named(self, dpo):
        result = services.sweep()
        assert "records.person" in result.by_hand
        assert "reviewed by hand" in result.summary()
        change(dpo, Person, date_field="created_at", years=0)
        assert "records.person" not in services.sweep().by_hand


class TestAnonymisedFields:
    def test_a_person_loses_every_detail_that_names_or_reaches_them(self):
        fields = set(retention.anonymised_fields(Person.personal_data))
        assert {"first_name", "last_name", "email", "phone", "ni_number", "date_of_birth"} <= fields
        assert "preferred_contact_method" not in fields  # kept for the figures

    def test_extra_fields_come_from_the_rule(self):
        entry = Tenancy.personal_data
        assert "access_notes" not in retention.anonymised_fields(entry)
        assert "access_notes" in retention.anonymised_fields(entry, ["access_notes"])


class TestPages:
    def test_the_dpo_and_senior_officers_read_the_schedule(self, client):
        for role in (Role.DATA_PROTECTION_LEAD, Role.SENIOR_OFFICER):
            user = user_with_role(role)
            client.force_login(user)
            response = client.get(reverse("retention_schedule"))
            body = response.content.decode()
            assert response.status_code == 200
            assert "Tenancy" in body and "6 years after the tenancy ends" in body
            assert "Reviewed by hand" in body
            edit = reverse("retention_rule_edit", args=[rule(Tenancy).pk])
            assert (edit in body) == (role == Role.DATA_PROTECTION_LEAD)

    @pytest.mark.parametrize(
        "role", [Role.SENIOR_OFFICER, Role.HOUSING_OFFICER, Role.COMMITTEE_MEMBER]
    )
    def test_only_the_dpo_edits_a_rule(self, client, role):
        client.force_login(user_with_role(role))
        url = reverse("retention_rule_edit", args=[rule(ContactRecord).pk])
        assert client.get(url).status_code == 403
        response = client.post(url, {"years": "1", "after": "x", "action": "delete"})
        assert response.status_code == 403
        assert rule(ContactRecord).years == 6

    def test_the_dpo_changes_a_rule_through_the_form(self, client, dpo):
        client.force_login(dpo)
        url = reverse("retention_rule_edit", args=[rule(Document).pk])
        page = client.get(url)
        assert page.status_code == 200
        assert "None: reviewed by hand" in page.content.decode()
        response = client.post(
            url,
            {
                "years": "7",
                "after": "the document is uploaded",
                "date_field": "uploaded_at",
                "action": "delete",
                "notes": "Limitation Act 1980: six years, plus one.",
            },
        )
        assert response.status_code == 302
        saved = rule(Document)
        assert (saved.years, saved.date_field, saved.changed_by) == (7, "uploaded_at", dpo)

    @pytest.mark.assurance
    def test_the_second_of_two_rule_edits_is_refused_and_told_what_the_first_saved(self, dpo):
        from django.test import Client

        from tests.assurance import record
        from tests.records.test_faults import drawn_version
        from tmo.concurrency import STALE_MESSAGE

        first, second = Client(), Client()
        first.force_login(dpo)
        second.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
        url = reverse("retention_rule_edit", args=[rule(Document).pk])
        first_version = drawn_version(first.get(url).content.decode())
        second_version = drawn_version(second.get(url).content.decode())

        def values(version, years):
            return {
                "edit_version": version,
                "years": str(years),
                "after": "the document is uploaded",
                "date_field": "uploaded_at",
                "action": "delete",
                "notes": "",
            }

        assert first.post(url, values(first_version, 7)).status_code == 302
        refused = second.post(url, values(second_version, 2))
        body = " ".join(refused.content.decode().split())
        record("faults", scenarios=1, partial_states=int(rule(Document).years != 7))
        assert refused.status_code == 200
        assert STALE_MESSAGE.split(";")[0] in body
        assert "They saved Years kept: 7" in body
        assert rule(Document).years == 7 and rule(Document).changed_by == dpo

    def test_a_bad_form_shows_the_error_and_changes_nothing(self, client, dpo):
        client.force_login(dpo)
        url = reverse("retention_rule_edit", args=[rule(Document).pk])
        response = client.post(
            url, {"years": "-1", "after": "", "date_field": "title", "action": "delete"}
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "Years kept must be 0 or more" in body
        assert "Enter the event the period counts from" in body
        assert rule(Document).years == 6
