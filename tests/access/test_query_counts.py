"""The access pages (breaches, audit search, retention, meetings) run a fixed number of queries,
however many rows they show (see tests/query_counts.py)."""

import datetime
import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from access.models import BreachOutcome, BreachSubject
from access.roles import Role
from access.services import breaches as breach_services
from records.models import Person
from tests.factories import (
    ConfidentialReportFactory,
    DisposalCandidateFactory,
    DisposalCertificateFactory,
    DisposalReviewFactory,
    LegalHoldFactory,
    MeetingFactory,
    PersonFactory,
    ReportCopyFactory,
    tenant_in_patch,
    user_with_role,
)
from tests.query_counts import assert_constant_queries
from tmo.audit import record_access

pytestmark = pytest.mark.django_db

numbers = itertools.count(1)


@pytest.fixture
def dpo(client):
    user = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(user)
    return user


def report_breach(reporter):
    return breach_services.report_breach(
        reported_by=reporter, summary="A letter went to the wrong address."
    )


def test_breach_list(client, dpo, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            breach = report_breach(user_with_role(Role.HOUSING_OFFICER))
            if next(numbers) % 2:
                breach_services.acknowledge_breach(
                    user=dpo, breach=breach, decision=breach_services.Triage.OPEN
                )

    _, response = assert_constant_queries(
        client, reverse("breach_list"), add, django_assert_num_queries
    )
    assert response.content.decode().count("A letter went to the wrong address.") >= 25


def test_breach_detail(client, dpo, patch, django_assert_num_queries):
    breach = report_breach(user_with_role(Role.HOUSING_OFFICER))
    person_type = ContentType.objects.get_for_model(Person)

    def add(n):
        for _ in range(n):
            person = tenant_in_patch(patch)
            BreachSubject.objects.create(
                breach=breach, content_type=person_type, object_id=person.pk, added_by=dpo
            )
            BreachOutcome.objects.create(
                breach=breach,
                kind=BreachOutcome.Kind.DISCIPLINARY_REFERRAL,
                user=user_with_role(Role.HOUSING_OFFICER),
                decided_by=dpo,
            )

    assert_constant_queries(
        client, reverse("breach_detail", args=[breach.pk]), add, django_assert_num_queries
    )


@pytest.mark.parametrize("about_person", [False, True])
def test_audit_search_for_a_person(client, dpo, about_person, django_assert_num_queries):
    person = PersonFactory()
    readers = [user_with_role(Role.HOUSING_OFFICER) for _ in range(3)]
    filters = {
        "record_type": "records.person",
        "record_id": person.pk,
        "action": "opened",
        "about_person": "on" if about_person else "",
    }

    def add(n):
        for i in range(n):
            record_access(user=readers[i % 3], obj=person)

    _, response = assert_constant_queries(
        client, reverse("audit_search"), add, django_assert_num_queries, data=filters
    )
    assert len(response.context["rows"]) == 25


def test_disposal_review_list(client, dpo, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            review = DisposalReviewFactory(status="completed")
            DisposalCandidateFactory.create_batch(2, review=review)

    assert_constant_queries(client, reverse("disposal_review_list"), add, django_assert_num_queries)


def test_disposal_review_detail(client, dpo, django_assert_num_queries):
    review = DisposalReviewFactory()

    def add(n):
        for i in range(n):
            DisposalCandidateFactory(
                review=review,
                model_label="records.contactrecord" if i % 2 else "records.document",
            )

    assert_constant_queries(
        client,
        reverse("disposal_review_detail", args=[review.pk]),
        add,
        django_assert_num_queries,
    )


def test_legal_hold_list(client, dpo, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            LegalHoldFactory(placed_by=dpo, object_id=str(next(numbers)))

    assert_constant_queries(client, reverse("legal_hold_list"), add, django_assert_num_queries)


def test_disposal_certificate_list(client, dpo, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            DisposalCertificateFactory(approved_by=dpo)

    assert_constant_queries(
        client, reverse("disposal_certificate_list"), add, django_assert_num_queries
    )


def test_meeting_list(client, django_assert_num_queries):
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    members = [user_with_role(Role.COMMITTEE_MEMBER) for _ in range(2)]

    def add(n):
        for _ in range(n):
            MeetingFactory().attendees.set(members)

    assert_constant_queries(client, reverse("meeting_list"), add, django_assert_num_queries)


def test_meeting_detail(client, django_assert_num_queries):
    secretary = user_with_role(Role.SENIOR_OFFICER)
    client.force_login(secretary)
    meeting = MeetingFactory(held_on=timezone.localdate() - datetime.timedelta(days=1))

    def add(n):
        for _ in range(n):
            member = user_with_role(Role.COMMITTEE_MEMBER)
            meeting.attendees.add(member)
            report = ConfidentialReportFactory(meeting=meeting, created_by=secretary)
            ReportCopyFactory(report=report, member=member, issued_by=secretary)

    _, response = assert_constant_queries(
        client, reverse("meeting_detail", args=[meeting.pk]), add, django_assert_num_queries
    )
    assert response.content.decode().count("Rent arrears: possession proceedings") >= 25
