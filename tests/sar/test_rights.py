"""Carrying rectification, erasure and restriction through to the records: what the map says
about erasing each row, erasing all or nothing with the files, corrections through the
register's service, the restriction marker everywhere, and the record of what was done."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records import services as records_services
from records.forms.people import MarkerForm
from records.models import ContactRecord, Document, Marker, Person
from sar.models import RightsAction, SubjectAccessRequest
from sar.services import rights
from tests.factories import (
    AuthorisedRepresentativeFactory,
    ContactRecordFactory,
    HouseholdMemberFactory,
    PatchFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import filestore
from tmo.retention import RetentionStatus, add_years, retention_status

pytestmark = pytest.mark.django_db

Kind = SubjectAccessRequest.Kind
Action = RightsAction.Action
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORD = "correct horse battery staple"


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def world():
    patch = PatchFactory()
    person = tenant_in_patch(patch, first_name="Ada", last_name="Quist", phone="07700 900111")
    other = tenant_in_patch(patch, first_name="Bram", last_name="Other")
    old = ContactRecordFactory(person=person, subject="Old noise complaint")
    ContactRecord.objects.filter(pk=old.pk).update(occurred_at=ago(8 * 366))
    recent = ContactRecordFactory(person=person, subject="Asked about rent")
    others_contact = ContactRecordFactory(person=other, subject="Bram's own call")
    authority = AuthorisedRepresentativeFactory(person=person)
    senior = user_with_role(Role.SENIOR_OFFICER)
    document = records_services.document_upload(
        uploaded_by=senior,
        person=person,
        upload=SimpleUploadedFile("letter.pdf", PDF),
        title="Old letter",
        kind=Document.Kind.OTHER,
    )
    request = SubjectAccessRequestFactory(person=person, kind=Kind.ERASURE, handler=senior)
    return {
        "person": person,
        "other": other,
        "old": old,
        "recent": recent,
        "others_contact": others_contact,
        "authority": authority,
        "document": document,
        "senior": senior,
        "request": request,
    }


def by_record(rows):
    return {row.key: row for row in rows}


class TestRetention:
    def test_a_leap_day_period_ends_on_the_28th(self):
        assert add_years(datetime.date(2024, 2, 29), 6) == datetime.date(2030, 2, 28)
        assert add_years(datetime.date(2024, 3, 1), 6) == datetime.date(2030, 3, 1)

    def test_status_follows_the_field_the_map_names(self, world):
        entry = ContactRecord.personal_data
        old = ContactRecord.objects.get(pk=world["old"].pk)
        assert retention_status(entry, old).expired(TODAY)
        assert not retention_status(entry, world["recent"]).expired(TODAY)
        tenancy = world["person"].household_memberships.get().tenancy
        # No end date yet: the tenancy is running and its period has not begun.
        assert retention_status(type(tenancy).personal_data, tenancy) == RetentionStatus(
            running=True
        )
        # A rule with no date field cannot be worked out: a person judges.
        assert not retention_status(Person.personal_data, world["person"]).known


class TestErasureRows:
    def test_every_row_about_the_person_with_what_the_map_says(self, world):
        rows = by_record(rights.erasure_rows(world["person"]))
        old = rows["records.contactrecord:%s" % world["old"].pk]
        assert old.suggestion == rights.Suggestion.ERASE
        assert "retention period ended" in old.grounds
        assert rows["records.contactrecord:%s" % world["recent"].pk].suggestion == "judge"
        authority = rows["records.authorisedrepresentative:%s" % world["authority"].pk]
        assert authority.suggestion == rights.Suggestion.KEEP
        assert "Art. 17(3)(b)" in authority.grounds
        tenancy = world["person"].household_memberships.get().tenancy
        assert rows["records.tenancy:%s" % tenancy.pk].suggestion == rights.Suggestion.KEEP
        assert "records.document:%s" % world["document"].pk in rows

    def test_the_register_entry_sar_rows_and_other_people_are_left_out(self, world):
        keys = set(by_record(rights.erasure_rows(world["person"])))
        assert not any(key.startswith(("records.person:", "sar.")) for key in keys)
        assert "records.contactrecord:%s" % world["others_contact"].pk not in keys


class TestErase:
    def erase(self, world, keys, **kwargs):
        values = {
            "request": world["request"],
            "erased_by": world["senior"],
            "erase": keys,
            "reason": "Asked for the old complaint and letter to go; no longer needed.",
        }
        values.update(kwargs)
        return rights.rights_erase(**values)

    def test_erases_the_chosen_rows_and_their_files_and_records_the_rest(
        self, world, django_capture_on_commit_callbacks
    ):
        document = world["document"]
        assert filestore.document_path(document.storage_name).exists()
        keys = [
            "records.contactrecord:%s" % world["old"].pk,
            "records.document:%s" % document.pk,
        ]
        with django_capture_on_commit_callbacks(execute=True):
            actions = self.erase(world, keys)
        assert not ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert not Document.objects.filter(pk=document.pk).exists()
        assert not filestore.document_path(document.storage_name).exists()
        assert ContactRecord.objects.filter(pk=world["recent"].pk).exists()
        assert ContactRecord.objects.filter(pk=world["others_contact"].pk).exists()
        erased = [a for a in actions if a.action == Action.ERASED]
        kept = [a for a in actions if a.action == Action.KEPT]
        assert {(a.model_label, a.object_id) for a in erased} == {
            ("records.contactrecord", str(world["old"].pk)),
            ("records.document", str(document.pk)),
        }
        authority = next(a for a in kept if a.model_label == "records.authorisedrepresentative")
        assert "The law requires us to keep it" in authority.reason
        assert "no longer needed" in authority.reason
        # The deletions are in the audit log, as well as the request's own event.
        assert LogEntry.objects.filter(
            action=LogEntry.Action.DELETE, object_pk=str(world["old"].pk)
        ).exists()
        assert LogEntry.objects.filter(
            additional_data__event="sar_records_erased", object_pk=str(world["request"].pk)
        ).exists()

    def test_nothing_goes_if_one_row_would_take_someone_elses_data_with_it(self, world):
        tenancy = world["person"].household_memberships.get().tenancy
        lodger = HouseholdMemberFactory(tenancy=tenancy, relationship="other")
        keys = ["records.contactrecord:%s" % world["old"].pk, "records.tenancy:%s" % tenancy.pk]
        with pytest.raises(ValidationError) as error:
            self.erase(world, keys)
        assert "erase" in error.value.message_dict
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()
        assert type(lodger).objects.filter(pk=lodger.pk).exists()
        assert not RightsAction.objects.exists()

    def test_only_a_senior_officer_or_the_dpo_erases(self, world):
        officer = user_with_role(Role.HOUSING_OFFICER)
        with pytest.raises(ValidationError):
            self.erase(world, [], erased_by=officer)

    @pytest.mark.parametrize(
        "change,message",
        [
            ({"kind": Kind.ACCESS}, "does not ask for anything to be erased"),
            ({"status": "awaiting_identity"}, "Confirm the requester's identity"),
            ({"status": "completed"}, "closed"),
        ],
    )
    def test_refused_unless_the_request_is_an_open_verified_erasure(self, world, change, message):
        SubjectAccessRequest.objects.filter(pk=world["request"].pk).update(**change)
        world["request"].refresh_from_db()
        with pytest.raises(ValidationError) as error:
            self.erase(world, ["records.contactrecord:%s" % world["old"].pk])
        assert message in " ".join(error.value.messages)
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()

    def test_a_row_not_about_the_person_cannot_be_named(self, world):
        with pytest.raises(ValidationError):
            self.erase(world, ["records.contactrecord:%s" % world["others_contact"].pk])
        assert ContactRecord.objects.filter(pk=world["others_contact"].pk).exists()

    def test_a_reason_is_required(self, world):
        with pytest.raises(ValidationError) as error:
            self.erase(world, [], reason="  ")
        assert "reason" in error.value.message_dict


class TestEraseViews:
    def url(self, world):
        return reverse("sar_rights_erase", args=[world["request"].pk])

    def test_the_page_lists_the_persons_rows_only(self, client, world):
        client.force_login(world["senior"])
        response = client.get(self.url(world))
        body = response.content.decode()
        assert "Old noise complaint" in body
        assert "Bram&#x27;s own call" not in body and "Bram's own call" not in body
        assert 'value="records.contactrecord:%s" checked' % world["old"].pk in body

    def test_a_wrong_password_erases_nothing(self, client, world):
        client.force_login(world["senior"])
        key = "records.contactrecord:%s" % world["old"].pk
        response = client.post(
            self.url(world), {"erase": [key], "reason": "No longer needed.", "password": "nope"}
        )
        assert response.status_code == 400
        assert "The password is not right" in response.content.decode()
        assert ContactRecord.objects.filter(pk=world["old"].pk).exists()

    def test_erasing_through_the_page(self, client, world):
        client.force_login(world["senior"])
        key = "records.contactrecord:%s" % world["old"].pk
        response = client.post(
            self.url(world), {"erase": [key], "reason": "No longer needed.", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert not ContactRecord.objects.filter(pk=world["old"].pk).exists()
        page = client.get(reverse("sar_request_detail", args=[world["request"].pk]))
        body = page.content.decode()
        assert "Carrying it out in the records" in body
        assert "Erased" in body
        # The completion form starts from what was done, for the handler to edit.
        assert "We erased 1 record about you." in body

    def test_outside_scope_is_404_and_a_housing_officer_is_refused(self, client, world):
        client.force_login(user_with_role(Role.SENIOR_OFFICER))
        other = SubjectAccessRequestFactory(kind=Kind.ERASURE)
        other.handler = None
        client.force_login(user_with_role(Role.HOUSING_OFFICER))
        response = client.get(reverse("sar_rights_erase", args=[other.pk]))
        assert response.status_code in {403, 404}
        assert other.person.full_name not in response.content.decode()


class TestRectify:
    def test_the_correction_goes_through_the_register_and_names_the_fields(self, client, world):
        request = world["request"]
        SubjectAccessRequest.objects.filter(pk=request.pk).update(kind=Kind.RECTIFICATION)
        client.force_login(world["senior"])
        url = reverse("sar_rights_rectify", args=[request.pk])
        page = client.get(url)
        assert page.status_code == 200
        form = page.context["form"]
        data = {name: value for name, value in form.initial.items() if value is not None}
        data.update(
            {
                "date_of_birth_0": 17,
                "date_of_birth_1": 5,
                "date_of_birth_2": 1980,
                "phone": "07700 900999",
                "reason": "The tenant showed a phone bill with the new number.",
            }
        )
        data.pop("date_of_birth", None)
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        person = Person.objects.get(pk=world["person"].pk)
        assert person.phone == "07700 900999"
        assert person.phone_confirmed_on == TODAY
        action = RightsAction.objects.get(request=request)
        assert action.action == Action.RECTIFIED
        assert action.changed_fields == "Phone"
        assert "07700" not in action.changed_fields

    def test_no_change_is_refused_with_a_message(self, world):
        SubjectAccessRequest.objects.filter(pk=world["request"].pk).update(kind=Kind.RECTIFICATION)
        world["request"].refresh_from_db()
        with pytest.raises(ValidationError) as error:
            rights.rights_rectify(
                request=world["request"],
                rectified_by=world["senior"],
                person=Person.objects.get(pk=world["person"].pk),
                reason="Checked.",
            )
        assert "Nothing was changed" in error.value.messages[0]

    def test_an_erasure_request_does_not_open_the_correction_page(self, client, world):
        client.force_login(world["senior"])
        response = client.get(reverse("sar_rights_rectify", args=[world["request"].pk]))
        assert response.status_code == 302


class TestRestriction:
    @pytest.fixture
    def restricted(self, world):
        SubjectAccessRequest.objects.filter(pk=world["request"].pk).update(kind=Kind.RESTRICTION)
        world["request"].refresh_from_db()
        rights.rights_restrict(
            request=world["request"],
            restricted_by=world["senior"],
            reason="While we check the disputed rent arrears.",
        )
        return world

    def test_the_marker_shows_on_the_person_page(self, client, restricted):
        person = restricted["person"]
        assert Person.objects.get(pk=person.pk).processing_restricted()
        client.force_login(restricted["senior"])
        body = client.get(reverse("person_detail", args=[person.pk])).content.decode()
        assert "Processing restricted" in body

    def test_restricting_twice_is_refused(self, restricted):
        with pytest.raises(ValidationError):
            rights.rights_restrict(
                request=restricted["request"], restricted_by=restricted["senior"], reason="Again."
            )

    def test_staff_cannot_set_or_end_it_through_the_marker_form(self):
        kinds = {value for value, _ in MarkerForm().fields["kind"].choices}
        assert Marker.Kind.PROCESSING_RESTRICTED not in kinds

    def test_lifting_needs_the_person_told_first(self, restricted):
        with pytest.raises(ValidationError) as error:
            rights.rights_restriction_lift(
                request=restricted["request"],
                lifted_by=restricted["senior"],
                reason="Arrears confirmed correct.",
                told_on=TODAY + datetime.timedelta(days=1),
            )
        assert "told_on" in error.value.message_dict
        rights.rights_restriction_lift(
            request=restricted["request"],
            lifted_by=restricted["senior"],
            reason="Arrears confirmed correct.",
            told_on=TODAY,
        )
        assert not Person.objects.get(pk=restricted["person"].pk).processing_restricted()
        assert [a.action for a in restricted["request"].rights_actions.all()] == [
            Action.RESTRICTED,
            Action.RESTRICTION_LIFTED,
        ]
        summary = rights.outcome_summary(restricted["request"])
        assert "Processing restricted" in summary and "Restriction lifted" in summary

    def test_a_housing_officer_cannot_lift_it(self, restricted):
        with pytest.raises(ValidationError):
            rights.rights_restriction_lift(
                request=restricted["request"],
                lifted_by=user_with_role(Role.HOUSING_OFFICER),
                reason="Done.",
                told_on=TODAY,
            )
        assert Person.objects.get(pk=restricted["person"].pk).processing_restricted()


class TestRestrictionViews:
    def test_a_missing_reason_is_shown_and_nothing_restricted(self, client, world):
        SubjectAccessRequest.objects.filter(pk=world["request"].pk).update(kind=Kind.RESTRICTION)
        client.force_login(world["senior"])
        response = client.post(reverse("sar_rights_restrict", args=[world["request"].pk]), {})
        assert response.status_code == 400
        assert "Enter why processing is restricted, and until when" in response.content.decode()
        assert not Person.objects.get(pk=world["person"].pk).processing_restricted()

    def test_lifting_through_the_page(self, client, world):
        SubjectAccessRequest.objects.filter(pk=world["request"].pk).update(kind=Kind.RESTRICTION)
        client.force_login(world["senior"])
        lift = reverse("sar_rights_lift", args=[world["request"].pk])
        # Nothing to lift yet: back to the request.
        assert client.get(lift).status_code == 302
        client.post(
            reverse("sar_rights_restrict", args=[world["request"].pk]),
            {"reason": "While the arrears are checked."},
        )
        tomorrow = TODAY + datetime.timedelta(days=1)
        early = client.post(
            lift,
            {
                "reason": "Checked.",
                "told_on_0": tomorrow.day,
                "told_on_1": tomorrow.month,
                "told_on_2": tomorrow.year,
            },
        )
        assert early.status_code == 400
        assert Person.objects.get(pk=world["person"].pk).processing_restricted()
        done = client.post(
            lift,
            {
                "reason": "Checked.",
                "told_on_0": TODAY.day,
                "told_on_1": TODAY.month,
                "told_on_2": TODAY.year,
            },
        )
        assert done.status_code == 302
        assert not Person.objects.get(pk=world["person"].pk).processing_restricted()
