"""Routine sharing: the agreements register, repairs work orders and repair enquiries."""

import datetime
import io
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from access.roles import Role
from disclosures import sharing
from disclosures.models import DataSharingAgreement, InformationEnquiry, WorkOrder
from records.models import HouseholdMember, Marker
from tests.factories import (
    ContractorFactory,
    DataSharingAgreementFactory,
    HouseholdMemberFactory,
    MarkerFactory,
    PatchFactory,
    PropertyFactory,
    SensitiveInformationFactory,
    TenancyFactory,
    WorkOrderFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db

HEALTH = "Type 1 diabetes; insulin kept in the fridge"
VULNERABLE_DETAILS = "Recently bereaved and struggling"
STAFF_SAFETY_DETAILS = "Threatened a surveyor with a knife in 2024"
SAFE_ADDRESS_DETAILS = "Fled a violent partner; new address must never be shared"
ACCESS_NOTES = "Key safe code from the office; dog in the kitchen"
NI_NUMBER = "QQ123456C"
PHONE = "07700 900123"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def repairs_officer(patch):
    officer = user_with_role(Role.REPAIRS_OFFICER)
    patch.officers.add(officer)
    return officer


@pytest.fixture
def home(patch):
    """A current tenancy in the patch: a vulnerable tenant with health information and a partner
    with a staff safety marker."""
    tenancy = TenancyFactory(
        property=PropertyFactory(patch=patch, address_line_1="7 Canal Walk", postcode="SE1 4AB"),
        access_notes=ACCESS_NOTES,
    )
    tenant = HouseholdMemberFactory(
        tenancy=tenancy,
        person__first_name="Grace",
        person__last_name="Adeyemi",
        person__phone=PHONE,
        person__ni_number=NI_NUMBER,
        person__date_of_birth=datetime.date(1971, 8, 23),
    ).person
    partner = HouseholdMemberFactory(
        tenancy=tenancy,
        relationship=HouseholdMember.Relationship.PARTNER,
        person__first_name="Samuel",
        person__last_name="Okafor",
    ).person
    MarkerFactory(person=tenant, kind=Marker.Kind.VULNERABLE, details=VULNERABLE_DETAILS)
    MarkerFactory(person=partner, kind=Marker.Kind.STAFF_SAFETY, details=STAFF_SAFETY_DETAILS)
    SensitiveInformationFactory(person=tenant, details=HEALTH)
    return tenancy, tenant, partner


@pytest.fixture
def agreement():
    return DataSharingAgreementFactory(
        partner="Acme Repairs Ltd", contractor=ContractorFactory(name="Acme Plumbing Ltd")
    )


def raise_order(home, agreement, user, **kwargs):
    tenancy, tenant, _ = home
    return sharing.work_order_raise(
        raised_by=user,
        tenancy=tenancy,
        person=kwargs.pop("person", tenant),
        agreement=agreement,
        job="Replace the leaking kitchen tap.",
        **kwargs,
    )


def events_on(person, event):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(person)),
        object_pk=str(person.pk),
        additional_data__event=event,
    )


FORBIDDEN = [
    HEALTH,
    "diabetes",
    VULNERABLE_DETAILS,
    STAFF_SAFETY_DETAILS,
    "Vulnerable",
    "Staff safety warning",
    NI_NUMBER,
    "1971",
    "23 August",
    "Okafor",  # the partner: only the chosen tenant is named
]


