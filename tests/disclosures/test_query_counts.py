"""The disclosure pages run a fixed number of queries, however many rows they show (see
tests/query_counts.py)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records.models import Marker
from tests.factories import (
    DataSharingAgreementFactory,
    DisclosureDecisionFactory,
    DisclosureEvidenceFactory,
    DisclosureRequestFactory,
    MarkerFactory,
    TenancyFactory,
    WorkOrderFactory,
    tenant_in_patch,
    user_with_role,
)
from tests.query_counts import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD])
def test_disclosure_list(client, role, patch, django_assert_num_queries):
    user = user_with_role(role)
    client.force_login(user)
    officer = user_with_role(Role.HOUSING_OFFICER)

    def add(n):
        for i in range(n):
            person = tenant_in_patch(patch)
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)
            status = ["waiting", "waiting_dpo", "approved"][i % 3]
            DisclosureRequestFactory(person=person, logged_by=officer, status=status)
            DisclosureRequestFactory(person=person, logged_by=user)

    _, response = assert_constant_queries(
        client, reverse("disclosure_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("DR-") >= 25
    # The lists leave the encrypted details unread: nothing is decrypted only to be thrown away.
    for request in response.context["mine"]:
        assert {"purpose", "request_details", "requester_contact"} <= request.get_deferred_fields()
        assert {"ni_number", "date_of_birth"} <= request.person.get_deferred_fields()


def test_disclosure_register(client, django_assert_num_queries):
    client.force_login(user_with_role(Role.SENIOR_OFFICER))

    def add(n):
        for _ in range(n):
            request = DisclosureRequestFactory()
            MarkerFactory(person=request.person)
            DisclosureDecisionFactory(
                request=request,
                decided_at=timezone.make_aware(
                    datetime.datetime.combine(request.received_on, datetime.time(12))
                ),
            )

    _, response = assert_constant_queries(
        client, reverse("disclosure_register"), add, django_assert_num_queries
    )
    assert response.context["page"].paginator.count == 25
    for request in response.context["page"].object_list:
        assert {"purpose", "request_details"} <= request.get_deferred_fields()
        assert {"necessity", "reasons"} <= request.decision.get_deferred_fields()
        assert {"ni_number", "date_of_birth"} <= request.person.get_deferred_fields()


@pytest.mark.parametrize("role", [Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD])
def test_disclosure_detail(client, role, patch, django_assert_num_queries):
    client.force_login(user_with_role(role))
    person = tenant_in_patch(patch)
    request = DisclosureRequestFactory(person=person)
    uploader = user_with_role(Role.HOUSING_OFFICER)

    def add(n):
        for _ in range(n):
            DisclosureEvidenceFactory(request=request, uploaded_by=uploader)
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)

    _, response = assert_constant_queries(
        client, reverse("disclosure_detail", args=[request.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Police data protection form") == 25


def test_work_order_list(client, patch, django_assert_num_queries):
    repairs = user_with_role(Role.REPAIRS_OFFICER)
    patch.officers.add(repairs)
    client.force_login(repairs)
    agreement = DataSharingAgreementFactory()

    def add(n):
        for _ in range(n):
            person = tenant_in_patch(patch)
            tenancy = person.household_memberships.get().tenancy
            WorkOrderFactory(agreement=agreement, person=person, tenancy=tenancy, raised_by=repairs)

    _, response = assert_constant_queries(
        client, reverse("work_order_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("WO-") >= 25


def test_agreement_list_and_detail(client, patch, django_assert_num_queries):
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    agreement = DataSharingAgreementFactory()

    def add(n):
        for _ in range(n):
            DataSharingAgreementFactory()
            WorkOrderFactory(agreement=agreement, tenancy=TenancyFactory(property__patch=patch))

    assert_constant_queries(client, reverse("agreement_list"), add, django_assert_num_queries)
    assert_constant_queries(
        client,
        reverse("agreement_detail", args=[agreement.pk]),
        add,
        django_assert_num_queries,
    )
