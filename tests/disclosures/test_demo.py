import pytest
from django.core.management import call_command

from disclosures.models import DataSharingAgreement, DisclosureRequest, WorkOrder

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_disclosures_at_each_stage():
    call_command("seed_demo", "--homes", "20", verbosity=0)
    statuses = set(DisclosureRequest.objects.values_list("status", flat=True))
    assert statuses == {DisclosureRequest.Status.WAITING, DisclosureRequest.Status.REFUSED}
    refused = DisclosureRequest.objects.get(status=DisclosureRequest.Status.REFUSED)
    assert refused.decision.reasons
    assert refused.logged_by != refused.decision.decided_by
    assert WorkOrder.objects.count() == 1
    assert any(agreement.problems() for agreement in DataSharingAgreement.objects.all())
