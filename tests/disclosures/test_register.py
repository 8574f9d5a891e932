"""The disclosure register, its audited exports, the committee's anonymised figures, and the
person's "who has seen and shared this record" history."""

import csv
import datetime
import io
import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from access.history import history_of
from access.roles import Role
from disclosures import reports, services
from tests.factories import (
    DisclosureDecisionFactory,
    DisclosureRequestFactory,
    MarkerFactory,
    PersonFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

REGISTER = reverse("disclosure_register")
CSV_URL = reverse("disclosure_register_csv")
PDF_URL = reverse("disclosure_register_pdf")
FIGURES = reverse("disclosure_figures")


def decided(request, outcome, *, on=None, items=("records.person.phone",)):
    decided_at = timezone.make_aware(
        datetime.datetime.combine(on or request.received_on, datetime.time(12))
    )
    return DisclosureDecisionFactory(
        request=request,
        outcome=outcome,
        released_items=[] if outcome == "refuse" else list(items),
        decided_at=decided_at,
    )


@pytest.fixture
def register():
    """Four requests, one of each outcome, of different types, bases and dates."""
    police = DisclosureRequestFactory(
        reference="DR-2026-0101",
        person=PersonFactory(first_name="Petra", last_name="Policecase"),
        received_on=datetime.date(2026, 1, 9),  # a Friday
    )
    decided(police, "partial", on=datetime.date(2026, 1, 14))  # Wednesday: 3 working days
    council = DisclosureRequestFactory(
        reference="DR-2026-0102",
        requester_type="council",
        requester_organisation="Southwark Council",
        basis="legal_obligation",
        person=PersonFactory(first_name="Colin", last_name="Councilcase"),
        received_on=datetime.date(2026, 2, 2),
    )
    decided(council, "release", on=datetime.date(2026, 2, 2))
    debt = DisclosureRequestFactory(
        reference="DR-2026-0103",
        requester_type="debt_collector",
        requester_organisation="Acme Recoveries Ltd",
        basis="consent",
        person=PersonFactory(first_name="Dora", last_name="Debtcase"),
        received_on=datetime.date(2026, 3, 2),
    )
    decided(debt, "refuse", on=datetime.date(2026, 3, 4))
    waiting = DisclosureRequestFactory(
        reference="DR-2026-0104",
        requester_type="solicitor",
        requester_organisation="Grey & Co Solicitors",
        basis="legal_proceedings",
        person=PersonFactory(first_name="Wanda", last_name="Waitingcase"),
        received_on=datetime.date(2026, 3, 20),
    )
    return {"police": police, "council": council, "debt": debt, "waiting": waiting}


def references(response) -> list[str]:
    return sorted(row.reference for row in response.context["rows"])


class TestRegister:
    def test_lists_every_request_with_what_was_decided(self, client, login_as, register):
        login_as(Role.SENIOR_OFFICER)
        response = client.get(REGISTER)
        assert response.status_code == 200
        body = response.content.decode()
        for name in ("Petra Policecase", "Colin Councilcase", "Dora Debtcase", "Wanda Waitingcase"):
            assert name in body
        assert "Metropolitan Police Service" in body
        assert "Partly released" in body and "Refused" in body
        assert "Waiting for a decision" in body
        rows = {row.reference: row for row in response.context["rows"]}
        assert rows["DR-2026-0101"].working_days == 3
        assert rows["DR-2026-0102"].working_days == 0
        assert rows["DR-2026-0104"].working_days is None
        assert rows["DR-2026-0104"].outcome == "waiting"

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"requester_type": "council"}, ["DR-2026-0102"]),
            ({"outcome": "partial"}, ["DR-2026-0101"]),
            ({"outcome": "released"}, ["DR-2026-0102"]),
            ({"outcome": "refused"}, ["DR-2026-0103"]),
            ({"outcome": "waiting"}, ["DR-2026-0104"]),
            ({"basis": "consent"}, ["DR-2026-0103"]),
            (
                {"date_from_0": "1", "date_from_1": "2", "date_from_2": "2026"},
                ["DR-2026-0102", "DR-2026-0103", "DR-2026-0104"],
            ),
            (
                {
                    "date_from_0": "1",
                    "date_from_1": "2",
                    "date_from_2": "2026",
                    "date_to_0": "2",
                    "date_to_1": "3",
                    "date_to_2": "2026",
                },
                ["DR-2026-0102", "DR-2026-0103"],
            ),
            ({"requester_type": "police", "outcome": "refused"}, []),
        ],
    )
    def test_filters(self, client, login_as, register, query, expected):
        login_as(Role.DATA_PROTECTION_LEAD)
        response = client.get(REGISTER, query)
        assert references(response) == expected

    def test_dates_the_wrong_way_round_are_an_error_and_export_nothing(
        self, client, login_as, register
    ):
        login_as(Role.SENIOR_OFFICER)
        query = {
            "date_from_0": "1",
            "date_from_1": "3",
            "date_from_2": "2026",
            "date_to_0": "1",
            "date_to_1": "2",
            "date_to_2": "2026",
        }
        body = client.get(REGISTER, query).content.decode()
        assert "govuk-error-summary" in body
        assert "must be the same as or after" in body
        response = client.get(CSV_URL, query)
        assert response["Content-Type"].startswith("text/html")
        assert not LogEntry.objects.filter(
            additional_data__event="disclosure_register_exported"
        ).exists()

    def test_query_count_does_not_grow(self, client, login_as, queries_do_not_grow):
        login_as(Role.SENIOR_OFFICER)

        def add_rows(count):
            for _ in range(count):
                request = DisclosureRequestFactory()
                MarkerFactory(person=request.person)
                decided(request, "partial")
                DisclosureRequestFactory()

        response = queries_do_not_grow(client, REGISTER, add_rows)
        assert response.context["page"].paginator.count == 40

    @pytest.mark.parametrize(
        "role", sorted(set(Role) - {Role.SENIOR_OFFICER, Role.DATA_PROTECTION_LEAD}), ids=str
    )
    def test_only_deciders_reach_the_register_or_its_exports(self, client, role, register):
        client.force_login(user_with_role(role))
        for url in (REGISTER, CSV_URL, PDF_URL):
            response = client.get(url)
            assert response.status_code == 403, url
            body = response.content.decode(errors="replace")
            assert "Policecase" not in body and "DR-2026-0101" not in body
        assert not LogEntry.objects.filter(
            additional_data__event="disclosure_register_exported"
        ).exists()

    def test_a_decider_without_current_training_sees_no_request(self, client, register):
        client.force_login(user_with_role(Role.SENIOR_OFFICER, compliant=False))
        body = client.get(REGISTER).content.decode()
        assert "Policecase" not in body
        assert "No disclosure requests" in body


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


