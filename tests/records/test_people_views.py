import datetime

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.history import readers_of
from access.roles import Role
from records.models import AuthorisedRepresentative, Marker, Person, SensitiveInformation
from tests.factories import (
    AuthorisedRepresentativeFactory,
    MarkerFactory,
    PatchFactory,
    SensitiveInformationFactory,
    tenant_in_patch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(patch):
    return tenant_in_patch(
        patch,
        first_name="Amara",
        last_name="Okonkwo",
        email="Amara.Okonkwo@mail.example",
        phone="07700 900123",
        ni_number="QQ123456C",
        bank_account_name="A Okonkwo",
        bank_sort_code="30-98-83",
        bank_account_number="00733445",
    )


@pytest.fixture
def outsider():
    """A tenant in a patch the officer does not look after."""
    return tenant_in_patch(
        PatchFactory(), first_name="Zebedee", last_name="Farquharson", ni_number="QQ987654B"
    )


def search(client, term):
    return client.get(reverse("person_search"), {"q": term})


class TestSearch:
    @pytest.mark.parametrize(
        "term",
        [
            "Okonkwo",
            "amara okon",
            "qq123456c",
            "QQ 12 34 56 C",
            " q q 1 2 3 4 5 6 c ",
            "amara.okonkwo@MAIL.example",
            "07700900123",
            "+44 7700 900 123",
        ],
    )
    def test_finds_by_name_ni_email_and_phone(self, officer_client, tenant, term):
        response = search(officer_client, term)
        assert response.status_code == 200
        assert reverse("person_detail", args=[tenant.pk]) in response.content.decode()

    def test_finds_by_postcode_with_or_without_space(self, officer_client, tenant):
        postcode = tenant.household_memberships.get().tenancy.property.postcode
        for term in (postcode, postcode.replace(" ", "").lower()):
            body = search(officer_client, term).content.decode()
            assert reverse("person_detail", args=[tenant.pk]) in body

    def test_results_show_current_home_and_markers(self, officer_client, tenant):
        MarkerFactory(person=tenant, kind=Marker.Kind.SAFE_ADDRESS)
        body = search(officer_client, "Okonkwo").content.decode()
        assert tenant.household_memberships.get().tenancy.property.address in body
        assert "Safe address" in body
        assert "govuk-tag--red" in body

    def test_no_match_says_so(self, officer_client, tenant):
        body = search(officer_client, "Nobody-by-this-name").content.decode()
        assert "No people found" in body

    def test_people_outside_the_patch_are_never_found(self, officer_client, tenant, outsider):
        for term in ("QQ987654B", outsider.email, outsider.phone):
            body = search(officer_client, term).content.decode()
            assert "Farquharson" not in body
            assert "Zebedee" not in body
            assert "No people found" in body
        body = search(officer_client, "Farquharson").content.decode()
        assert reverse("person_detail", args=[outsider.pk]) not in body
        assert "QQ987654B" not in body

    def test_tenants_and_committee_cannot_search(self, client, tenant, login_as):
        for role in (Role.COMMITTEE_MEMBER, Role.TENANT, Role.SYSTEM_ADMINISTRATOR):
            login_as(role)
            response = search(client, "Okonkwo")
            assert response.status_code == 403
            assert "Okonkwo" not in response.content.decode()

    def test_query_count_does_not_grow_with_rows(self, client, patch, officer):
        client.force_login(officer)

        def count_for(rows, surname):
            for _ in range(rows):
                person = tenant_in_patch(patch, last_name=surname)
                MarkerFactory(person=person)
            with CaptureQueriesContext(connection) as queries:
                response = search(client, surname)
            assert response.status_code == 200
            return len(queries)

        few = count_for(5, "Fewsome")
        many = count_for(30, "Manysome")
        assert few == many

    def test_query_bound(self, client, patch, officer, django_assert_max_num_queries):
        client.force_login(officer)
        for _ in range(30):
            MarkerFactory(person=tenant_in_patch(patch, last_name="Bounded"))
        # Including the two reads of the user's grants, once per request (access.policy).
        with django_assert_max_num_queries(13):
            response = search(client, "Bounded")
        assert response.content.decode().count("/people/") >= 25


class TestPersonPage:
    def test_outsider_is_404_and_never_shown(self, officer_client, outsider, access_entries):
        for name in (
            "person_detail",
            "person_edit",
            "person_timeline",
            "contact_record_create",
            "document_upload",
            "marker_create",
            "representative_create",
            "sensitive_information_create",
        ):
            response = officer_client.get(reverse(name, args=[outsider.pk]))
            assert response.status_code == 404, name
            body = response.content.decode()
            assert "Farquharson" not in body
            assert "QQ987654B" not in body and "QQ 98 76 54 B" not in body
        assert not access_entries(outsider).exists()

    def test_housing_officer_does_not_see_ni_or_bank_details(self, officer_client, tenant):
        body = officer_client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Okonkwo" in body
        assert "QQ 12 34 56 C" not in body and "QQ123456C" not in body
        assert "00733445" not in body
        assert "30-98-83" not in body
        assert "National Insurance" not in body

    def test_finance_officer_sees_ni_and_bank_details(self, client, tenant, login_as):
        login_as(Role.FINANCE_OFFICER)
        body = client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "QQ 12 34 56 C" in body
        assert "00733445" in body
        assert "30-98-83" in body

    def test_page_writes_exactly_one_access_entry(self, client, officer, tenant, access_entries):
        client.force_login(officer)
        assert client.get(reverse("person_detail", args=[tenant.pk])).status_code == 200
        entry = access_entries(tenant).get()
        assert entry.actor == officer

    def test_shows_markers_representatives_and_contact_confirmation(self, officer_client, tenant):
        MarkerFactory(person=tenant, kind=Marker.Kind.SAFE_ADDRESS, details="Fled violence")
        MarkerFactory(
            person=tenant,
            kind=Marker.Kind.INTERPRETER,
            ends_on=timezone.localdate() - datetime.timedelta(days=1),
        )
        AuthorisedRepresentativeFactory(
            person=tenant,
            name="Jo Advocate",
            scope=AuthorisedRepresentative.Scope.REPAIRS,
            expires_on=datetime.date(2099, 1, 31),
        )
        AuthorisedRepresentativeFactory(
            person=tenant,
            name="Expired Helper",
            expires_on=datetime.date(2001, 1, 1),
            valid_from=datetime.date(2000, 1, 1),
        )
        Person.objects.filter(pk=tenant.pk).update(email_confirmed_on=datetime.date(2020, 1, 1))
        body = officer_client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "app-confidential-banner" in body
        assert "Fled violence" in body
        assert "Needs an interpreter" not in body  # ended yesterday
        assert "Jo Advocate" in body
        assert "Repairs only" in body
        assert "31 January 2099" in body
        assert "Expired Helper" not in body
        assert "Last confirmed 1 January 2020" in body
        assert body.count("Due for re-confirmation") == 1

    def test_sensitive_information_only_for_roles_that_may_see_it(self, client, tenant, login_as):
        SensitiveInformationFactory(person=tenant, details="Uses a wheelchair")
        login_as(Role.FINANCE_OFFICER)
        body = client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Uses a wheelchair" not in body
        assert "Sensitive information" not in body
        login_as(Role.SENIOR_OFFICER)
        body = client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Uses a wheelchair" in body
        assert "Health or social care" in body

    def test_who_has_seen_only_for_the_data_protection_lead(
        self, client, officer_client, tenant, login_as
    ):
        body = officer_client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Who has seen this record" not in body
        lead = login_as(Role.DATA_PROTECTION_LEAD)
        body = client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
        assert "Who has seen this record" in body
        officer = tenant.household_memberships.get().tenancy.property.patch.officers.get()
        assert officer.get_username() in body
        assert lead.get_username() in body

    def test_readers_of_is_newest_first_and_limited(self, officer_client, tenant):
        for _ in range(3):
            officer_client.get(reverse("person_detail", args=[tenant.pk]))
        readers = list(readers_of(tenant, limit=2))
        assert len(readers) == 2
        assert readers[0].timestamp >= readers[1].timestamp
        assert all(entry.action == LogEntry.Action.ACCESS for entry in readers)


class TestPersonForms:
    def valid(self, **overrides):
        data = {
            "first_name": "Bilal",
            "last_name": "Hussain",
            "date_of_birth_0": "3",
            "date_of_birth_1": "11",
            "date_of_birth_2": "1975",
            "email": "bilal@mail.example",
            "phone": "020 7946 0000",
            "preferred_contact_method": "phone",
        }
        data.update(overrides)
        return data

    def test_creates_a_person(self, client, login_as):
        login_as(Role.FINANCE_OFFICER)
        response = client.post(
            reverse("person_create"),
            self.valid(
                ni_number="qq 12 34 56 a",
                bank_account_name="B Hussain",
                bank_sort_code="309883",
                bank_account_number="12345678",
            ),
        )
        person = Person.objects.get(last_name="Hussain")
        assert response.status_code == 302
        assert response["Location"] == reverse("person_detail", args=[person.pk])
        assert person.ni_number == "QQ123456A"
        assert person.bank_sort_code == "30-98-83"
        assert person.date_of_birth == datetime.date(1975, 11, 3)
        assert person.phone_confirmed_on == timezone.localdate()

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"ni_number": "QQ12345C"}, "Enter a National Insurance number in the correct format"),
            ({"ni_number": "QQ123456E"}, "Enter a National Insurance number in the correct format"),
            ({"last_name": ""}, "Enter a last name"),
            ({"email": "not-an-email"}, "Enter an email address in the correct format"),
            ({"phone": "12345"}, "Enter a UK phone number"),
            (
                {"date_of_birth_0": "31", "date_of_birth_1": "2"},
                "Date of birth must be a real date",
            ),
            ({"bank_sort_code": "30-98-83"}, "Enter the name on the account"),
        ],
    )
    def test_bad_input_saves_nothing(self, client, overrides, message, login_as):
        login_as(Role.FINANCE_OFFICER)
        response = client.post(reverse("person_create"), self.valid(**overrides))
        body = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in body
        assert message in body
        assert "govuk-form-group--error" in body
        assert not Person.objects.exists()

    def test_housing_officer_cannot_see_or_set_ni_and_bank(self, officer_client, tenant):
        url = reverse("person_edit", args=[tenant.pk])
        body = officer_client.get(url).content.decode()
        assert 'name="ni_number"' not in body
        assert 'name="bank_account_number"' not in body
        assert "QQ 12 34 56 C" not in body
        response = officer_client.post(
            url,
            self.valid(
                first_name="Amara",
                last_name="Okonkwo-Smith",
                ni_number="AB123456D",
                bank_account_number="99999999",
            ),
        )
        assert response.status_code == 302
        tenant.refresh_from_db()
        assert tenant.last_name == "Okonkwo-Smith"
        assert tenant.ni_number == "QQ123456C"
        assert tenant.bank_account_number == "00733445"

    def test_edit_shows_current_values_and_keeps_confirmation_of_unchanged(
        self, officer_client, tenant
    ):
        Person.objects.filter(pk=tenant.pk).update(email_confirmed_on=datetime.date(2020, 1, 1))
        url = reverse("person_edit", args=[tenant.pk])
        body = officer_client.get(url).content.decode()
        assert 'value="Amara.Okonkwo@mail.example"' in body
        officer_client.post(
            url,
            self.valid(
                first_name="Amara",
                last_name="Okonkwo",
                email="Amara.Okonkwo@mail.example",
                phone="07700 900999",
            ),
        )
        tenant.refresh_from_db()
        assert tenant.email_confirmed_on == datetime.date(2020, 1, 1)
        assert tenant.phone == "07700 900999"
        assert tenant.phone_confirmed_on == timezone.localdate()

    def test_confirm_contact_details(self, officer_client, tenant):
        Person.objects.filter(pk=tenant.pk).update(
            email_confirmed_on=None, phone_confirmed_on=datetime.date(2020, 1, 1)
        )
        url = reverse("contact_details_confirm", args=[tenant.pk])
        response = officer_client.post(url, {})
        assert response.status_code == 200
        assert "Select which contact details the person confirmed" in response.content.decode()
        response = officer_client.post(url, {"details": ["email", "phone"]})
        assert response.status_code == 302
        tenant.refresh_from_db()
        assert tenant.email_confirmed_on == timezone.localdate()
        assert tenant.phone_confirmed_on == timezone.localdate()
        response = officer_client.get(url)
        assert response.status_code == 302
        assert response["Location"].endswith("#contact-details")

    def test_add_marker(self, officer_client, tenant):
        today = timezone.localdate()
        response = officer_client.post(
            reverse("marker_create", args=[tenant.pk]),
            {
                "kind": Marker.Kind.NO_VOICEMAIL,
                "details": "Partner checks the phone",
                "starts_on_0": today.day,
                "starts_on_1": today.month,
                "starts_on_2": today.year,
            },
        )
        assert response.status_code == 302
        marker = tenant.markers.get()
        assert marker.kind == Marker.Kind.NO_VOICEMAIL
        assert marker.created_by is not None

    def test_representative_needs_evidence_and_expiry_after_start(self, officer_client, tenant):
        url = reverse("representative_create", args=[tenant.pk])
        data = {
            "name": "Sam Support",
            "relationship": "support_worker",
            "scope": "all",
            "evidence": "",
            "valid_from_0": "1",
            "valid_from_1": "6",
            "valid_from_2": "2026",
            "expires_on_0": "31",
            "expires_on_1": "5",
            "expires_on_2": "2026",
        }
        body = officer_client.post(url, data).content.decode()
        assert "Enter the evidence of consent or authority" in body
        assert "The end date must be the same as or after the date the authority starts" in body
        assert not AuthorisedRepresentative.objects.exists()
        data.update(evidence="Signed form", expires_on_1="7")
        assert officer_client.post(url, data).status_code == 302
        assert AuthorisedRepresentative.objects.get().expires_on == datetime.date(2026, 7, 31)

    def test_sensitive_information_only_for_its_roles(self, client, tenant, login_as):
        url = reverse("sensitive_information_create", args=[tenant.pk])
        data = {"kind": "health", "condition": "social_care", "details": "Diabetic"}
        login_as(Role.FINANCE_OFFICER)
        assert client.post(url, data).status_code == 403
        login_as(Role.SENIOR_OFFICER)
        body = client.post(url, {"kind": "health", "condition": "social_care"}).content.decode()
        assert "Enter the details" in body
        assert not SensitiveInformation.objects.exists()
        assert client.post(url, data).status_code == 302
        assert SensitiveInformation.objects.get().details == "Diabetic"


