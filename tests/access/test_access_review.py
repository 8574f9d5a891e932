"""The access review: a snapshot of every role, assignment, permission and live grant, each
confirmed or revoked by the DPO on one page; the review completes with its last decision."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from access.dashboard import panels_for
from access.models import AccessReview, AccessReviewItem, CommitteeAccessRequest, EmergencyAccess
from access.roles import Role
from access.services import compliance as services
from records.models import PersonUserObjectPermission
from tests.factories import (
    EmergencyAccessFactory,
    LiveCommitteeGrantFactory,
    PersonFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db
Kind = AccessReviewItem.Kind


@pytest.fixture
def dpo():
    return user_with_role(Role.DATA_PROTECTION_LEAD, first_name="David", last_name="Chen")


@pytest.fixture
def live_grant(dpo):
    member = user_with_role(Role.COMMITTEE_MEMBER, first_name="Cora", last_name="Member")
    grant = LiveCommitteeGrantFactory(decided_by=dpo)
    grant.members.add(member)
    return grant


@pytest.fixture
def world(patch_and_officer, dpo, live_grant):
    patch, officer = patch_and_officer
    person = PersonFactory()
    assign_perm("records.view_person", officer, person)
    expired = CommitteeAccessRequest.objects.create(
        decision="Old item",
        reason="Past.",
        expires_at=timezone.now() - datetime.timedelta(days=1),
        status=CommitteeAccessRequest.Status.APPROVED,
        requested_by=officer,
    )
    return {
        "patch": patch,
        "officer": officer,
        "person": person,
        "permission": PersonUserObjectPermission.objects.get(user=officer),
        "grant": live_grant,
        "expired_grant": expired,
        "emergency": EmergencyAccessFactory(user=officer),
    }


def item(review, kind, **lookup):
    return review.items.get(kind=kind, **lookup)


def test_snapshot_holds_every_kind_of_access(world, dpo):
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    officer = world["officer"]
    group = Group.objects.get(name=Role.HOUSING_OFFICER)
    role = item(review, Kind.ROLE, user=officer, object_id=group.pk)
    assert "holds the role Housing officer" in role.description
    assignment = item(review, Kind.ASSIGNMENT, user=officer)
    assert assignment.object_id == world["patch"].pk and assignment.relation == "officers"
    permission = item(review, Kind.OBJECT_PERMISSION, user=officer)
    assert permission.content_type == ContentType.objects.get_for_model(PersonUserObjectPermission)
    assert permission.object_id == world["permission"].pk
    assert "can view person on person %s" % world["person"].pk in permission.description
    grant = item(review, Kind.COMMITTEE_GRANT)
    assert grant.object_id == world["grant"].pk and "Cora Member" in grant.description
    assert item(review, Kind.EMERGENCY_ACCESS).object_id == world["emergency"].pk
    # Only live grants are reviewed; every role holder is.
    assert not review.items.filter(object_id=world["expired_grant"].pk, kind=Kind.COMMITTEE_GRANT)
    assert (
        review.items.filter(kind=Kind.ROLE).count()
        == Group.objects.filter(name__in=Role.values, user__isnull=False).values("user").count()
    )


def test_revoking_a_role_membership_removes_the_group_confirming_keeps_it(dpo):
    keep = user_with_role(Role.FINANCE_OFFICER)
    leaver = user_with_role(Role.FINANCE_OFFICER)
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    services.decide_review_item(
        decided_by=dpo, item=item(review, Kind.ROLE, user=keep), decision="confirmed"
    )
    services.decide_review_item(
        decided_by=dpo,
        item=item(review, Kind.ROLE, user=leaver),
        decision="revoked",
        note="Left the organisation in October.",
    )
    assert keep.groups.filter(name=Role.FINANCE_OFFICER).exists()
    assert not leaver.groups.filter(name=Role.FINANCE_OFFICER).exists()
    decided = item(review, Kind.ROLE, user=leaver)
    assert decided.decision == "revoked" and decided.decided_by == dpo
    assert decided.note == "Left the organisation in October."


def test_revoking_removes_assignments_permissions_and_grants(world, dpo):
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    officer = world["officer"]
    for kind in (Kind.ASSIGNMENT, Kind.OBJECT_PERMISSION, Kind.EMERGENCY_ACCESS):
        services.decide_review_item(
            decided_by=dpo,
            item=item(review, kind, user=officer),
            decision="revoked",
            note="No need.",
        )
    services.decide_review_item(
        decided_by=dpo, item=item(review, Kind.COMMITTEE_GRANT), decision="revoked", note="Done."
    )
    assert not world["patch"].officers.filter(pk=officer.pk).exists()
    assert not PersonUserObjectPermission.objects.filter(pk=world["permission"].pk).exists()
    assert not EmergencyAccess.objects.get(pk=world["emergency"].pk).is_live()
    grant = CommitteeAccessRequest.objects.get(pk=world["grant"].pk)
    assert grant.status == "revoked" and grant.revoked_by == dpo
    assert grant.revocation_reason == "Access review: Done."


def test_review_completes_only_when_every_item_is_decided(dpo):
    UserFactory(roles=[Role.REPAIRS_OFFICER])
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    items = list(review.items.all())
    assert len(items) == 2
    services.decide_review_item(decided_by=dpo, item=items[0], decision="confirmed")
    review.refresh_from_db()
    assert review.completed_at is None
    with pytest.raises(ValidationError):
        services.decide_review_item(decided_by=dpo, item=items[0], decision="revoked", note="x")
    services.decide_review_item(decided_by=dpo, item=items[1], decision="confirmed")
    review.refresh_from_db()
    assert review.completed_at is not None


def test_only_one_review_at_a_time_and_only_the_dpo(dpo):
    services.start_access_review(started_by=dpo, period="2026 Q4")
    with pytest.raises(ValidationError):
        services.start_access_review(started_by=dpo, period="2027 Q1")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_access_review(
            started_by=user_with_role(Role.SENIOR_OFFICER), period="2027 Q1"
        )


def test_pages_start_decide_and_reject_bad_input(client, world, dpo, django_assert_max_num_queries):
    client.force_login(dpo)
    url = reverse("access_review_list")
    response = client.post(url, {"period": "  "})
    assert "Enter the period the review covers" in response.content.decode()
    assert not AccessReview.objects.exists()
    response = client.post(url, {"period": "2026 Q4"})
    review = AccessReview.objects.get()
    assert response.status_code == 302
    detail = reverse("access_review_detail", args=[review.pk])
    with django_assert_max_num_queries(15):
        page = client.get(detail).content.decode()
    assert "holds the role Housing officer" in page and "Cora Member" in page

    target = item(review, Kind.ROLE, user=world["officer"])
    decide = reverse("access_review_decide", args=[target.pk])
    response = client.post(decide, {"decision": "revoked", "note": ""})
    body = response.content.decode()
    assert "Enter why this access is being revoked" in body and "govuk-error-summary" in body
    response = client.post(decide, {"decision": "maybe"})
    assert "Choose whether to confirm or revoke this access" in response.content.decode()
    target.refresh_from_db()
    assert target.decision == ""
    assert world["officer"].groups.filter(name=Role.HOUSING_OFFICER).exists()

    response = client.post(decide, {"decision": "confirmed"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.decision == "confirmed"
    assert client.get(decide).status_code == 302  # GET only goes back to the review


def test_review_pages_are_for_the_dpo_only(client, dpo):
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    assert client.get(reverse("access_review_list")).status_code == 403
    assert client.get(reverse("access_review_detail", args=[review.pk])).status_code == 403
    first = review.items.first()
    response = client.post(
        reverse("access_review_decide", args=[first.pk]), {"decision": "revoked", "note": "x"}
    )
    assert response.status_code == 403
    first.refresh_from_db()
    assert first.decision == ""


def test_dashboard_reminds_the_dpo_when_a_review_is_due(dpo):
    def panel():
        return next(
            (
                p
                for p in panels_for(type(dpo).objects.get(pk=dpo.pk))
                if p.title.startswith("Access review")
            ),
            None,
        )

    assert panel().title == "Access review due" and panel().urgent
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    assert panel().title == "Access review 2026 Q4: items to decide"
    for row in review.items.all():
        services.decide_review_item(decided_by=dpo, item=row, decision="confirmed")
    assert panel() is None
    # Noon, local time, 91 days ago: "now minus 91 days" is only 90 local days ago late in the
    # evening when the clocks have changed since (this failed at 23:30 GMT in December).
    noon_91_days_ago = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() - datetime.timedelta(days=91), datetime.time(12)
        )
    )
    AccessReview.objects.update(completed_at=noon_91_days_ago)
    assert panel().title == "Access review due"
    assert "91" in str(panel().count)


def test_tenant_in_patch_helper_still_works_with_reviews(patch, dpo):
    # A review touches no record data: people in the patch are not items.
    tenant_in_patch(patch)
    review = services.start_access_review(started_by=dpo, period="2026 Q4")
    assert not review.items.exclude(
        kind__in=[Kind.ROLE, Kind.ASSIGNMENT, Kind.OBJECT_PERMISSION]
    ).exists()
