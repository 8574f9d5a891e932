"""The register of data protection impact assessments: drafting, DPO advice, sign-off by someone
other than the author, review dates, and who may use it."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from access.dashboard import panels_for
from access.models import ImpactAssessment
from access.roles import Role
from access.services import dpia as services
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

CANARY = "CANARY-DPIA-RISKS"
Status = ImpactAssessment.Status


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD)


@pytest.fixture
def senior():
    return user_with_role(Role.SENIOR_OFFICER)


def values(**overrides):
    data = {
        "title": "Online repairs booking",
        "description": "Tenants book repairs online; bookings go to the contractor.",
        "covers": ["records.person", "records.tenancy"],
        "risks": CANARY,
        "measures": "Only the agreed items go to the contractor.",
        "dpo_advice": "Proceed; review after six months.",
    }
    data.update(overrides)
    return data


def test_the_dpo_drafts_through_the_pages_and_a_senior_officer_signs_off(client, dpo, senior):
    client.force_login(dpo)
    response = client.post(reverse("dpia_create"), values())
    assert response.status_code == 302
    assessment = ImpactAssessment.objects.get()
    assert assessment.author == dpo
    assert assessment.status == Status.DRAFT
    assert assessment.covers == ["records.person", "records.tenancy"]
    detail = client.get(reverse("dpia_detail", args=[assessment.pk])).content.decode()
    assert CANARY in detail
    assert "Person" in detail
    # The author may not sign it off: the page offers no button, the service refuses.
    assert reverse("dpia_sign_off", args=[assessment.pk]) not in detail
    review_on = (timezone.localdate() + datetime.timedelta(days=180)).strftime("%d/%m/%Y")
    response = client.post(reverse("dpia_sign_off", args=[assessment.pk]), {"review_on": review_on})
    assert response.status_code == 200
    assert "Someone other than the author must sign off" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT

    client.force_login(senior)
    response = client.post(
        reverse("dpia_sign_off", args=[assessment.pk]),
        {"review_on": review_on, "notes": "Agreed at the management meeting."},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Status.SIGNED_OFF
    assert assessment.signed_off_by == senior
    assert assessment.review_on == timezone.localdate() + datetime.timedelta(days=180)
    events = set(
        LogEntry.objects.get_for_object(assessment)
        .exclude(additional_data__isnull=True)
        .values_list("additional_data__event", flat=True)
    )
    assert {"dpia_created", "dpia_signed_off"} <= events


def test_sign_off_is_refused_to_the_author_whoever_they_are(senior, dpo):
    assessment = services.create_assessment(user=senior, values=values(dpo_advice=""))
    services.update_assessment(user=dpo, assessment=assessment, values=values())
    with pytest.raises(ValidationError, match="other than the author"):
        services.sign_off_assessment(
            user=senior,
            assessment=assessment,
            review_on=timezone.localdate() + datetime.timedelta(days=30),
        )
    signed = services.sign_off_assessment(
        user=dpo,
        assessment=assessment,
        review_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert signed.signed_off_by == dpo


def test_only_the_dpo_gives_dpo_advice_and_sign_off_waits_for_it(client, senior, dpo):
    with pytest.raises(ValidationError):
        services.create_assessment(user=senior, values=values())
    assessment = services.create_assessment(user=senior, values=values(dpo_advice=""))
    client.force_login(senior)
    form = client.get(reverse("dpia_edit", args=[assessment.pk])).content.decode()
    assert 'name="dpo_advice"' not in form
    other_senior = user_with_role(Role.SENIOR_OFFICER)
    with pytest.raises(ValidationError) as refused:
        services.sign_off_assessment(
            user=other_senior,
            assessment=assessment,
            review_on=timezone.localdate() + datetime.timedelta(days=30),
        )
    assert "advice is needed first" in str(refused.value)


def test_the_covered_parts_must_be_in_the_data_map(dpo):
    with pytest.raises(ValidationError):
        services.create_assessment(user=dpo, values=values(covers=["records.nosuchmodel"]))
    assert not ImpactAssessment.objects.exists()


def test_the_review_date_must_be_in_the_future(dpo, senior):
    assessment = services.create_assessment(user=dpo, values=values())
    with pytest.raises(ValidationError):
        services.sign_off_assessment(
            user=senior, assessment=assessment, review_on=timezone.localdate()
        )


def test_changing_a_signed_off_assessment_returns_it_to_draft(dpo, senior):
    assessment = services.create_assessment(user=dpo, values=values())
    services.sign_off_assessment(
        user=senior,
        assessment=assessment,
        review_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    changed = services.update_assessment(
        user=dpo, assessment=assessment, values=values(measures="Now also encrypted at rest.")
    )
    assert changed.status == Status.DRAFT
    assert changed.signed_off_by is None


def test_an_overdue_review_is_flagged_on_the_dashboard_and_the_list(client, dpo, senior):
    assessment = services.create_assessment(user=dpo, values=values())
    services.sign_off_assessment(
        user=senior,
        assessment=assessment,
        review_on=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert "Impact assessments overdue for review" not in {p.title for p in panels_for(dpo)}
    ImpactAssessment.objects.filter(pk=assessment.pk).update(
        review_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    panel = next(p for p in panels_for(senior) if p.title.startswith("Impact assessments"))
    assert panel.count == 1 and panel.urgent
    client.force_login(dpo)
    assert "Online repairs booking" in client.get(reverse("dashboard")).content.decode()
    assert "Review overdue" in client.get(reverse("dpia_list")).content.decode()


def test_retiring_an_assessment(client, dpo):
    assessment = services.create_assessment(user=dpo, values=values())
    client.force_login(dpo)
    response = client.post(reverse("dpia_edit", args=[assessment.pk]), {"action": "retire"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Status.RETIRED
    with pytest.raises(ValidationError):
        services.update_assessment(user=dpo, assessment=assessment, values=values(title="New"))


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.HR_OFFICER,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
        Role.TENANT,
    ],
    ids=str,
)
def test_others_get_403_and_no_details(client, login_as, dpo, role):
    assessment = services.create_assessment(user=dpo, values=values())
    user = login_as(role)
    urls = [reverse("dpia_list"), reverse("dpia_create")]
    urls += [
        reverse(name, args=[assessment.pk])
        for name in ("dpia_detail", "dpia_edit", "dpia_sign_off")
    ]
    for url in urls:
        for response in (client.get(url), client.post(url, values())):
            assert response.status_code == 403, url
            assert CANARY not in response.content.decode()
    with pytest.raises(PermissionDenied):
        services.create_assessment(user=user, values=values())
    assert ImpactAssessment.objects.count() == 1


def test_the_sign_off_page_shows_what_is_signed(client, dpo, senior):
    assessment = services.create_assessment(user=dpo, values=values())
    client.force_login(senior)
    body = client.get(reverse("dpia_sign_off", args=[assessment.pk])).content.decode()
    assert CANARY in body and "Review by" in body
