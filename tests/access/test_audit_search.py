"""The data protection lead's audit trail search: filters, the two ready-made questions, the CSV
export (itself recorded in the chain), the chain status, and nobody else sees any of it."""

import csv
import datetime
import io

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from access.views.audit import everyone_who_opened_url, opened_last_week_url
from tests.factories import (
    ContactRecordFactory,
    PatchFactory,
    tenant_in_patch,
    user_with_role,
)
from tmo import auditchain
from tmo.models import AuditVerification

pytestmark = pytest.mark.django_db

SEARCH = reverse("audit_search")
CSV = reverse("audit_search_csv")


def opened(user, obj, *, days_ago: int = 0):
    """An ACCESS entry for `user` opening `obj`, `days_ago` days back."""
    return LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=user,
        timestamp=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def world():
    patch = PatchFactory()
    amy = user_with_role(Role.HOUSING_OFFICER, first_name="Amy", last_name="Reader")
    ben = user_with_role(Role.HOUSING_OFFICER, first_name="Ben", last_name="Looker")
    yvonne = tenant_in_patch(patch, first_name="Yvonne", last_name="Audited")
    zed = tenant_in_patch(patch, first_name="Zed", last_name="Otherperson")
    with set_actor(amy):
        yvonne.ni_number = "QQ 99 88 77 A"
        yvonne.save()
    contact = ContactRecordFactory(person=yvonne)
    opened(amy, yvonne)
    opened(amy, yvonne, days_ago=2)
    opened(amy, zed, days_ago=3)
    opened(amy, zed, days_ago=10)  # outside "last week"
    opened(ben, yvonne, days_ago=1)
    opened(ben, contact)
    return {"amy": amy, "ben": ben, "yvonne": yvonne, "zed": zed, "contact": contact}


@pytest.fixture
def dpo(client):
    user = user_with_role(Role.DATA_PROTECTION_LEAD, first_name="Dana", last_name="Lead")
    client.force_login(user)
    return user


def person_type() -> str:
    return "records.person"


def body_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def entries_on_page(response) -> list:
    return [item["row"] for item in response.context["rows"]]


# --- filters --------------------------------------------------------------------------------------


def test_the_lead_sees_the_whole_trail_newest_first(world, dpo, client):
    response = client.get(SEARCH)
    rows = entries_on_page(response)
    assert len(rows) == min(LogEntry.objects.count(), 25)
    assert rows == sorted(rows, key=lambda r: (r.timestamp, r.pk), reverse=True)
    assert all(r.position for r in rows)  # every entry shows its place in the chain
    body = body_of(response)
    assert "Yvonne Audited" in body and "Amy Reader" in body


def test_by_record(world, dpo, client):
    yvonne = world["yvonne"]
    response = client.get(SEARCH, {"record_type": person_type(), "record_id": yvonne.pk})
    rows = entries_on_page(response)
    assert rows and {(r.record_type, r.object_pk) for r in rows} == {
        ("records.person", str(yvonne.pk))
    }
    assert "Otherperson" not in body_of(response)


def test_by_person_includes_the_records_about_them(world, dpo, client):
    yvonne, contact = world["yvonne"], world["contact"]
    response = client.get(
        SEARCH, {"record_type": person_type(), "record_id": yvonne.pk, "about_person": "on"}
    )
    kinds = {(r.record_type, r.object_pk) for r in entries_on_page(response)}
    assert ("records.contactrecord", str(contact.pk)) in kinds
    assert ("records.person", str(yvonne.pk)) in kinds
    assert ("records.person", str(world["zed"].pk)) not in kinds


def test_values_are_shown_masked_as_stored(world, dpo, client):
    yvonne = world["yvonne"]
    response = client.get(
        SEARCH,
        {"record_type": person_type(), "record_id": yvonne.pk, "action": "changed"},
    )
    [change] = entries_on_page(response)
    assert "ni_number: [redacted] → [redacted]" in change.changes
    body = body_of(response)
    assert "QQ 99 88 77 A" not in body and "QQ998877A" not in body


