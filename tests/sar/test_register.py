"""The rights-request register, its audited CSV export, and the committee's anonymised figures."""

import csv
import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from sar.services import requests as services
from tests.factories import SubjectAccessRequestFactory, user_with_role
from tmo.reports import SUPPRESSED, Cell, neutralise, suppress

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
REGISTER = reverse("sar_register")
CSV_URL = reverse("sar_register_csv")
FIGURES = reverse("sar_figures")


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


@pytest.fixture
def register():
    """An access request answered on time, an erasure refused late, one open and overdue."""
    on_time = SubjectAccessRequestFactory(
        requester_name="Olive Ontime",
        received_on=days_ago(30),
        due_date=days_ago(1),
        completed_on=days_ago(5),
        status="completed",
    )
    late = SubjectAccessRequestFactory(
        kind="erasure",
        channel="letter",
        requester_name='=HYPERLINK("http://evil.example")',
        received_on=days_ago(60),
        due_date=days_ago(25),
        completed_on=days_ago(20),
        status="refused",
        extension_months=0,
    )
    overdue = SubjectAccessRequestFactory(
        kind="rectification",
        requester_name="Oscar Overdue",
        received_on=days_ago(40),
        due_date=days_ago(3),
        extension_months=1,
    )
    return {"on_time": on_time, "late": late, "overdue": overdue}


@pytest.fixture
def lead(client):
    user = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(user)
    return user


def test_register_lists_every_request_with_timeliness(client, lead, register):
    body = client.get(REGISTER).content.decode()
    for request in register.values():
        assert request.reference in body
    assert "Olive Ontime" in body
    assert "On time" in body and "Late" in body and "Overdue" in body


def test_register_rows_say_on_time_late_and_time_taken(register):
    on_time = services.register_row(register["on_time"])
    assert on_time.timeliness == "on time"
    assert on_time.working_days == services.clock.working_days_between(days_ago(30), days_ago(5))
    assert services.register_row(register["late"]).timeliness == "late"
    overdue = services.register_row(register["overdue"])
    assert (overdue.timeliness, overdue.working_days, overdue.extended) == ("overdue", None, True)


def test_register_filters(client, lead, register):
    body = client.get(REGISTER, {"kind": "erasure"}).content.decode()
    assert register["late"].reference in body
    assert register["on_time"].reference not in body
    body = client.get(REGISTER, {"status": "open"}).content.decode()
    assert register["overdue"].reference in body
    assert register["late"].reference not in body
    start = days_ago(45)
    body = client.get(
        REGISTER,
        {"date_from_0": start.day, "date_from_1": start.month, "date_from_2": start.year},
    ).content.decode()
    assert register["overdue"].reference in body and register["on_time"].reference in body
    assert register["late"].reference not in body


def test_register_query_count_is_constant(client, lead, register):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            client.get(REGISTER)
        return len(captured)

    client.get(REGISTER)
    few = count()
    for _ in range(4):
        SubjectAccessRequestFactory(handler=user_with_role(Role.HOUSING_OFFICER))
    assert count() == few


def test_csv_export_is_formula_safe_and_audited(client, lead, register):
    response = client.get(CSV_URL, {"kind": "erasure"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Reference", "Type", "Received by", "Requester"]
    assert len(rows) == 2
    assert rows[1][0] == register["late"].reference
    assert rows[1][3].startswith("'=HYPERLINK")
    assert rows[1][9] == "late"
    entry = LogEntry.objects.filter(actor=lead).latest("timestamp")
    assert entry.additional_data["event"] == "sar_register_exported"
    assert entry.additional_data["references"] == [register["late"].reference]
    assert entry.additional_data["filters"]["kind"] == "erasure"


def test_csv_with_bad_filters_exports_nothing(client, lead, register):
    response = client.get(CSV_URL, {"date_from_0": "40", "date_from_1": "1", "date_from_2": "2026"})
    assert response["Content-Type"].startswith("text/html")
    assert "govuk-error-summary" in response.content.decode()
    assert not LogEntry.objects.filter(
        actor=lead, additional_data__event="sar_register_exported"
    ).exists()


def test_figures_suppress_small_numbers_and_show_no_names(client, register):
    for _ in range(5):
        SubjectAccessRequestFactory(received_on=TODAY.replace(day=1), requester_name="Zed Zebra")
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    response = client.get(FIGURES)
    assert response.status_code == 200
    body = response.content.decode()
    assert SUPPRESSED in body
    for request in register.values():
        assert request.reference not in body
    for name in ("Olive", "Oscar", "Zed Zebra", "HYPERLINK"):
        assert name not in body
    figures = services.monthly_figures()
    this_month = figures["rows"][-1][1]
    # At least five received this month are shown as a number; the totals follow the rules.
    assert this_month[0].value >= 5 and not this_month[0].suppressed
    for _label, cells in figures["rows"]:
        for cell in cells:
            assert cell.suppressed or not (0 < cell.value < 5)


def test_committee_may_see_the_figures_and_nothing_else(client, register):
    client.force_login(user_with_role(Role.COMMITTEE_MEMBER))
    assert client.get(FIGURES).status_code == 200
    for url in (
        REGISTER,
        CSV_URL,
        reverse("sar_request_list"),
        reverse("sar_request_detail", args=[register["on_time"].pk]),
    ):
        response = client.get(url)
        assert response.status_code in (403, 404)
        assert "Olive" not in response.content.decode()


def test_register_is_for_senior_officers_and_the_lead(client, register):
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(REGISTER).status_code == 403
    assert client.get(CSV_URL).status_code == 403
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    assert "Olive Ontime" in client.get(REGISTER).content.decode()


# --- the shared suppression helper --------------------------------------------------------------


def test_suppress_hides_small_counts_and_protects_them_from_the_total():
    cells = suppress([[3], [7], [9]], row_totals=False)
    assert [str(row[0]) for row in cells] == [SUPPRESSED, SUPPRESSED, "9", "19"]
    assert str(Cell(0)) == "0"


def test_neutralise_defuses_formulas():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("Plain") == "Plain"
