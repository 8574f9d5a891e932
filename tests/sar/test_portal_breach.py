"""A resident reports a problem with their data from the portal: it reaches the data protection
lead at once as a suspected breach, with the resident's own record as the first person affected,
and cannot sit unescalated."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from access.models import Breach
from access.roles import Role
from access.services import breaches
from sar.services import portal as services
from tests.factories import PatchFactory, tenant_in_patch, user_with_role

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual pass phrase 42"
PROBLEM = "When I signed in I could see someone else's repair booking and phone number."


@pytest.fixture
def officer():
    return user_with_role(Role.HOUSING_OFFICER)


@pytest.fixture
def person(officer):
    return tenant_in_patch(PatchFactory(officers=[officer]), first_name="Alice", last_name="Anders")


@pytest.fixture
def account(officer, person):
    code = services.issue_activation_code(issued_by=officer, person=person)
    return services.activate_with_code(code=code, email=person.email, password=PASSWORD)


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD, email="dpo@tmo.example")


def test_a_resident_report_reaches_the_dpo(
    client, account, person, dpo, django_capture_on_commit_callbacks
):
    client.force_login(account)
    home = client.get(reverse("portal_home")).content.decode()
    assert reverse("portal_data_problem") in home
    assert client.get(reverse("portal_data_problem")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal_data_problem"), {"description": PROBLEM})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_home")

    breach = Breach.objects.get()
    assert breach.kind == Breach.Kind.RESIDENT
    assert breach.how_reported == Breach.HowReported.PORTAL
    assert breach.status == Breach.Status.REPORTED
    assert breach.reported_by == account
    assert breach.summary == PROBLEM
    # The organisation is aware from the moment the report arrives: the 72 hours run from then.
    assert breach.became_aware_at == breach.reported_at
    assert [subject.content_object for subject in breach.subjects.all()] == [person]

    [message] = [m for m in mail.outbox if m.to == ["dpo@tmo.example"]]
    assert "#%s" % breach.pk in message.subject
    assert "a resident, through the portal" in message.body
    assert reverse("breach_detail", args=[breach.pk]) in message.body
    for secret in (PROBLEM, person.last_name, person.email):
        assert secret not in message.subject + message.body

    # The DPO opens it and sees the resident as affected.
    client.force_login(dpo)
    detail = client.get(reverse("breach_detail", args=[breach.pk])).content.decode()
    assert escape(PROBLEM) in detail
    assert "Alice Anders" in detail


def test_an_empty_report_is_refused(client, account, dpo):
    client.force_login(account)
    response = client.post(reverse("portal_data_problem"), {"description": "  "})
    assert response.status_code == 200
    assert "Tell us what is wrong" in response.content.decode()
    assert not Breach.objects.exists()


def test_unacknowledged_it_is_escalated_to_the_senior_officers(account, dpo):
    senior = user_with_role(Role.SENIOR_OFFICER, email="senior@tmo.example")
    received = timezone.now() - datetime.timedelta(hours=5)
    breach = breaches.report_data_problem(account=account, description=PROBLEM, now=received)
    mail.outbox.clear()
    assert breaches.escalate_unacknowledged(now=received + datetime.timedelta(hours=3)) == 0
    assert breaches.escalate_unacknowledged(now=received + datetime.timedelta(hours=4)) == 1
    assert [m.to for m in mail.outbox] == [[senior.email]]
    assert "#%s" % breach.pk in mail.outbox[0].subject


def test_the_resident_sees_nothing_of_the_breach_log(client, account, dpo):
    breaches.report_data_problem(account=account, description=PROBLEM)
    breach = Breach.objects.get()
    client.force_login(account)
    for url in (reverse("breach_list"), reverse("breach_detail", args=[breach.pk])):
        response = client.get(url)
        assert response.status_code == 403
        assert escape(PROBLEM) not in response.content.decode()


def test_staff_use_their_own_form_not_the_portal(client, officer):
    client.force_login(officer)
    assert client.get(reverse("portal_data_problem")).status_code == 403
