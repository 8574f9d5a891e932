import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records.models import ContactRecord, Marker, Person
from tests.factories import (
    AuthorisedRepresentativeFactory,
    ContactRecordFactory,
    MarkerFactory,
    PatchFactory,
    tenant_in_patch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(patch):
    return tenant_in_patch(patch, first_name="Grace", last_name="Adeyemi")


def contact_data(**overrides):
    now = timezone.localtime() - datetime.timedelta(minutes=10)
    data = {
        "occurred_on_0": now.day,
        "occurred_on_1": now.month,
        "occurred_on_2": now.year,
        "occurred_time": now.strftime("%H:%M"),
        "channel": ContactRecord.Channel.PHONE,
        "direction": ContactRecord.Direction.OUTBOUND,
        "topic": ContactRecord.Topic.REPAIR,
        "subject": "Called about the leak",
        "notes": "Plumber booked for Tuesday morning.",
    }
    data.update(overrides)
    return data


class TestTimeline:
    def test_lists_contacts_newest_first_and_audits_once(
        self, client, signed_in_officer, tenant, access_entries
    ):
        ContactRecordFactory(
            person=tenant,
            subject="Older contact",
            occurred_at=timezone.now() - datetime.timedelta(days=3),
        )
        ContactRecordFactory(person=tenant, subject="Newer contact", notes="Visible notes")
        response = client.get(reverse("person_timeline", args=[tenant.pk]))
        body = response.content.decode()
        assert response.status_code == 200
        assert "moj-timeline__item" in body
        assert body.index("Newer contact") < body.index("Older contact")
        assert "Visible notes" in body
        assert access_entries(tenant).count() == 1

    def test_filters(self, client, signed_in_officer, tenant):
        ContactRecordFactory(person=tenant, subject="About rent", topic=ContactRecord.Topic.RENT)
        ContactRecordFactory(
            person=tenant,
            subject="Mould report",
            topic=ContactRecord.Topic.DAMP_MOULD,
            case_reference="JOB-77",
        )
        ContactRecordFactory(
            person=tenant,
            subject="Long ago",
            topic=ContactRecord.Topic.RENT,
            occurred_at=timezone.make_aware(datetime.datetime(2020, 6, 1, 10, 0)),
        )
        url = reverse("person_timeline", args=[tenant.pk])
        body = client.get(url, {"topic": "rent"}).content.decode()
        assert "About rent" in body and "Long ago" in body and "Mould report" not in body
        body = client.get(url, {"case_reference": "job-77"}).content.decode()
        assert "Mould report" in body and "About rent" not in body
        body = client.get(
            url, {"date_from_0": "1", "date_from_1": "1", "date_from_2": "2021"}
        ).content.decode()
        assert "Long ago" not in body and "About rent" in body
        body = client.get(
            url, {"date_to_0": "2", "date_to_1": "6", "date_to_2": "2020"}
        ).content.decode()
        assert "Long ago" in body and "About rent" not in body
        body = client.get(url, {"direction": "outbound"}).content.decode()
        assert "No contacts match the filters" in body

    def test_bad_filter_dates_show_an_error(self, client, signed_in_officer, tenant):
        url = reverse("person_timeline", args=[tenant.pk])
        body = client.get(
            url, {"date_from_0": "31", "date_from_1": "2", "date_from_2": "2024"}
        ).content.decode()
        assert "There is a problem" in body
        assert "From must be a real date" in body

    def test_outsider_timeline_is_404(self, client, signed_in_officer):
        outsider = tenant_in_patch(PatchFactory(), last_name="Outsideton")
        ContactRecordFactory(person=outsider, subject="Secret subject")
        response = client.get(reverse("person_timeline", args=[outsider.pk]))
        assert response.status_code == 404
        assert "Outsideton" not in response.content.decode()
        assert "Secret subject" not in response.content.decode()

    def test_query_count_does_not_grow_with_rows(
        self, client, signed_in_officer, tenant, patch, django_assert_max_num_queries
    ):
        url = reverse("person_timeline", args=[tenant.pk])
        other = tenant_in_patch(patch)
        for _ in range(5):
            ContactRecordFactory(person=tenant, recorded_by=signed_in_officer)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for _ in range(30):
            ContactRecordFactory(person=other, recorded_by=signed_in_officer)
        url_other = reverse("person_timeline", args=[other.pk])
        with django_assert_max_num_queries(len(few)), CaptureQueriesContext(connection) as many:
            response = client.get(url_other)
        assert response.content.decode().count("moj-timeline__item") == 25
        assert len(many) == len(few)


class TestRecordContact:
    def test_records_a_contact(self, client, signed_in_officer, tenant):
        response = client.post(reverse("contact_record_create", args=[tenant.pk]), contact_data())
        assert response.status_code == 302
        assert response["Location"] == reverse("person_timeline", args=[tenant.pk])
        contact = ContactRecord.objects.get()
        assert contact.recorded_by == signed_in_officer
        assert contact.notes == "Plumber booked for Tuesday morning."
        followed = client.get(response["Location"]).content.decode()
        assert "Contact recorded for Grace Adeyemi" in followed

    def test_voicemail_refused_when_the_person_said_no_voicemail(
        self, client, signed_in_officer, tenant
    ):
        MarkerFactory(person=tenant, kind=Marker.Kind.NO_VOICEMAIL)
        response = client.post(
            reverse("contact_record_create", args=[tenant.pk]),
            contact_data(left_voicemail="on", subject="Left a message"),
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in body
        assert "has asked not to be contacted by a voicemail" in body
        assert 'value="Left a message"' in body  # the form is kept filled
        assert "Plumber booked for Tuesday morning." in body
        assert not ContactRecord.objects.exists()

    def test_unconfirmed_number_needs_confirming_on_the_call(
        self, client, signed_in_officer, tenant
    ):
        Person.objects.filter(pk=tenant.pk).update(phone_confirmed_on=datetime.date(2019, 1, 1))
        url = reverse("contact_record_create", args=[tenant.pk])
        body = client.post(url, contact_data()).content.decode()
        assert "has not been confirmed in the last 12 months" in body
        assert not ContactRecord.objects.exists()
        tenant.refresh_from_db()
        assert tenant.phone_confirmed_on == datetime.date(2019, 1, 1)

        response = client.post(url, contact_data(number_confirmed="on"))
        assert response.status_code == 302
        assert ContactRecord.objects.count() == 1
        tenant.refresh_from_db()
        assert tenant.phone_confirmed_on == timezone.localdate()

    def test_inbound_call_needs_no_confirmed_number(self, client, signed_in_officer, tenant):
        Person.objects.filter(pk=tenant.pk).update(phone_confirmed_on=None)
        response = client.post(
            reverse("contact_record_create", args=[tenant.pk]),
            contact_data(direction=ContactRecord.Direction.INBOUND),
        )
        assert response.status_code == 302

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"subject": ""}, "Enter a subject for the contact"),
            ({"channel": ""}, "Select how the contact happened"),
            ({"occurred_time": "25:99"}, "Enter a real time"),
            ({"occurred_on_2": str(timezone.localdate().year + 1)}, "must be in the past"),
            (
                {"channel": ContactRecord.Channel.EMAIL, "left_voicemail": "on"},
                "You can only leave a voicemail on a phone call",
            ),
        ],
    )
    def test_bad_input_saves_nothing(self, client, signed_in_officer, tenant, overrides, message):
        body = client.post(
            reverse("contact_record_create", args=[tenant.pk]), contact_data(**overrides)
        ).content.decode()
        assert message in body
        assert "govuk-error-summary" in body
        assert not ContactRecord.objects.exists()

    def test_tenancy_of_another_person_is_refused(self, client, signed_in_officer, tenant, patch):
        other = tenant_in_patch(patch)
        other_tenancy = other.household_memberships.get().tenancy
        body = client.post(
            reverse("contact_record_create", args=[tenant.pk]),
            contact_data(tenancy=other_tenancy.pk),
        ).content.decode()
        assert "Select a valid choice" in body
        assert not ContactRecord.objects.exists()

    def test_form_shows_markers_and_representatives(self, client, signed_in_officer, tenant):
        MarkerFactory(person=tenant, kind=Marker.Kind.NO_VOICEMAIL)
        AuthorisedRepresentativeFactory(person=tenant, name="Cllr Patel")
        body = client.get(reverse("contact_record_create", args=[tenant.pk])).content.decode()
        assert "No voicemail" in body
        assert "Cllr Patel" in body

    def test_repairs_officer_outside_patch_gets_404(self, client, tenant, login_as):
        login_as(Role.REPAIRS_OFFICER)
        response = client.post(reverse("contact_record_create", args=[tenant.pk]), contact_data())
        assert response.status_code == 404
        assert not ContactRecord.objects.exists()


class TestContactDetail:
    def test_shows_the_contact_and_audits_it_once(
        self, client, signed_in_officer, tenant, access_entries
    ):
        contact = ContactRecordFactory(
            person=tenant, subject="Damp in bedroom", notes="Black mould"
        )
        response = client.get(reverse("contact_record_detail", args=[contact.pk]))
        body = response.content.decode()
        assert "Damp in bedroom" in body and "Black mould" in body
        assert access_entries(contact).count() == 1

    def test_outsider_contact_is_404(self, client, signed_in_officer, access_entries):
        contact = ContactRecordFactory(
            person=tenant_in_patch(PatchFactory(), last_name="Hiddenby"), notes="Hidden notes"
        )
        response = client.get(reverse("contact_record_detail", args=[contact.pk]))
        assert response.status_code == 404
        assert "Hidden notes" not in response.content.decode()
        assert "Hiddenby" not in response.content.decode()
        assert access_entries(contact).count() == 0