class TestExports:
    def test_csv_has_the_filtered_rows_and_columns(self, client, login_as, register):
        login_as(Role.SENIOR_OFFICER)
        response = client.get(CSV_URL, {"outcome": "partial"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment;")
        assert ".csv" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header == list(reports.CSV_COLUMNS)
        assert len(rows) == 1
        row = dict(zip(header, rows[0], strict=True))
        assert row["Reference"] == "DR-2026-0101"
        assert row["Person"] == "Petra Policecase"
        assert row["Organisation"] == "Metropolitan Police Service"
        assert row["Requester type"] == "Police"
        assert row["Outcome"] == "Partly released"
        assert row["Received"] == "2026-01-09"
        assert row["Decided"] == "2026-01-14"
        assert row["Working days to decide"] == "3"
        assert "Councilcase" not in response.content.decode("utf-8-sig")

    def test_csv_neutralises_formulas_and_quotes_cells(self, client, login_as):
        DisclosureRequestFactory(
            reference="DR-2026-0201",
            requester_organisation='=HYPERLINK("http://evil.example","Click")',
            requester_name="DC Quote",
            person=PersonFactory(first_name="@SUM(A1)", last_name='O"Brien, -Jones'),
        )
        DisclosureRequestFactory(requester_organisation="+44 20 7946 0000")
        DisclosureRequestFactory(requester_organisation="-2+3")
        login_as(Role.DATA_PROTECTION_LEAD)
        response = client.get(CSV_URL)
        text = response.content.decode("utf-8-sig")
        _header, *rows = csv_rows(response)
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c[:1] in {"=", "+", "-", "@"}]
        assert '\'=HYPERLINK("http://evil.example","Click")' in cells
        assert "'+44 20 7946 0000" in cells
        assert "'-2+3" in cells
        assert "'@SUM(A1) O\"Brien, -Jones" in cells
        # Every cell is quoted, and a quote inside one is doubled.
        assert '"\'@SUM(A1) O""Brien, -Jones"' in text

    def test_pdf_parses_back_with_the_rows(self, client, login_as, register):
        login_as(Role.SENIOR_OFFICER)
        response = client.get(
            PDF_URL, {"date_from_0": "1", "date_from_1": "2", "date_from_2": "2026"}
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        reader = PdfReader(io.BytesIO(response.content))
        page = reader.pages[0]
        assert page.mediabox.width > page.mediabox.height  # landscape
        # Words wrap inside the table's cells: compare with the line breaks as spaces.
        text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
        for expected in (
            "DR-2026-0102",
            "Colin Councilcase",
            "DR-2026-0103",
            "Dora Debtcase",
            "DR-2026-0104",
            "Southwark Council",
            "3 requests",
        ):
            assert expected in text
        assert "Policecase" not in text
        assert "DR-2026-0101" not in text

    @pytest.mark.parametrize("url", [CSV_URL, PDF_URL], ids=["csv", "pdf"])
    def test_each_export_writes_one_audit_entry(self, client, login_as, register, url):
        officer = login_as(Role.SENIOR_OFFICER)
        before = LogEntry.objects.count()
        client.get(url, {"requester_type": "police"})
        entries = LogEntry.objects.filter(additional_data__event="disclosure_register_exported")
        assert entries.count() == 1
        assert LogEntry.objects.count() == before + 1
        entry = entries.get()
        assert entry.actor == officer
        assert entry.additional_data["format"] == url.rsplit(".", 1)[-1]
        assert entry.additional_data["filters"]["requester_type"] == "police"
        assert entry.additional_data["count"] == 1
        assert entry.additional_data["references"] == ["DR-2026-0101"]
        # The entry names what was exported, not the people in it.
        assert "Policecase" not in str(entry.additional_data)


class TestMonthlyFigures:
    @pytest.fixture
    def month(self):
        return timezone.localdate().replace(day=1)

    def test_small_numbers_are_suppressed_with_their_complement(self, client, login_as, month):
        for n in range(3):
            DisclosureRequestFactory(
                reference="DR-2026-07%02d" % n,
                person=PersonFactory(last_name="Smallnumber%d" % n),
                received_on=month,
            )
        for _ in range(10):
            DisclosureRequestFactory(
                requester_type="council", requester_organisation="Lambeth", received_on=month
            )
        login_as(Role.COMMITTEE_MEMBER)
        response = client.get(FIGURES)
        assert response.status_code == 200
        body = response.content.decode()
        table = response.context["figures"]["by_type"]
        assert table["columns"] == ["Police", "Council"]
        label, cells = table["rows"][-1]
        assert label.startswith(month.strftime("%B %Y"))
        police, council, total = cells
        assert police.suppressed and str(police) == "fewer than 5"
        # Police alone hidden would be the total less the council's 10: that is hidden too.
        assert council.suppressed
        assert not total.suppressed and str(total) == "13"
        assert "fewer than 5" in body
        assert ">3<" not in body and "> 3 <" not in body
        assert not re.search(r">\s*3\s*<", body)
        for secret in ("Smallnumber", "DR-2026-07", "Metropolitan", "Lambeth"):
            assert secret not in body

    def test_time_to_decide_is_hidden_for_few_decisions(self, client, login_as, month):
        for _ in range(2):
            decided(DisclosureRequestFactory(received_on=month), "refuse")
        login_as(Role.SENIOR_OFFICER)
        figures = client.get(FIGURES).context["figures"]["time_to_decide"]
        _label, time = figures["rows"][-1]
        assert time["decided"].suppressed
        assert time["median"] is None and time["average"] is None

    def test_time_to_decide_for_enough_decisions(self, month):
        for days in range(6):
            request = DisclosureRequestFactory(received_on=month - datetime.timedelta(days=40))
            decided(request, "release", on=request.received_on + datetime.timedelta(days=days))
        figures = reports.monthly_figures()
        totals = figures["time_to_decide"]["totals"]
        assert str(totals["decided"]) == "6"
        assert totals["median"] is not None and totals["average"] is not None

    def test_old_requests_are_left_out(self, month):
        DisclosureRequestFactory(received_on=month - datetime.timedelta(days=400))
        figures = reports.monthly_figures()
        assert len(figures["months"]) == 12
        assert figures["by_type"]["columns"] == []
        assert str(figures["by_outcome"]["totals"][-1]) == "0"

    @pytest.mark.parametrize(
        "role",
        [Role.HOUSING_OFFICER, Role.TENANT, Role.SYSTEM_ADMINISTRATOR, Role.FINANCE_OFFICER],
        ids=str,
    )
    def test_figures_are_for_oversight_and_the_committee_only(self, client, role):
        client.force_login(user_with_role(role))
        assert client.get(FIGURES).status_code == 403


class TestSuppression:
    def test_no_line_is_left_with_one_hidden_cell(self):
        table = [[3, 10, 0], [7, 8, 12], [6, 2, 9], [0, 0, 0]]
        cells = reports.suppress(table)
        lines = list(cells) + [[row[c] for row in cells] for c in range(4)]
        for line in lines:
            assert sum(cell.suppressed for cell in line) != 1
        # Primary: every 1-4 count is hidden; noughts are shown.
        assert cells[0][0].suppressed and cells[2][1].suppressed
        assert not cells[3][0].suppressed and str(cells[3][0]) == "0"
        # The totals are still right where shown.
        assert cells[-1][-1].value == sum(map(sum, table))

    def test_nothing_hidden_when_every_count_is_large(self):
        cells = reports.suppress([[5, 6], [7, 0]])
        assert not any(cell.suppressed for row in cells for cell in row)

    @pytest.mark.parametrize(
        ("start", "end", "days"),
        [
            (datetime.date(2026, 1, 9), datetime.date(2026, 1, 12), 1),  # Friday to Monday
            (datetime.date(2026, 1, 9), datetime.date(2026, 1, 9), 0),
            # 24 Dec to 29 Dec 2025: Christmas Day and Boxing Day are bank holidays.
            (datetime.date(2025, 12, 24), datetime.date(2025, 12, 29), 1),
        ],
    )
    def test_working_days(self, start, end, days):
        assert reports.working_days_between(start, end) == days


class TestPersonHistory:
    @pytest.fixture
    def disclosed(self, patch):
        person = tenant_in_patch(patch, first_name="Hana", last_name="Historycase")
        senior = user_with_role(Role.SENIOR_OFFICER)
        request = DisclosureRequestFactory(person=person)
        decision = services.disclosure_decide(
            request=request,
            decided_by=senior,
            outcome="partial",
            released_items=["records.person.phone"],
            necessity="To contact a witness.",
            reasons="Not disclosing would prejudice the investigation.",
            decider_position="Housing manager",
        )
        services.disclosure_send(
            decision=decision, sent_by=senior, recipient_confirmed="sam.holloway@met.example"
        )
        refused = DisclosureRequestFactory(
            person=person, requester_type="debt_collector", requester_organisation="Acme"
        )
        services.disclosure_decide(
            request=refused,
            decided_by=senior,
            outcome="refuse",
            released_items=[],
            necessity="",
            reasons="No basis for a debt collector.",
            decider_position="Housing manager",
        )
        return person, request, refused, senior

    def test_the_data_protection_lead_sees_what_was_shared(self, client, login_as, disclosed):
        person, request, refused, senior = disclosed
        login_as(Role.DATA_PROTECTION_LEAD)
        body = client.get(reverse("person_detail", args=[person.pk])).content.decode()
        assert "Who has seen this record, and what was shared" in body
        assert "Disclosed to Metropolitan Police Service (%s): phone" % request.reference in body
        assert "Refused a request for information (%s)" % refused.reference in body
        assert (
            "Decided to release part of what was asked for (%s): phone" % request.reference
        ) in body
        assert senior.get_username() in body

    def test_a_housing_officer_does_not(self, officer_client, disclosed):
        person, request, _refused, _senior = disclosed
        body = officer_client.get(reverse("person_detail", args=[person.pk])).content.decode()
        assert "Historycase" in body
        assert "Disclosed to" not in body
        assert request.reference not in body

    def test_history_merges_reads_and_events_newest_first(self, officer_client, disclosed):
        person, request, _refused, _senior = disclosed
        officer_client.get(reverse("person_detail", args=[person.pk]))
        history = history_of(person)
        assert history[0].kind == "read"
        events = [entry.event for entry in history if entry.is_sharing]
        assert events == ["disclosure_decided", "disclosure_sent", "disclosure_decided"]
        assert [e.timestamp for e in history] == sorted(
            (e.timestamp for e in history), reverse=True
        )

    def test_person_page_query_count_does_not_grow_with_history(
        self, client, login_as, disclosed, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tmo.audit import record_event

        person, request, *_ = disclosed
        lead = login_as(Role.DATA_PROTECTION_LEAD)
        url = reverse("person_detail", args=[person.pk])
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        # Read now: each later request clears the connection's query log.
        few_queries = len(few)
        for _ in range(20):
            record_event(
                actor=lead, obj=person, event="disclosure_requested", reference=request.reference
            )
            client.get(url)
        with django_assert_max_num_queries(few_queries):
            client.get(url)
