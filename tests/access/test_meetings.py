"""Meetings: public and confidential minutes, numbered report copies and their printed PDFs."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from access.models import ConfidentialReport, Meeting, ReportCopy
from access.roles import Role
from access.services import meetings as services
from tests.factories import (
    ConfidentialReportFactory,
    MeetingFactory,
    ReportCopyFactory,
    user_with_role,
)

SECRET = "Mrs Tabitha Arrearsworth owes eleven weeks and faces possession proceedings"
PUBLIC = "The committee agreed the new estate cleaning rota"


@pytest.fixture
def people(db):
    return {
        "dpo": user_with_role(Role.DATA_PROTECTION_LEAD, first_name="Dina", last_name="Protector"),
        "secretary": user_with_role(Role.SENIOR_OFFICER, first_name="Sam", last_name="Secretary"),
        "other_senior": user_with_role(Role.SENIOR_OFFICER),
        "present": user_with_role(Role.COMMITTEE_MEMBER, first_name="Jane", last_name="Smith"),
        "present_too": user_with_role(Role.COMMITTEE_MEMBER, first_name="Ravi", last_name="Patel"),
        "absent": user_with_role(Role.COMMITTEE_MEMBER, first_name="Abe", last_name="Absent"),
        "officer": user_with_role(Role.HOUSING_OFFICER),
        "tenant": user_with_role(Role.TENANT),
    }


@pytest.fixture
def meeting(people):
    meeting = MeetingFactory(
        title="Management committee, March",
        public_minutes=PUBLIC,
        confidential_minutes=SECRET,
    )
    meeting.attendees.set([people["present"], people["present_too"], people["secretary"]])
    return meeting


def _bodies(client, *urls) -> str:
    return "".join(client.get(url).content.decode() for url in urls)


# --- who sees which meeting -----------------------------------------------------------------


def test_staff_see_every_meeting_and_committee_members_only_those_they_attended(
    client, people, meeting
):
    other = MeetingFactory(title="Special meeting on the budget")
    client.force_login(people["officer"])
    body = client.get(reverse("meeting_list")).content.decode()
    assert meeting.title in body and other.title in body

    client.force_login(people["present"])
    body = client.get(reverse("meeting_list")).content.decode()
    assert meeting.title in body and other.title not in body
    assert client.get(reverse("meeting_detail", args=[other.pk])).status_code == 404

    client.force_login(people["absent"])
    body = client.get(reverse("meeting_list")).content.decode()
    assert meeting.title not in body
    assert client.get(reverse("meeting_detail", args=[meeting.pk])).status_code == 404


def test_tenants_have_no_meetings(client, people, meeting):
    client.force_login(people["tenant"])
    assert client.get(reverse("meeting_list")).status_code == 403
    assert client.get(reverse("meeting_detail", args=[meeting.pk])).status_code == 403


def test_meeting_list_queries_do_not_grow(client, people, queries_do_not_grow):
    client.force_login(people["officer"])

    def add(count):
        for _ in range(count):
            MeetingFactory().attendees.set([people["present"], people["secretary"]])

    response = queries_do_not_grow(client, reverse("meeting_list"), add)
    assert response.status_code == 200


# --- confidential minutes -------------------------------------------------------------------


def test_public_minutes_on_the_meeting_page_without_the_confidential_ones(client, people, meeting):
    client.force_login(people["officer"])
    body = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert PUBLIC in body
    assert SECRET not in body
    assert reverse("meeting_confidential_minutes", args=[meeting.pk]) not in body
    assert "Read the confidential minutes" not in body


def test_attendee_reads_confidential_minutes_and_each_read_is_audited(
    client, people, meeting, access_entries
):
    client.force_login(people["present"])
    detail = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    url = reverse("meeting_confidential_minutes", args=[meeting.pk])
    assert url in detail and SECRET not in detail
    assert access_entries(meeting).count() == 0

    response = client.get(url)
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert access_entries(meeting).count() == 1
    entry = access_entries(meeting).get()
    assert entry.actor == people["present"]

    client.get(url)
    assert access_entries(meeting).count() == 2


def test_dpo_reads_confidential_minutes_without_being_present(
    client, people, meeting, access_entries
):
    client.force_login(people["dpo"])
    detail = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert SECRET not in detail
    response = client.get(reverse("meeting_confidential_minutes", args=[meeting.pk]))
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert access_entries(meeting).count() == 1


@pytest.mark.parametrize("who", ["absent", "officer", "other_senior"])
def test_nobody_else_reaches_the_confidential_minutes(client, people, meeting, who, access_entries):
    client.force_login(people[who])
    url = reverse("meeting_confidential_minutes", args=[meeting.pk])
    assert client.get(url).status_code == 404
    body = _bodies(
        client,
        reverse("meeting_list"),
        reverse("meeting_detail", args=[meeting.pk]),
        url,
        reverse("meeting_confidential_minutes_edit", args=[meeting.pk]),
        reverse("dashboard"),
    )
    assert SECRET not in body
    assert url not in body
    assert access_entries(meeting).count() == 0


def test_confidential_minutes_need_the_undertaking_and_training(client, people, meeting):
    from access.services.compliance import publish_code

    publish_code(
        published_by=user_with_role(Role.DATA_PROTECTION_LEAD),
        version="99",
        text="A new code that the member has not signed yet.",
    )
    client.force_login(people["present"])
    response = client.get(reverse("meeting_confidential_minutes", args=[meeting.pk]))
    assert response.status_code == 404
    assert SECRET not in response.content.decode()


def test_confidential_minutes_visible_to_is_the_one_rule(people, meeting):
    visible = Meeting.objects.confidential_minutes_visible_to
    assert list(visible(people["present"])) == [meeting]
    assert list(visible(people["secretary"])) == [meeting]
    assert list(visible(people["dpo"])) == [meeting]
    assert list(visible(people["absent"])) == []
    assert list(visible(people["other_senior"])) == []
    assert list(visible(people["officer"])) == []


def test_attending_secretary_edits_the_confidential_minutes(
    client, people, meeting, access_entries
):
    client.force_login(people["secretary"])
    url = reverse("meeting_confidential_minutes_edit", args=[meeting.pk])
    assert SECRET in client.get(url).content.decode()
    response = client.post(url, {"minutes": "Item 4 deferred to the next meeting."})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.confidential_minutes == "Item 4 deferred to the next meeting."
    assert access_entries(meeting).count() == 2


def test_committee_member_cannot_edit_confidential_minutes(client, people, meeting):
    client.force_login(people["present"])
    url = reverse("meeting_confidential_minutes_edit", args=[meeting.pk])
    assert client.post(url, {"minutes": "changed"}).status_code == 403
    meeting.refresh_from_db()
    assert meeting.confidential_minutes == SECRET


# --- creating and editing meetings ----------------------------------------------------------


def test_secretary_adds_a_meeting_with_attendees(client, people):
    client.force_login(people["secretary"])
    response = client.post(
        reverse("meeting_create"),
        {
            "title": "Annual general meeting",
            "held_on": "14/3/2026",
            "location": "Community hall",
            "attendees": [people["present"].pk, people["secretary"].pk],
            "public_minutes": "Officers elected.",
            "confidential_minutes": "Member conduct complaint discussed.",
        },
    )
    meeting = Meeting.objects.get(title="Annual general meeting")
    assert response.url == reverse("meeting_detail", args=[meeting.pk])
    assert meeting.held_on.isoformat() == "2026-03-14"
    assert set(meeting.attendees.all()) == {people["present"], people["secretary"]}
    assert meeting.confidential_minutes == "Member conduct complaint discussed."


def test_bad_meeting_saves_nothing_and_says_why(client, people):
    client.force_login(people["secretary"])
    response = client.post(
        reverse("meeting_create"),
        {"title": "", "held_on": "31/2/2026", "attendees": [people["tenant"].pk]},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "govuk-form-group--error" in body
    assert "Enter the title of the meeting" in body
    assert "Date of the meeting must be a real date" in body
    assert "Select a valid choice" in body
    assert Meeting.objects.count() == 0


def test_service_refuses_attendees_who_are_not_staff_or_committee(people):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.meeting_create(
            created_by=people["secretary"],
            meeting=Meeting(title="x", held_on="2026-03-01"),
            attendees=[people["tenant"]],
        )
    assert Meeting.objects.count() == 0


def test_secretary_edits_meeting_but_committee_and_officers_cannot(client, people, meeting):
    url = reverse("meeting_edit", args=[meeting.pk])
    for who in ("present", "officer"):
        client.force_login(people[who])
        assert client.get(url).status_code == 403
    client.force_login(people["secretary"])
    body = client.get(url).content.decode()
    assert SECRET not in body  # the edit form carries the public minutes only
    response = client.post(
        url,
        {
            "title": meeting.title,
            "held_on": "1/3/2026",
            "attendees": [people["present"].pk],
            "public_minutes": "Revised public minutes.",
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.public_minutes == "Revised public minutes."
    assert meeting.confidential_minutes == SECRET
    assert list(meeting.attendees.all()) == [people["present"]]


# --- reports and numbered copies ------------------------------------------------------------


def test_secretary_adds_a_report_and_bad_input_is_refused(client, people, meeting):
    client.force_login(people["secretary"])
    url = reverse("meeting_report_create", args=[meeting.pk])
    response = client.post(url, {"number": "CR 2026/07!", "title": "", "body": "  "})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Report number must contain only letters" in body
    assert "Enter the title of the report" in body
    assert "Enter the text of the report" in body
    assert ConfidentialReport.objects.count() == 0

    response = client.post(url, {"number": "cr-2026-07", "title": "Arrears", "body": "Text."})
    report = ConfidentialReport.objects.get()
    assert response.url == reverse("meeting_report_detail", args=[report.pk])
    assert report.number == "CR-2026-07" and report.meeting == meeting

    response = client.post(url, {"number": "CR-2026-07", "title": "Again", "body": "Text."})
    assert "each number is used once" in response.content.decode()
    assert ConfidentialReport.objects.count() == 1


def test_copies_are_numbered_one_to_n_and_only_go_to_those_present(client, people, meeting):
    report = ConfidentialReportFactory(meeting=meeting)
    client.force_login(people["secretary"])
    url = reverse("meeting_report_detail", args=[report.pk])

    response = client.post(url, {})
    assert "Select who is receiving a copy" in response.content.decode()

    response = client.post(url, {"members": [people["absent"].pk]})
    assert "Select a valid choice" in response.content.decode()
    assert not ReportCopy.objects.exists()

    client.post(url, {"members": [people["present"].pk, people["present_too"].pk]})
    client.post(url, {"members": [people["secretary"].pk]})
    copies = list(report.copies.order_by("copy_number"))
    assert [c.copy_number for c in copies] == [1, 2, 3]
    assert {c.member for c in copies} == {
        people["present"],
        people["present_too"],
        people["secretary"],
    }
    assert all(c.issued_by == people["secretary"] for c in copies)

    # A member holds one copy; asking again is refused and issues nothing.
    response = client.post(url, {"members": [people["present"].pk]})
    assert "Select a valid choice" in response.content.decode()
    assert report.copies.count() == 3


def test_issue_copies_service_refuses_strangers_and_second_copies(people, meeting):
    from django.core.exceptions import ValidationError

    report = ConfidentialReportFactory(meeting=meeting)
    with pytest.raises(ValidationError, match="present"):
        services.issue_copies(issued_by=people["dpo"], report=report, members=[people["absent"]])
    services.issue_copies(issued_by=people["dpo"], report=report, members=[people["present"]])
    with pytest.raises(ValidationError, match="Jane Smith"):
        services.issue_copies(
            issued_by=people["dpo"],
            report=report,
            members=[people["present_too"], people["present"]],
        )
    assert report.copies.count() == 1


def test_unreturned_copy_stands_out_until_handed_back(client, people, meeting):
    report = ConfidentialReportFactory(meeting=meeting, number="CR-2026-07")
    (copy,) = services.issue_copies(
        issued_by=people["secretary"], report=report, members=[people["present"]]
    )
    client.force_login(people["secretary"])
    detail = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert "1 numbered copy of confidential reports not returned" in detail
    assert "govuk-tag--red" in detail and "Not returned" in detail

    client.force_login(people["dpo"])
    home = client.get(reverse("dashboard")).content.decode()
    assert "Report copies not returned" in home
    assert "CR-2026-07 copy 1, Jane Smith (not returned)" in home

    client.force_login(people["present"])
    mine = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert "You hold copy 1 of confidential report CR-2026-07" in mine

    client.force_login(people["secretary"])
    response = client.post(reverse("meeting_copy_return", args=[copy.pk]))
    assert response.url == reverse("meeting_report_detail", args=[report.pk])
    copy.refresh_from_db()
    assert copy.returned_to == people["secretary"] and copy.returned_at is not None

    detail = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert "not returned" not in detail and "Returned" in detail
    client.force_login(people["dpo"])
    assert "Report copies not returned" not in client.get(reverse("dashboard")).content.decode()
    client.force_login(people["present"])
    mine = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert "You hold copy" not in mine


def test_returning_twice_is_refused_with_a_message(client, people, meeting):
    copy = ReportCopyFactory(report__meeting=meeting, member=people["present"])
    client.force_login(people["dpo"])
    client.post(reverse("meeting_copy_return", args=[copy.pk]))
    response = client.post(reverse("meeting_copy_return", args=[copy.pk]), follow=True)
    assert "was already handed back" in response.content.decode()


def test_lost_copy_stays_flagged_as_a_possible_breach(client, people, meeting):
    copy = ReportCopyFactory(report__meeting=meeting, member=people["present_too"])
    client.force_login(people["secretary"])
    url = reverse("meeting_copy_lost", args=[copy.pk])
    response = client.post(url, {"reason": "   "})
    assert "Say what happened to the copy" in response.content.decode()
    copy.refresh_from_db()
    assert copy.lost_at is None

    response = client.post(url, {"reason": "Left on the bus after the meeting."})
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.is_lost and copy.lost_recorded_by == people["secretary"]

    detail = client.get(reverse("meeting_detail", args=[meeting.pk])).content.decode()
    assert "Lost: possible breach" in detail
    client.force_login(people["dpo"])
    home = client.get(reverse("dashboard")).content.decode()
    assert "Ravi Patel (lost: possible breach)" in home
    outstanding = client.get(reverse("meeting_copies_outstanding")).content.decode()
    assert "1 copy recorded as lost" in outstanding and "Ravi Patel" in outstanding


def test_panel_is_for_the_dpo_and_secretary_only(client, people, meeting):
    ReportCopyFactory(report__meeting=meeting, member=people["present"])
    for who in ("officer", "present"):
        client.force_login(people[who])
        assert "Report copies not returned" not in client.get(reverse("dashboard")).content.decode()
    client.force_login(people["secretary"])
    assert "Report copies not returned" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("who", ["present", "officer", "absent"])
def test_only_managers_reach_reports_and_copies(client, people, meeting, who):
    copy = ReportCopyFactory(report__meeting=meeting, member=people["present"])
    client.force_login(people[who])
    urls = [
        reverse("meeting_report_create", args=[meeting.pk]),
        reverse("meeting_report_detail", args=[copy.report.pk]),
        reverse("meeting_copy_print", args=[copy.pk]),
        reverse("meeting_copy_lost", args=[copy.pk]),
        reverse("meeting_copy_return", args=[copy.pk]),
        reverse("meeting_copies_outstanding"),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("meeting_copy_return", args=[copy.pk])).status_code == 403
    copy.refresh_from_db()
    assert copy.returned_at is None


def test_missing_objects_are_404_for_managers(client, people):
    client.force_login(people["dpo"])
    for name in (
        "meeting_detail",
        "meeting_edit",
        "meeting_confidential_minutes",
        "meeting_report_create",
        "meeting_report_detail",
        "meeting_copy_print",
        "meeting_copy_lost",
    ):
        assert client.get(reverse(name, args=[999])).status_code == 404, name


def test_outstanding_copies_page_queries_do_not_grow(client, people, queries_do_not_grow):
    client.force_login(people["dpo"])
    meeting = MeetingFactory()

    def add(count):
        for _ in range(count):
            ReportCopyFactory(report__meeting=meeting)

    response = queries_do_not_grow(client, reverse("meeting_copies_outstanding"), add)
    assert response.status_code == 200


# --- printing -------------------------------------------------------------------------------


def test_printed_copy_carries_its_number_and_holder_on_every_page(
    client, people, meeting, access_entries
):
    paragraphs = "\n\n".join(
        "Paragraph %d. The arrears history, the support offered and the possible outcomes "
        "of the possession claim are set out for the committee's decision." % n
        for n in range(1, 120)
    )
    report = ConfidentialReportFactory(meeting=meeting, number="CR-2026-07", body=paragraphs)
    services.issue_copies(
        issued_by=people["secretary"],
        report=report,
        members=[people["present_too"], people["present"], people["secretary"]],
    )
    copy = report.copies.get(member=people["present"])
    assert copy.copy_number == 2

    client.force_login(people["secretary"])
    response = client.get(reverse("meeting_copy_print", args=[copy.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "CR-2026-07-copy-2.pdf" in response["Content-Disposition"]
    assert "Jane" not in response["Content-Disposition"]

    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "Copy 2 of 3" in text, number
        assert "Jane Smith" in text, number
        assert "CONFIDENTIAL" in text, number
    assert access_entries(copy).count() == 1


def test_member_names_cannot_break_out_of_the_page_banner(client, people, meeting):
    awkward = user_with_role(
        Role.COMMITTEE_MEMBER, first_name='Zoë "Z"', last_name="O'Neil</style>\\"
    )
    meeting.attendees.add(awkward)
    report = ConfidentialReportFactory(meeting=meeting)
    (copy,) = services.issue_copies(issued_by=people["dpo"], report=report, members=[awkward])
    client.force_login(people["dpo"])
    response = client.get(reverse("meeting_copy_print", args=[copy.pk]))
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert 'Zoë "Z" O\'Neil</style>\\' in text


def test_a_returned_copy_is_not_printed_again(client, people, meeting, access_entries):
    copy = ReportCopyFactory(report__meeting=meeting, member=people["present"])
    services.record_copy_returned(received_by=people["dpo"], copy=copy)
    client.force_login(people["dpo"])
    response = client.get(reverse("meeting_copy_print", args=[copy.pk]), follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "was handed back; issue a new copy instead" in response.content.decode()
    assert access_entries(copy).count() == 0
