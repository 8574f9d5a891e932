"""Two managers changing one data sharing agreement at once: one wins, the other is told."""

import pytest
from django.test import Client
from django.urls import reverse

from access.roles import Role
from disclosures.models import DataSharingAgreement
from tests.assurance import record
from tests.factories import DataSharingAgreementFactory, user_with_role
from tests.records.test_faults import changes_to, drawn_version
from tmo.concurrency import STALE_MESSAGE

pytestmark = [pytest.mark.assurance, pytest.mark.django_db]


def test_the_second_of_two_agreement_edits_is_refused_and_told_what_the_first_saved():
    agreement = DataSharingAgreementFactory(partner="Riverside Repairs Ltd")
    first, second = Client(), Client()
    first.force_login(user_with_role(Role.SENIOR_OFFICER))
    second.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    url = reverse("agreement_edit", args=[agreement.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())
    changes_before = changes_to(agreement).count()

    def details(version, **values):
        review = agreement.review_on
        data = {
            "edit_version": version,
            "partner": agreement.partner,
            "purpose": agreement.purpose,
            "data_items": agreement.data_items,
            "legal_basis": agreement.legal_basis,
            "review_on_0": str(review.day),
            "review_on_1": str(review.month),
            "review_on_2": str(review.year),
            "status": agreement.status,
        }
        data.update(values)
        return data

    saved = first.post(url, details(first_version, status="suspended"))
    changes_after_first = changes_to(agreement).count()
    refused = second.post(url, details(second_version, partner="Someone Else Ltd"))
    body = refused.content.decode()
    current = DataSharingAgreement.objects.get(pk=agreement.pk)
    record("faults", scenarios=1, partial_states=int(current.partner != "Riverside Repairs Ltd"))
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    assert "They saved Status: Suspended" in " ".join(body.split())
    assert 'value="Someone Else Ltd"' in body
    assert current.status == "suspended" and current.partner == "Riverside Repairs Ltd"
    assert changes_after_first > changes_before
    assert changes_to(agreement).count() == changes_after_first
    # Having seen their change, saving again is a deliberate choice, and goes through.
    again = second.post(url, details(drawn_version(body), partner="Someone Else Ltd"))
    assert again.status_code == 302
    assert DataSharingAgreement.objects.get(pk=agreement.pk).partner == "Someone Else Ltd"