class TestReconfirmationAndDashboard:
    def test_lists_people_due_and_not_others(self, officer_client, patch):
        old = timezone.localdate() - datetime.timedelta(days=400)
        stale = tenant_in_patch(patch, last_name="Stalewood", phone_confirmed_on=old)
        never = tenant_in_patch(patch, last_name="Neverconfirmed", email_confirmed_on=None)
        tenant_in_patch(patch, last_name="Freshfield")
        tenant_in_patch(patch, last_name="Nophone", phone="", phone_confirmed_on=None)
        outsider = tenant_in_patch(PatchFactory(), last_name="Elsewhere", phone_confirmed_on=old)
        body = officer_client.get(reverse("reconfirmation_list")).content.decode()
        assert "Stalewood" in body and "Neverconfirmed" in body
        assert "Freshfield" not in body and "Nophone" not in body
        assert outsider.last_name not in body
        assert reverse("person_detail", args=[stale.pk]) in body
        assert reverse("person_detail", args=[never.pk]) in body

    def test_list_query_count_does_not_grow(self, client, patch, officer):
        client.force_login(officer)

        def count_for(rows):
            for _ in range(rows):
                MarkerFactory(person=tenant_in_patch(patch, email_confirmed_on=None))
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("reconfirmation_list")).status_code == 200
            return len(queries)

        assert count_for(5) == count_for(30)

    def test_dashboard_for_staff_shows_counts_and_own_contacts(self, officer_client, tenant):
        from tests.factories import ContactRecordFactory

        Person.objects.filter(pk=tenant.pk).update(phone_confirmed_on=None)
        officer = tenant.household_memberships.get().tenancy.property.patch.officers.get()
        ContactRecordFactory(person=tenant, recorded_by=officer, subject="Boiler broken")
        body = officer_client.get(reverse("dashboard")).content.decode()
        assert "Boiler broken" in body
        assert "Find a person" in body
        assert "People due to re-confirm contact details" in body

    @pytest.mark.parametrize(
        "role", [Role.COMMITTEE_MEMBER, Role.SYSTEM_ADMINISTRATOR, Role.TENANT]
    )
    def test_dashboard_shows_no_records_to_non_staff(self, client, tenant, role, login_as):
        login_as(role)
        body = client.get(reverse("dashboard")).content.decode()
        assert "You do not have access" in body
        assert "Okonkwo" not in body
        assert "Find a person" not in body
        assert ('href="/admin/"' in body) == (role == Role.SYSTEM_ADMINISTRATOR)


def test_person_page_offers_committee_access_for_this_record(officer_client, tenant):
    body = officer_client.get(reverse("person_detail", args=[tenant.pk])).content.decode()
    link = "%s?kind=records.person&amp;id=%d" % (reverse("committee_access_new"), tenant.pk)
    assert link in body
    assert "record number %d" % tenant.pk in body
    form = officer_client.get(link.replace("&amp;", "&")).content.decode()
    assert tenant.full_name in form  # named on the request, ready to send
