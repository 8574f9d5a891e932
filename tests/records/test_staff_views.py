import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from access.roles import Role
from records.models import Marker
from tests.factories import (
    JobApplicationFactory,
    MarkerFactory,
    StaffRecordFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SALARY_TEXTS = ("38,250", "38250")
HR_NOTE = "Final written warning for lateness"
INTERVIEW_NOTE = "Weak on safeguarding scenario"


@pytest.fixture
def staff_record():
    return StaffRecordFactory(
        person__first_name="Priya",
        person__last_name="Raman",
        employee_number="E-0042",
        job_title="Income officer",
        salary=Decimal("38250.00"),
        hr_notes=HR_NOTE,
    )


@pytest.fixture
def application():
    return JobApplicationFactory(
        person__first_name="Oliver",
        person__last_name="Brandt",
        post="Caretaker",
        interview_notes=INTERVIEW_NOTE,
    )


@pytest.fixture
def hr_client(client, login_as):
    login_as(Role.HR_OFFICER)
    return client


def assert_no_hr_secrets(body: str):
    for text in (*SALARY_TEXTS, HR_NOTE, INTERVIEW_NOTE):
        assert text not in body


def test_hr_home_lists_staff_and_applications(hr_client, staff_record, application):
    response = hr_client.get(reverse("hr_home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Priya Raman" in body and "E-0042" in body
    assert "Oliver Brandt" in body and "Caretaker" in body
    # Pay and notes stay on the record pages, which are audited.
    assert_no_hr_secrets(body)


def test_hr_home_filters(hr_client, staff_record, application):
    leaver = StaffRecordFactory(person__last_name="Leftearly", end_date=datetime.date(2022, 3, 31))
    body = hr_client.get(reverse("hr_home")).content.decode()
    assert "Leftearly" not in body
    body = hr_client.get(reverse("hr_home"), {"staff": "former"}).content.decode()
    assert leaver.person.last_name in body and "Priya Raman" not in body
    body = hr_client.get(reverse("hr_home"), {"application_status": "appointed"}).content.decode()
    assert "Oliver Brandt" not in body
    body = hr_client.get(reverse("hr_home"), {"q": "raman"}).content.decode()
    assert "Priya Raman" in body and "Oliver Brandt" not in body


def test_hr_home_queries_do_not_grow_with_rows(client, queries_do_not_grow, login_as):
    login_as(Role.HR_OFFICER)

    def add(count):
        for _ in range(count):
            record = StaffRecordFactory()
            MarkerFactory(person=record.person, kind=Marker.Kind.STAFF_SAFETY)
            JobApplicationFactory()

    response = queries_do_not_grow(client, reverse("hr_home"), add)
    assert response.content.decode().count("Staff safety warning") == 20


def test_hr_officer_sees_salary_and_notes_once_audited(
    client, staff_record, login_as, access_entries
):
    hr = login_as(Role.HR_OFFICER)
    response = client.get(reverse("staff_record_detail", args=[staff_record.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "£38,250.00" in body
    assert HR_NOTE in body
    assert "Income officer" in body
    entries = access_entries(staff_record)
    assert entries.count() == 1
    assert entries.get().actor == hr


def test_dpo_sees_a_job_application_once_audited(client, application, login_as, access_entries):
    login_as(Role.DATA_PROTECTION_LEAD)
    response = client.get(reverse("job_application_detail", args=[application.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert INTERVIEW_NOTE in body
    assert "Oliver Brandt" in body
    assert access_entries(application).count() == 1


def test_staff_record_shows_markers(hr_client, staff_record):
    MarkerFactory(person=staff_record.person, kind=Marker.Kind.SAFE_ADDRESS, details="Fled abuse.")
    body = hr_client.get(reverse("staff_record_detail", args=[staff_record.pk])).content.decode()
    assert "Safe address: never disclose contact details" in body
    assert "govuk-warning-text" in body


def test_missing_staff_record_is_404_for_hr(hr_client):
    assert hr_client.get(reverse("staff_record_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
        Role.CONTRACTS_OFFICER,
        Role.SENIOR_OFFICER,
    ],
)
def test_other_roles_get_nothing_from_hr(
    client, role, staff_record, application, login_as, access_entries
):
    login_as(role)
    for url in (
        reverse("hr_home"),
        reverse("staff_record_detail", args=[staff_record.pk]),
        reverse("job_application_detail", args=[application.pk]),
    ):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code in (403, 404)
        assert_no_hr_secrets(body)
        assert "Priya Raman" not in body
        assert "Oliver Brandt" not in body
    assert not access_entries(staff_record).exists()
    assert not access_entries(application).exists()


def test_a_superuser_without_an_hr_role_gets_nothing(client, staff_record):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("staff_record_detail", args=[staff_record.pk]))
    assert response.status_code in (403, 404)
    assert_no_hr_secrets(response.content.decode())