def test_by_user(world, dpo, client):
    ben = world["ben"]
    rows = entries_on_page(client.get(SEARCH, {"actor": ben.pk}))
    assert len(rows) == 2 and {r.actor_id for r in rows} == {ben.pk}


@pytest.mark.parametrize(
    "action, expected",
    [
        ("opened", {LogEntry.Action.ACCESS}),
        ("created", {LogEntry.Action.CREATE}),
        ("changed", {LogEntry.Action.UPDATE}),
    ],
)
def test_by_action(world, dpo, client, action, expected):
    entries = LogEntry.objects.filter(
        pk__in=[r.pk for r in entries_on_page(client.get(SEARCH, {"action": action}))]
    )
    assert entries.exists()
    assert set(entries.values_list("action", flat=True)) == expected
    if action == "changed":
        assert not any("event" in (e.additional_data or {}) for e in entries)


def test_by_domain_event_name(world, dpo, client):
    from tmo.audit import record_event

    record_event(
        actor=world["amy"], obj=world["yvonne"], event="disclosure_decided", outcome="refuse"
    )
    record_event(actor=world["amy"], obj=world["yvonne"], event="something_else")
    rows = entries_on_page(client.get(SEARCH, {"event": "disclosure_decided"}))
    assert [r.event for r in rows] == ["disclosure_decided"]
    assert rows[0].description.startswith("Refused a request for information")
    rows = entries_on_page(client.get(SEARCH, {"action": "event"}))
    assert {r.event for r in rows} == {"disclosure_decided", "something_else"}


def test_by_period(world, dpo, client):
    today = timezone.localdate()
    rows = entries_on_page(
        client.get(
            SEARCH,
            {
                "action": "opened",
                "since": (today - datetime.timedelta(days=4)).isoformat(),
                "until": (today - datetime.timedelta(days=2)).isoformat(),
            },
        )
    )
    days = sorted((today - timezone.localtime(r.timestamp).date()).days for r in rows)
    assert days == [2, 3]


def test_a_period_backwards_is_an_error(dpo, client):
    response = client.get(SEARCH, {"since": "2025-05-02", "until": "2025-05-01"})
    assert response.status_code == 200
    assert "The end of the period must be on or after its start." in response.content.decode()
    assert entries_on_page(response) == []


def test_a_record_number_needs_its_kind(dpo, client):
    response = client.get(SEARCH, {"record_id": "5"})
    assert "Choose the kind of record the number belongs to." in response.content.decode()


# --- the two questions ----------------------------------------------------------------------------


def test_everything_a_user_opened_last_week(world, dpo, client):
    amy = world["amy"]
    response = client.get(SEARCH + opened_last_week_url(amy.pk))
    rows = entries_on_page(response)
    assert {r.actor_id for r in rows} == {amy.pk}
    assert {r.action for r in rows} == {"Opened"}
    assert len(rows) == 3  # not the read ten days ago
    # The question is offered as a link beside each entry by that user.
    assert opened_last_week_url(amy.pk).replace("&", "&amp;") in body_of(client.get(SEARCH))


def test_everyone_who_opened_a_person(world, dpo, client):
    yvonne = world["yvonne"]
    response = client.get(SEARCH + everyone_who_opened_url(person_type(), yvonne.pk))
    readers = {reader["username"]: reader["times"] for reader in response.context["readers"]}
    assert readers == {world["amy"].username: 2, world["ben"].username: 1}
    body = body_of(response)
    assert "Everyone who opened this record" in body
    assert "Ben Looker" in body


def test_the_questions_are_links_from_a_record_search(world, dpo, client):
    yvonne = world["yvonne"]
    body = body_of(client.get(SEARCH, {"record_type": person_type(), "record_id": yvonne.pk}))
    assert everyone_who_opened_url(person_type(), yvonne.pk).replace("&", "&amp;") in body


def test_the_person_page_links_the_lead_to_the_search(world, dpo, client):
    yvonne = world["yvonne"]
    body = body_of(client.get(reverse("person_detail", args=[yvonne.pk])))
    assert "Who has seen or changed this record" in body
    assert "record_type=records.person&amp;record_id=%d" % yvonne.pk in body


