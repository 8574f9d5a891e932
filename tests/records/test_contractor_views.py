import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from access.roles import Role
from records.models import ContractorBid, Marker
from tests.factories import (
    ContractorBidFactory,
    ContractorContactFactory,
    ContractorFactory,
    MarkerFactory,
)

pytestmark = pytest.mark.django_db

PRICE_TEXTS = ("184,250", "184250")
EVALUATION = "Cheapest compliant bid; references checked."
PERFORMANCE = "Late on two jobs in March."


@pytest.fixture
def contractor():
    contractor = ContractorFactory(
        name="Northbank Plumbing Ltd",
        trade="Plumbing",
        performance_notes=PERFORMANCE,
        insurance_expires_on=datetime.date(2020, 1, 31),
    )
    ContractorBidFactory(
        contractor=contractor,
        contract_title="Kitchen replacements 2027",
        price=Decimal("184250.00"),
        evaluation_notes=EVALUATION,
        status=ContractorBid.Status.ACCEPTED,
    )
    contact = ContractorContactFactory(
        contractor=contractor,
        person__first_name="Dev",
        person__last_name="Mistry",
        role_title="Contracts manager",
    )
    MarkerFactory(person=contact.person, kind=Marker.Kind.NO_VOICEMAIL)
    return contractor


def test_contracts_officer_lists_contractors(client, contractor, login_as):
    login_as(Role.CONTRACTS_OFFICER)
    response = client.get(reverse("contractor_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Northbank Plumbing Ltd" in body
    assert "Expired" in body
    for text in (*PRICE_TEXTS, EVALUATION, PERFORMANCE):
        assert text not in body


def test_contractor_list_search(client, contractor, login_as):
    ContractorFactory(name="Southside Roofing", trade="Roofing")
    login_as(Role.CONTRACTS_OFFICER)
    body = client.get(reverse("contractor_list"), {"q": "roof"}).content.decode()
    assert "Southside Roofing" in body
    assert "Northbank" not in body


def test_contractor_list_queries_do_not_grow_with_rows(client, queries_do_not_grow, login_as):
    login_as(Role.CONTRACTS_OFFICER)

    def add(count):
        for _ in range(count):
            ContractorBidFactory(contractor=ContractorContactFactory().contractor)

    assert queries_do_not_grow(client, reverse("contractor_list"), add).status_code == 200


def test_contracts_officer_sees_bids_contacts_and_notes_once_audited(
    client, contractor, login_as, access_entries
):
    officer = login_as(Role.CONTRACTS_OFFICER)
    response = client.get(reverse("contractor_detail", args=[contractor.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "£184,250.00" in body
    assert EVALUATION in body
    assert PERFORMANCE in body
    assert "Dev Mistry" in body and "Contracts manager" in body
    assert "No voicemail" in body
    assert "Insurance expired" in body
    entries = access_entries(contractor)
    assert entries.count() == 1
    assert entries.get().actor == officer


def test_dpo_sees_the_contractor(client, contractor, login_as):
    login_as(Role.DATA_PROTECTION_LEAD)
    response = client.get(reverse("contractor_detail", args=[contractor.pk]))
    assert "£184,250.00" in response.content.decode()


def test_missing_contractor_is_404(client, login_as):
    login_as(Role.CONTRACTS_OFFICER)
    assert client.get(reverse("contractor_detail", args=[424242])).status_code == 404


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.REPAIRS_OFFICER,
        Role.HR_OFFICER,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
    ],
)
def test_other_roles_cannot_see_bids(client, role, contractor, login_as, access_entries):
    login_as(role)
    for url in (reverse("contractor_list"), reverse("contractor_detail", args=[contractor.pk])):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code in (403, 404)
        for text in (*PRICE_TEXTS, EVALUATION, PERFORMANCE, "Northbank", "Mistry"):
            assert text not in body
    assert not access_entries(contractor).exists()
