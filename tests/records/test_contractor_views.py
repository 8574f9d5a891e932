import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.roles import Role
from records.models import ContractorBid, Marker
from tests.factories import (
    ContractorBidFactory,
    ContractorContactFactory,
    ContractorFactory,
    MarkerFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db

PRICE_TEXTS = ("184,250", "184250")
EVALUATION = "Cheapest compliant bid; references checked."
PERFORMANCE = "Late on two jobs in March."


def access_entries(obj):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),
        action=LogEntry.Action.ACCESS,
    )


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


def test_contracts_officer_lists_contractors(client, contractor):
    client.force_login(user_with_role(Role.CONTRACTS_OFFICER))
    response = client.get(reverse("contractor_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Northbank Plumbing Ltd" in body
    assert "Expired" in body
    for text in (*PRICE_TEXTS, EVALUATION, PERFORMANCE):
        assert text not in body


def test_contractor_list_search(client, contractor):
    ContractorFactory(name="Southside Roofing", trade="Roofing")
    client.force_login(user_with_role(Role.CONTRACTS_OFFICER))
    body = client.get(reverse("contractor_list"), {"q": "roof"}).content.decode()
    assert "Southside Roofing" in body
    assert "Northbank" not in body


def test_contractor_list_queries_do_not_grow_with_rows(client, django_assert_max_num_queries):
    client.force_login(user_with_role(Role.CONTRACTS_OFFICER))

    def add(count):
        for _ in range(count):
            ContractorBidFactory(contractor=ContractorContactFactory().contractor)

    add(3)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("contractor_list"))
    add(17)
    with django_assert_max_num_queries(len(small)):
        assert client.get(reverse("contractor_list")).status_code == 200


def test_contracts_officer_sees_bids_contacts_and_notes_once_audited(client, contractor):
    officer = user_with_role(Role.CONTRACTS_OFFICER)
    client.force_login(officer)
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


def test_dpo_sees_the_contractor(client, contractor):
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    response = client.get(reverse("contractor_detail", args=[contractor.pk]))
    assert "£184,250.00" in response.content.decode()


def test_missing_contractor_is_404(client):
    client.force_login(user_with_role(Role.CONTRACTS_OFFICER))
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
def test_other_roles_cannot_see_bids(client, role, contractor):
    client.force_login(user_with_role(role))
    for url in (reverse("contractor_list"), reverse("contractor_detail", args=[contractor.pk])):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code in (403, 404)
        for text in (*PRICE_TEXTS, EVALUATION, PERFORMANCE, "Northbank", "Mistry"):
            assert text not in body
    assert not access_entries(contractor).exists()