def test_the_person_page_has_no_link_for_an_officer(world, client):
    officer = user_with_role(Role.SENIOR_OFFICER)
    client.force_login(officer)
    body = body_of(client.get(reverse("person_detail", args=[world["yvonne"].pk])))
    assert "Who has seen or changed this record" not in body


# --- paging and queries ---------------------------------------------------------------------------


def test_the_list_runs_the_same_queries_however_many_entries(
    world, dpo, client, django_assert_num_queries
):
    client.get(SEARCH)  # warm the caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        assert client.get(SEARCH).status_code == 200
    other = user_with_role(Role.FINANCE_OFFICER)
    for n in range(40):
        opened(other if n % 2 else world["ben"], world["zed"])
    with django_assert_num_queries(len(few)):
        response = client.get(SEARCH)
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.num_pages == 3
    second = client.get(SEARCH, {"page": 2})
    assert {r.pk for r in entries_on_page(second)}.isdisjoint(
        r.pk for r in entries_on_page(response)
    )


# --- export ---------------------------------------------------------------------------------------


def test_csv_export_holds_the_matching_entries_and_is_recorded(world, dpo, client):
    yvonne = world["yvonne"]
    filters = {"record_type": person_type(), "record_id": yvonne.pk, "action": "opened"}
    response = client.get(CSV, filters)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, lines = table[0], table[1:]
    assert header[:4] == ["Chain position", "Entry", "When", "Who"]
    assert len(lines) == 3
    assert {line[header.index("Action")] for line in lines} == {"Opened"}
    assert {line[header.index("Record id")] for line in lines} == {str(yvonne.pk)}

    export = LogEntry.objects.get(additional_data__event="audit_trail_exported")
    assert export.actor == dpo
    assert export.additional_data["count"] == 3
    assert export.additional_data["filters"] == {
        "record_type": "records.person",
        "record_id": str(yvonne.pk),
        "action": "opened",
    }
    assert export.content_type == ContentType.objects.get_for_model(type(dpo))
    # The export is in the chain like everything else.
    assert auditchain.verify().ok


def test_csv_export_neutralises_formulas(world, dpo, client):
    LogEntry.objects.log_create(
        world["yvonne"],
        force_log=True,
        action=LogEntry.Action.ACCESS,
        object_repr="=HYPERLINK(1)",
        actor=world["amy"],
    )
    text = client.get(CSV, {"actor": world["amy"].pk}).content.decode("utf-8-sig")
    assert '"\'=HYPERLINK(1)"' in text
    assert '"=HYPERLINK' not in text


def test_csv_export_with_bad_filters_exports_nothing(dpo, client):
    response = client.get(CSV, {"since": "2025-05-02", "until": "2025-05-01"})
    assert response.status_code == 400
    assert not LogEntry.objects.filter(additional_data__event="audit_trail_exported").exists()


# --- the chain's state ----------------------------------------------------------------------------


def test_the_page_shows_the_last_check_and_checkpoint(world, dpo, client, tmp_path, settings):
    assert "Not checked yet" in body_of(client.get(SEARCH))
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    auditchain.daily_verify_and_checkpoint()
    body = body_of(client.get(SEARCH))
    assert "Intact" in body
    assert "Last checkpoint" in body and "None written yet" not in body


def test_the_page_shows_a_failed_check(world, dpo, client):
    AuditVerification.objects.create(
        ok=False, entries=9, head_position=9, message="entry 4 at #4 has been deleted"
    )
    body = body_of(client.get(SEARCH))
    assert "The audit trail failed its last check" in body
    assert "entry 4 at #4 has been deleted" in body


# --- only the data protection lead ----------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r != Role.DATA_PROTECTION_LEAD], ids=str)
def test_nobody_else_may_search_or_export(world, client, role):
    client.force_login(user_with_role(role))
    for url in (SEARCH, CSV, SEARCH + everyone_who_opened_url(person_type(), world["yvonne"].pk)):
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        body = response.content.decode(errors="replace")
        for secret in ("Audited", "Otherperson", "Amy Reader", "[redacted]"):
            assert secret not in body
    assert not LogEntry.objects.filter(additional_data__event="audit_trail_exported").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(SEARCH)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
