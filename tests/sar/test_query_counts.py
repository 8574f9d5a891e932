"""The rights request pages, staff and portal, run a fixed number of queries, however many rows
they show (see tests/query_counts.py)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from records.models import Marker
from sar.models import ClockStop, DueDateChange
from sar.services import portal as portal_services
from tests.factories import (
    BundleFactory,
    MarkerFactory,
    PortalMessageFactory,
    RightsActionFactory,
    SarItemFactory,
    SarRedactionFactory,
    SubjectAccessRequestFactory,
    tenant_in_patch,
    user_with_role,
)
from tests.query_counts import assert_constant_queries

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def dpo(client):
    user = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(user)
    return user


def test_request_list(client, dpo, patch, django_assert_num_queries):
    handler = user_with_role(Role.SENIOR_OFFICER)

    def add(n):
        for i in range(n):
            person = tenant_in_patch(patch)
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)
            SubjectAccessRequestFactory(
                person=person,
                handler=handler if i % 2 else None,
                due_date=TODAY + datetime.timedelta(days=i - 5),
            )

    _, response = assert_constant_queries(
        client, reverse("sar_request_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("SAR-") >= 25
    for row in response.context["rows"]:
        assert {"details", "requester_address"} <= row.request.get_deferred_fields()


def test_register(client, dpo, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            SubjectAccessRequestFactory(due_date=TODAY)

    _, response = assert_constant_queries(
        client, reverse("sar_register"), add, django_assert_num_queries
    )
    assert response.content.decode().count("SAR-") >= 25


def test_request_detail(client, dpo, patch, django_assert_num_queries):
    person = tenant_in_patch(patch)
    sar = SubjectAccessRequestFactory(person=person, due_date=TODAY, kind="erasure")
    staff = user_with_role(Role.SENIOR_OFFICER)

    def add(n):
        for i in range(n):
            MarkerFactory(person=person, kind=Marker.Kind.INTERPRETER)
            ClockStop.objects.create(
                request=sar,
                stopped_on=TODAY - datetime.timedelta(days=40 - i),
                restarted_on=TODAY - datetime.timedelta(days=39 - i),
                reason="Waiting for clarification %d" % i,
                stopped_by=staff,
            )
            DueDateChange.objects.create(request=sar, reason="Clock restarted", changed_by=staff)
            RightsActionFactory(request=sar, done_by=staff, object_id=str(i))

    _, response = assert_constant_queries(
        client, reverse("sar_request_detail", args=[sar.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Waiting for clarification") >= 25


def test_bundle_review(client, dpo, patch, django_assert_num_queries):
    person = tenant_in_patch(patch)
    bundle = BundleFactory(request=SubjectAccessRequestFactory(person=person), collected_by=dpo)

    def add(n):
        for _ in range(n):
            item = SarItemFactory(bundle=bundle)
            SarRedactionFactory(item=item)

    _, response = assert_constant_queries(
        client, reverse("sar_bundle_review", args=[bundle.pk]), add, django_assert_num_queries
    )
    assert len(response.context["rows"]) == 25


def portal_account(patch, officer):
    person = tenant_in_patch(patch)
    code = portal_services.issue_activation_code(issued_by=officer, person=person)
    account = portal_services.activate_with_code(
        code=code, email=person.email, password="a long portal password 2026"
    )
    return account, person


def test_portal_home(client, patch, officer, django_assert_num_queries):
    account, person = portal_account(patch, officer)
    client.force_login(account)

    def add(n):
        for _ in range(n):
            SubjectAccessRequestFactory(person=person, due_date=TODAY)

    _, response = assert_constant_queries(
        client, reverse("portal_home"), add, django_assert_num_queries
    )
    assert response.content.decode().count("SAR-") >= 25


def test_portal_request_detail(client, patch, officer, django_assert_num_queries):
    account, person = portal_account(patch, officer)
    client.force_login(account)
    sar = SubjectAccessRequestFactory(person=person, due_date=TODAY)

    def add(n):
        for i in range(n):
            PortalMessageFactory(request=sar, from_staff=bool(i % 2))

    _, response = assert_constant_queries(
        client, reverse("portal_request_detail", args=[sar.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("When will my answer come?") == 25