class TestWorkOrderContent:
    def test_shared_content_is_name_address_phone_access_notes_and_plain_flags(
        self, home, agreement, repairs_officer
    ):
        order = raise_order(home, agreement, repairs_officer)
        content = json.loads(order.shared_content)
        assert content["name"] == "Grace Adeyemi"
        assert content["address"] == "7 Canal Walk, London, SE1 4AB"
        assert content["phone"] == PHONE
        assert content["access_notes"] == ACCESS_NOTES
        assert content["flags"] == [sharing.NEEDS_APPOINTMENT, sharing.STAFF_SAFETY]
        assert set(content) == {
            "reference",
            "contractor",
            "agreement",
            "job",
            "name",
            "address",
            "phone",
            "access_notes",
            "flags",
        }
        for secret in FORBIDDEN:
            assert secret not in order.shared_content
        assert order.contractor.name == "Acme Plumbing Ltd"
        assert order.safety_override_by is None

    def test_pdf_holds_what_was_shared_and_nothing_else(
        self, client, home, agreement, repairs_officer, access_entries
    ):
        order = raise_order(home, agreement, repairs_officer)
        client.force_login(repairs_officer)
        response = client.get(reverse("work_order_pdf", args=[order.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = " ".join(pdf_text(response.content).split())
        for expected in (
            "Grace Adeyemi",
            "7 Canal Walk, London, SE1 4AB",
            PHONE,
            ACCESS_NOTES,
            "Needs an appointment",
            "Staff safety: do not attend alone",
            "Replace the leaking kitchen tap.",
        ):
            assert expected in text
        for secret in FORBIDDEN:
            assert secret not in text
        assert access_entries(order).count() == 1

    def test_sharing_is_recorded_on_the_person_under_the_agreement(
        self, home, agreement, repairs_officer
    ):
        order = raise_order(home, agreement, repairs_officer)
        (event,) = events_on(home[1], "shared_under_agreement")
        assert event.actor == repairs_officer
        assert event.additional_data["agreement"] == "Acme Repairs Ltd"
        assert event.additional_data["reference"] == order.reference
        assert event.additional_data["items"] == list(sharing.WORK_ORDER_ITEMS)

    def test_no_markers_no_flags(self, patch, agreement, repairs_officer):
        tenancy = TenancyFactory(property__patch=patch)
        tenant = HouseholdMemberFactory(tenancy=tenancy).person
        MarkerFactory(person=tenant, kind=Marker.Kind.NO_VOICEMAIL)
        order = sharing.work_order_raise(
            raised_by=repairs_officer,
            tenancy=tenancy,
            person=tenant,
            agreement=agreement,
            job="Fix the door.",
        )
        assert json.loads(order.shared_content)["flags"] == []

    def test_raised_through_the_form(self, client, home, agreement, repairs_officer):
        tenancy, tenant, _ = home
        client.force_login(repairs_officer)
        url = reverse("work_order_create", args=[tenancy.pk])
        page = client.get(url).content.decode()
        assert "Acme Plumbing Ltd" in page
        assert VULNERABLE_DETAILS not in page
        response = client.post(
            url, {"person": tenant.pk, "agreement": agreement.pk, "job": "Unblock the sink."}
        )
        order = WorkOrder.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("work_order_detail", args=[order.pk])
        detail = client.get(response["Location"]).content.decode()
        assert order.reference in detail
        assert "Needs an appointment" in detail

    def test_empty_job_saves_nothing(self, client, home, agreement, repairs_officer):
        tenancy, tenant, _ = home
        client.force_login(repairs_officer)
        response = client.post(
            reverse("work_order_create", args=[tenancy.pk]),
            {"person": tenant.pk, "agreement": agreement.pk, "job": ""},
        )
        assert response.status_code == 200
        assert "Describe the repair to be done" in response.content.decode()
        assert "govuk-error-summary" in response.content.decode()
        assert not WorkOrder.objects.exists()


class TestSafetyMarker:
    @pytest.fixture
    def safe_home(self, patch):
        tenancy = TenancyFactory(
            property=PropertyFactory(patch=patch, address_line_1="3 Hidden Row"),
            access_notes="Ring first",
        )
        tenant = HouseholdMemberFactory(tenancy=tenancy, person__last_name="Whitlock").person
        MarkerFactory(person=tenant, kind=Marker.Kind.SAFE_ADDRESS, details=SAFE_ADDRESS_DETAILS)
        return tenancy, tenant, None

    def test_officer_is_refused_and_nothing_is_sent(self, safe_home, agreement, repairs_officer):
        with pytest.raises(ValidationError, match="data protection lead overrides"):
            raise_order(safe_home, agreement, repairs_officer)
        assert not WorkOrder.objects.exists()
        assert not events_on(safe_home[1], "shared_under_agreement").exists()

    def test_dpo_must_record_a_reason(self, safe_home, agreement, dpo):
        with pytest.raises(ValidationError, match="record why"):
            raise_order(safe_home, agreement, dpo)
        assert not WorkOrder.objects.exists()

    def test_dpo_override_issues_it_and_records_the_override(self, safe_home, agreement, dpo):
        order = raise_order(
            safe_home,
            agreement,
            dpo,
            safety_override_reason="Gas leak: the contractor must attend today.",
        )
        assert order.safety_override_by == dpo
        assert order.safety_override_reason == "Gas leak: the contractor must attend today."
        assert "3 Hidden Row" in json.loads(order.shared_content)["address"]
        assert SAFE_ADDRESS_DETAILS not in order.shared_content
        assert events_on(safe_home[1], "work_order_safety_override").count() == 1

    def test_a_safe_address_on_anyone_in_the_household_blocks_it(
        self, home, agreement, repairs_officer
    ):
        MarkerFactory(person=home[2], kind=Marker.Kind.SAFE_ADDRESS)
        with pytest.raises(ValidationError, match="safety marker"):
            raise_order(home, agreement, repairs_officer)
        assert not WorkOrder.objects.exists()

    def test_the_form_shows_the_block_and_refuses_a_post(
        self, client, safe_home, agreement, repairs_officer
    ):
        tenancy, tenant, _ = safe_home
        client.force_login(repairs_officer)
        url = reverse("work_order_create", args=[tenancy.pk])
        page = client.get(url).content.decode()
        assert "Safety marker: address protected" in page
        assert "Ask the data protection lead" in page
        assert "Raise the work order" not in page
        assert SAFE_ADDRESS_DETAILS not in page
        response = client.post(
            url, {"person": tenant.pk, "agreement": agreement.pk, "job": "Fix the boiler."}
        )
        assert response.status_code == 200
        assert "data protection lead overrides" in response.content.decode()
        assert not WorkOrder.objects.exists()

    def test_the_dpo_overrides_through_the_form(self, client, safe_home, agreement, dpo):
        tenancy, tenant, _ = safe_home
        client.force_login(dpo)
        url = reverse("work_order_create", args=[tenancy.pk])
        assert "Override the safety marker" in client.get(url).content.decode()
        data = {"person": tenant.pk, "agreement": agreement.pk, "job": "Fix the boiler."}
        response = client.post(url, data)
        assert "record why the contractor must have it" in response.content.decode()
        assert not WorkOrder.objects.exists()
        response = client.post(url, {**data, "safety_override_reason": "No heating in winter."})
        assert response.status_code == 302
        assert WorkOrder.objects.get().safety_override_by == dpo


class TestAgreementProblems:
    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            (
                {"review_on": datetime.date(2020, 1, 31)},
                "was due for review on 31 January 2020",
            ),
            ({"status": DataSharingAgreement.Status.SUSPENDED}, "is suspended, not active"),
        ],
    )
    def test_refused_with_the_reason(
        self, client, home, agreement, repairs_officer, changes, reason
    ):
        DataSharingAgreement.objects.filter(pk=agreement.pk).update(**changes)
        with pytest.raises(ValidationError, match=reason):
            raise_order(home, agreement, repairs_officer)
        client.force_login(repairs_officer)
        tenancy, tenant, _ = home
        url = reverse("work_order_create", args=[tenancy.pk])
        assert reason in client.get(url).content.decode()
        response = client.post(
            url, {"person": tenant.pk, "agreement": agreement.pk, "job": "Fix the tap."}
        )
        assert reason in response.content.decode()
        assert not WorkOrder.objects.exists()

    def test_an_agreement_without_a_contractor_is_refused(self, home, repairs_officer):
        with pytest.raises(ValidationError, match="does not name a repairs contractor"):
            raise_order(home, DataSharingAgreementFactory(), repairs_officer)


class TestScope:
    def test_tenancy_outside_the_officers_patch_is_404(self, client, agreement, repairs_officer):
        other = TenancyFactory(property__patch=PatchFactory())
        HouseholdMemberFactory(tenancy=other, person__last_name="Outsider")
        client.force_login(repairs_officer)
        response = client.get(reverse("work_order_create", args=[other.pk]))
        assert response.status_code == 404
        assert "Outsider" not in response.content.decode()

    def test_service_refuses_a_tenancy_the_user_cannot_see(self, agreement, repairs_officer):
        other = TenancyFactory(property__patch=PatchFactory())
        tenant = HouseholdMemberFactory(tenancy=other).person
        with pytest.raises(ValidationError, match="cannot raise a work order"):
            sharing.work_order_raise(
                raised_by=repairs_officer,
                tenancy=other,
                person=tenant,
                agreement=agreement,
                job="Fix it.",
            )

    def test_only_a_current_tenant_of_the_home_can_be_named(
        self, client, home, agreement, repairs_officer
    ):
        tenancy, _, partner = home
        stranger = HouseholdMemberFactory(tenancy__property__patch=tenancy.property.patch).person
        for person in (partner, stranger):
            with pytest.raises(ValidationError, match="current tenant"):
                raise_order(home, agreement, repairs_officer, person=person)
        client.force_login(repairs_officer)
        response = client.post(
            reverse("work_order_create", args=[tenancy.pk]),
            {"person": stranger.pk, "agreement": agreement.pk, "job": "Fix it."},
        )
        assert response.status_code == 200
        assert not WorkOrder.objects.exists()

    def test_work_orders_follow_the_person(self, client, home, agreement, repairs_officer):
        order = raise_order(home, agreement, repairs_officer)
        outsider = user_with_role(Role.REPAIRS_OFFICER)
        PatchFactory(officers=[outsider])
        client.force_login(outsider)
        for name in ("work_order_detail", "work_order_pdf"):
            response = client.get(reverse(name, args=[order.pk]))
            assert response.status_code == 404
            assert "Adeyemi" not in response.content.decode()
        listing = client.get(reverse("work_order_list")).content.decode()
        assert order.reference not in listing and "Adeyemi" not in listing

    def test_work_order_detail_is_audited(
        self, client, home, agreement, repairs_officer, access_entries
    ):
        order = raise_order(home, agreement, repairs_officer)
        client.force_login(repairs_officer)
        page = client.get(reverse("work_order_detail", args=[order.pk])).content.decode()
        assert "Grace Adeyemi" in page
        assert HEALTH not in page and VULNERABLE_DETAILS not in page
        assert access_entries(order).count() == 1

    def test_work_order_list_does_not_grow_queries(
        self, client, queries_do_not_grow, repairs_officer, patch
    ):
        client.force_login(repairs_officer)

        def add_rows(count):
            for _ in range(count):
                tenancy = TenancyFactory(property__patch=patch)
                member = HouseholdMemberFactory(tenancy=tenancy)
                WorkOrderFactory(person=member.person, tenancy=tenancy)

        response = queries_do_not_grow(client, reverse("work_order_list"), add_rows)
        assert response.status_code == 200


class TestEnquiries:
    def form(self, **changes):
        return {
            "enquirer": "Neighbour at 9 Canal Walk",
            "about_repair": "on",
            "question": "When will the scaffolding come down?",
            "response": InformationEnquiry.Response.REFUSED_DATA_PROTECTION,
            "response_details": "Could not say, data protection.",
            **changes,
        }

    def test_a_repair_refused_for_data_protection_is_rejected(self, client, login_as):
        login_as(Role.HOUSING_OFFICER)
        response = client.post(reverse("enquiry_create"), self.form())
        body = response.content.decode()
        assert response.status_code == 200
        assert "is not personal data and must not be withheld" in body
        assert "govuk-error-summary" in body
        assert not InformationEnquiry.objects.exists()

    def test_service_rejects_it_too(self):
        with pytest.raises(ValidationError, match="not personal data"):
            sharing.enquiry_log(
                answered_by=user_with_role(Role.REPAIRS_OFFICER),
                enquirer="A neighbour",
                property=None,
                about_repair=True,
                question="When is the roof being fixed?",
                response=InformationEnquiry.Response.REFUSED_DATA_PROTECTION,
                response_details="Refused.",
            )
        assert not InformationEnquiry.objects.exists()

    def test_the_form_shows_the_guidance(self, client, login_as):
        login_as(Role.FINANCE_OFFICER)
        body = client.get(reverse("enquiry_create")).content.decode()
        assert "is not personal data and must not be withheld for data protection" in body

    def test_answered_repair_enquiry_is_saved(self, client, login_as):
        user = login_as(Role.REPAIRS_OFFICER)
        home = PropertyFactory(address_line_1="1 Block Street")
        response = client.post(
            reverse("enquiry_create"),
            self.form(
                property=home.pk,
                response=InformationEnquiry.Response.ANSWERED,
                response_details="Roof repair booked for 3 June; scaffolding down by 10 June.",
            ),
        )
        enquiry = InformationEnquiry.objects.get()
        assert response.status_code == 302
        assert enquiry.answered_by == user and enquiry.property == home
        detail = client.get(response["Location"]).content.decode()
        assert "scaffolding down by 10 June" in detail

    def test_a_non_repair_enquiry_may_be_refused_for_data_protection(self, client, login_as):
        login_as(Role.HOUSING_OFFICER)
        response = client.post(
            reverse("enquiry_create"),
            self.form(about_repair="", question="Who lives at number 7?"),
        )
        assert response.status_code == 302
        assert InformationEnquiry.objects.get().response == "refused_data_protection"


class TestAgreementsRegister:
    def test_register_warns_of_expired_and_inactive_agreements(self, client, login_as):
        login_as(Role.REPAIRS_OFFICER)
        DataSharingAgreementFactory(partner="Current Partner")
        DataSharingAgreementFactory(partner="Lapsed Partner", review_on=datetime.date(2021, 3, 1))
        DataSharingAgreementFactory(partner="Draft Partner", status="draft")
        body = client.get(reverse("agreement_list")).content.decode()
        assert "The agreement with Lapsed Partner was due for review on 1 March 2021" in body
        assert "The agreement with Draft Partner is draft, not active." in body
        assert "The agreement with Current Partner" not in body
        assert "Add an agreement" not in body

    def test_detail_warns_too(self, client, login_as):
        login_as(Role.HOUSING_OFFICER)
        agreement = DataSharingAgreementFactory(
            partner="Lapsed Partner", review_on=datetime.date(2021, 3, 1)
        )
        body = client.get(reverse("agreement_detail", args=[agreement.pk])).content.decode()
        assert "was due for review on 1 March 2021" in body
        assert "Person: phone" in body

    def test_register_queries_do_not_grow(self, client, login_as, queries_do_not_grow):
        login_as(Role.SENIOR_OFFICER)

        def add_rows(count):
            for _ in range(count):
                DataSharingAgreementFactory(contractor=ContractorFactory())

        queries_do_not_grow(client, reverse("agreement_list"), add_rows)

    def test_senior_officer_adds_an_agreement(self, client, login_as):
        login_as(Role.SENIOR_OFFICER)
        contractor = ContractorFactory(name="Drains R Us")
        review = timezone.localdate() + datetime.timedelta(days=365)
        response = client.post(
            reverse("agreement_create"),
            {
                "partner": "Drains R Us",
                "purpose": "Drain repairs",
                "data_items": ["records.person.first_name", "records.person.phone"],
                "legal_basis": "tenancy_agreement",
                "signed_on_0": "",
                "signed_on_1": "",
                "signed_on_2": "",
                "review_on_0": str(review.day),
                "review_on_1": str(review.month),
                "review_on_2": str(review.year),
                "status": "active",
                "contractor": contractor.pk,
            },
        )
        agreement = DataSharingAgreement.objects.get()
        assert response.status_code == 302
        assert agreement.contractor == contractor and agreement.review_on == review
        assert agreement.problems() == []

    def test_bad_input_saves_nothing(self, client, login_as):
        login_as(Role.DATA_PROTECTION_LEAD)
        response = client.post(reverse("agreement_create"), {"partner": "X", "purpose": "Y"})
        body = response.content.decode()
        assert "Choose the data items the agreement covers" in body
        assert "Enter the review date" in body
        assert not DataSharingAgreement.objects.exists()

    def test_senior_officer_changes_an_agreement(self, client, login_as):
        login_as(Role.SENIOR_OFFICER)
        agreement = DataSharingAgreementFactory(partner="Old Name")
        page = client.get(reverse("agreement_edit", args=[agreement.pk])).content.decode()
        assert "Old Name" in page
        review = agreement.review_on
        client.post(
            reverse("agreement_edit", args=[agreement.pk]),
            {
                "partner": "New Name",
                "purpose": agreement.purpose,
                "data_items": agreement.data_items,
                "legal_basis": agreement.legal_basis,
                "review_on_0": str(review.day),
                "review_on_1": str(review.month),
                "review_on_2": str(review.year),
                "status": "suspended",
            },
        )
        agreement.refresh_from_db()
        assert agreement.partner == "New Name" and agreement.status == "suspended"

    def test_only_managers_change_agreements(self):
        with pytest.raises(ValidationError, match="senior officer or the data protection lead"):
            sharing.agreement_save(
                saved_by=user_with_role(Role.HOUSING_OFFICER),
                partner="X",
                purpose="Y",
                data_items=["records.person.phone"],
                legal_basis="consent",
                signed_on=None,
                review_on=datetime.date(2030, 1, 1),
                status="active",
            )


class TestAccess:
    NO_ACCESS = [Role.COMMITTEE_MEMBER, Role.TENANT, Role.SYSTEM_ADMINISTRATOR]

    @pytest.fixture
    def objects(self, home, agreement, repairs_officer):
        order = raise_order(home, agreement, repairs_officer)
        enquiry = sharing.enquiry_log(
            answered_by=repairs_officer,
            enquirer="Mrs Neighbourly",
            property=home[0].property,
            about_repair=True,
            question="When?",
            response=InformationEnquiry.Response.ANSWERED,
            response_details="Tuesday.",
        )
        return {"agreement": agreement, "order": order, "enquiry": enquiry, "tenancy": home[0]}

    def urls(self, objects):
        return [
            reverse("agreement_list"),
            reverse("agreement_create"),
            reverse("agreement_detail", args=[objects["agreement"].pk]),
            reverse("agreement_edit", args=[objects["agreement"].pk]),
            reverse("work_order_list"),
            reverse("work_order_create", args=[objects["tenancy"].pk]),
            reverse("work_order_detail", args=[objects["order"].pk]),
            reverse("work_order_pdf", args=[objects["order"].pk]),
            reverse("enquiry_list"),
            reverse("enquiry_create"),
            reverse("enquiry_detail", args=[objects["enquiry"].pk]),
        ]

    @pytest.mark.parametrize("role", NO_ACCESS, ids=str)
    def test_non_staff_get_403_and_no_names(self, client, objects, role):
        client.force_login(user_with_role(role))
        for url in self.urls(objects):
            response = client.get(url)
            assert response.status_code == 403, url
            body = response.content.decode(errors="replace")
            assert "Adeyemi" not in body and "Neighbourly" not in body and PHONE not in body

    def test_managing_agreements_is_for_senior_officers_and_the_dpo(self, client, objects):
        client.force_login(user_with_role(Role.REPAIRS_OFFICER))
        assert client.get(reverse("agreement_create")).status_code == 403
        assert (
            client.get(reverse("agreement_edit", args=[objects["agreement"].pk])).status_code == 403
        )
        assert (
            client.get(reverse("agreement_detail", args=[objects["agreement"].pk])).status_code
            == 200
        )

    def test_work_orders_are_not_for_finance_hr_or_contracts(self, client, objects):
        for role in (Role.FINANCE_OFFICER, Role.HR_OFFICER, Role.CONTRACTS_OFFICER):
            client.force_login(user_with_role(role))
            response = client.get(reverse("work_order_detail", args=[objects["order"].pk]))
            assert response.status_code == 403
            assert "Adeyemi" not in response.content.decode()

    def test_out_of_scope_housing_officer_gets_404(self, client, objects):
        outsider = user_with_role(Role.HOUSING_OFFICER)
        PatchFactory(officers=[outsider])
        client.force_login(outsider)
        for url in (
            reverse("work_order_create", args=[objects["tenancy"].pk]),
            reverse("work_order_detail", args=[objects["order"].pk]),
            reverse("work_order_pdf", args=[objects["order"].pk]),
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Adeyemi" not in response.content.decode()
        body = client.get(
            reverse("agreement_detail", args=[objects["agreement"].pk])
        ).content.decode()
        assert "Adeyemi" not in body
        assert objects["order"].reference not in body

    def test_tenancy_page_links_to_raising_a_work_order(self, client, home, repairs_officer):
        client.force_login(repairs_officer)
        body = client.get(reverse("tenancy_detail", args=[home[0].pk])).content.decode()
        assert reverse("work_order_create", args=[home[0].pk]) in body
        client.force_login(user_with_role(Role.FINANCE_OFFICER))
        body = client.get(reverse("tenancy_detail", args=[home[0].pk])).content.decode()
        assert reverse("work_order_create", args=[home[0].pk]) not in body
