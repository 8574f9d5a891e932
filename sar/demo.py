"""Demo data for the resident portal, for `manage.py seed_demo`: the `tenant` account is linked to
the tenant it is named after, so it can ask for its own data at once. Found by name by records'
seed_demo (records imports no sar module)."""

from records.models import HouseholdMember, Person
from sar.models import ResidentLink


def seed_demo(*, users, log) -> None:
    account = users["tenant"]
    account.refresh_from_db()
    person = (
        Person.objects.filter(
            first_name=account.first_name,
            last_name=account.last_name,
            household_memberships__relationship__in=HouseholdMember.TENANT_RELATIONSHIPS,
        )
        .order_by("pk")
        .first()
    )
    if person is None:
        log("Portal: no tenant matches the tenant account's name; not linked")
        return
    ResidentLink.objects.create(user=account, person=person, method=ResidentLink.Method.CODE)
    log("Portal: the tenant account is %s's, ready to ask for their data" % person.full_name)
