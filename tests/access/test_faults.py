"""Two data protection leads editing one breach record at once: one wins, the other is told.

Every step of the breach record goes through the same page helper and the same locked read in
the services, so the breach's details page stands for all of them.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.roles import Role
from access.services import breaches as services
from tests.assurance import record
from tests.factories import user_with_role
from tests.records.test_faults import changes_to, drawn_version
from tmo.concurrency import STALE_MESSAGE

pytestmark = [pytest.mark.assurance, pytest.mark.django_db]


def test_the_second_of_two_breach_edits_is_refused_and_told_what_the_first_saved():
    from access.models import Breach

    reporter = user_with_role(Role.HOUSING_OFFICER)
    lead, deputy = (user_with_role(Role.DATA_PROTECTION_LEAD) for _ in range(2))
    aware = timezone.now() - datetime.timedelta(hours=2)
    breach = services.report_breach(
        reported_by=reporter, now=aware, summary="An email went to the wrong contractor."
    )
    breach = services.acknowledge_breach(
        user=lead, breach=breach, decision=services.Triage.OPEN, now=aware
    )
    first, second = Client(), Client()
    first.force_login(lead)
    second.force_login(deputy)
    url = reverse("breach_edit", args=[breach.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())
    changes_before = changes_to(breach).count()

    def details(version, **values):
        data = {
            "edit_version": version,
            "summary": "An email went to the wrong contractor.",
            "became_aware_at": timezone.localtime(breach.became_aware_at).strftime(
                "%d/%m/%Y %H:%M"
            ),
            "occurred_at": "",
            "data_description": "Phone number.",
            "data_categories": ["records.person"],
            "approx_people": "1",
            "approx_records": "1",
            "source_details": "",
        }
        data.update(values)
        return data

    saved = first.post(url, details(first_version, data_description="Phone and address."))
    changes_after_first = changes_to(breach).count()
    refused = second.post(url, details(second_version, approx_people="40"))
    body = refused.content.decode()
    breach = Breach.objects.get(pk=breach.pk)
    record("faults", scenarios=1, partial_states=int(breach.approx_people != 1))
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    assert "Phone and address." in body
    assert 'value="40"' in body
    assert breach.data_description == "Phone and address." and breach.approx_people == 1
    # The first save's change (and its event), and nothing from the refused one.
    assert changes_after_first > changes_before
    assert changes_to(breach).count() == changes_after_first


def test_the_second_of_two_impact_assessment_edits_is_refused_and_told_what_the_first_saved():
    from access.models import ImpactAssessment
    from access.services import dpia
    from tests.access.test_dpia import values

    lead = user_with_role(Role.DATA_PROTECTION_LEAD)
    senior = user_with_role(Role.SENIOR_OFFICER)
    assessment = dpia.create_assessment(user=lead, values=values())
    first, second = Client(), Client()
    first.force_login(lead)
    second.force_login(senior)
    url = reverse("dpia_edit", args=[assessment.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())
    changes_before = changes_to(assessment).count()

    saved = first.post(
        url, {**values(measures="Contractors see the booking only."), "edit_version": first_version}
    )
    changes_after_first = changes_to(assessment).count()
    refused = second.post(
        url,
        {
            **values(risks="A booking could reach the wrong contractor."),
            "edit_version": second_version,
        },
    )
    body = refused.content.decode()
    assessment = ImpactAssessment.objects.get(pk=assessment.pk)
    record(
        "faults",
        scenarios=1,
        partial_states=int(assessment.risks == "A booking could reach the wrong contractor."),
    )
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    assert "Contractors see the booking only." in body
    assert "A booking could reach the wrong contractor." in body
    assert assessment.measures == "Contractors see the booking only."
    assert assessment.risks == values()["risks"]
    assert changes_after_first > changes_before
    assert changes_to(assessment).count() == changes_after_first


@pytest.fixture
def meeting_people(db):
    from tests.factories import MeetingFactory

    secretary = user_with_role(Role.SENIOR_OFFICER)
    chair = user_with_role(Role.SENIOR_OFFICER)
    member = user_with_role(Role.COMMITTEE_MEMBER)
    meeting = MeetingFactory(
        title="Management committee, March",
        public_minutes="The committee agreed the cleaning rota.",
        confidential_minutes="Item 4: arrears of a named tenant.",
    )
    meeting.attendees.set([secretary, chair, member])
    return {"secretary": secretary, "chair": chair, "member": member, "meeting": meeting}


def test_the_second_of_two_meeting_edits_is_refused_and_told_what_the_first_saved(meeting_people):
    from access.models import Meeting

    meeting = meeting_people["meeting"]
    first, second = Client(), Client()
    first.force_login(meeting_people["secretary"])
    second.force_login(meeting_people["chair"])
    url = reverse("meeting_edit", args=[meeting.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())

    def posted(version, **values):
        return {
            "edit_version": version,
            "title": meeting.title,
            "held_on": "1/3/2026",
            "location": "",
            "attendees": [meeting_people["member"].pk],
            "public_minutes": meeting.public_minutes,
            **values,
        }

    saved = first.post(url, posted(first_version, public_minutes="Rota agreed; bins moved."))
    changes_after_first = changes_to(meeting).count()
    refused = second.post(url, posted(second_version, title="Management committee, April"))
    body = refused.content.decode()
    stored = Meeting.objects.get(pk=meeting.pk)
    record("faults", scenarios=1, partial_states=int(stored.title != meeting.title))
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    assert "Rota agreed; bins moved." in body
    assert 'value="Management committee, April"' in body
    assert stored.public_minutes == "Rota agreed; bins moved." and stored.title == meeting.title
    assert changes_to(meeting).count() == changes_after_first


def test_the_second_of_two_confidential_minutes_edits_is_refused(meeting_people):
    from access.models import Meeting

    meeting = meeting_people["meeting"]
    first, second = Client(), Client()
    first.force_login(meeting_people["secretary"])
    second.force_login(meeting_people["chair"])
    url = reverse("meeting_confidential_minutes_edit", args=[meeting.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())

    saved = first.post(url, {"edit_version": first_version, "minutes": "Item 4 deferred."})
    changes_after_first = changes_to(meeting).count()
    refused = second.post(url, {"edit_version": second_version, "minutes": "Item 4 closed."})
    body = refused.content.decode()
    stored = Meeting.objects.get(pk=meeting.pk)
    record(
        "faults", scenarios=1, partial_states=int(stored.confidential_minutes != "Item 4 deferred.")
    )
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    assert "Item 4 deferred." in body and "Item 4 closed." in body
    assert stored.confidential_minutes == "Item 4 deferred."
    assert changes_to(meeting).count() == changes_after_first
