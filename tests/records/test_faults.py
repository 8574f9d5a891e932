"""Two people editing the same record at once: one wins, the other is told, nothing is lost.

Both load the edit form, both submit. The first save stands; the second is refused with a
message saying someone else changed the record and what they saved, the second person's input
still on the page; the audit trail holds exactly one change.
"""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from tests.assurance import record
from tests.factories import tenant_in_patch, user_with_role
from tmo.concurrency import STALE_MESSAGE

pytestmark = [pytest.mark.assurance, pytest.mark.django_db]

VERSION = re.compile(r'name="edit_version" value="(\d+)"')


def drawn_version(body: str) -> str:
    found = VERSION.search(body)
    assert found, "the edit form carries no version"
    return found.group(1)


def changes_to(obj):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),
        action=LogEntry.Action.UPDATE,
    )


def person_data(version: str, **values) -> dict:
    data = {
        "edit_version": version,
        "first_name": "Bilal",
        "last_name": "Hussain",
        "email": "bilal@mail.example",
        "phone": "020 7946 0000",
        "preferred_contact_method": "phone",
    }
    data.update(values)
    return data


def test_the_second_of_two_person_edits_is_refused_and_told_what_the_first_saved(patch, officer):
    from access.roles import Role
    from records.models import Person

    tenant = tenant_in_patch(patch, first_name="Bilal", last_name="Hussain", phone="020 7946 0000")
    colleague = user_with_role(Role.HOUSING_OFFICER)
    patch.officers.add(colleague)
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(colleague)
    url = reverse("person_edit", args=[tenant.pk])
    first_version = drawn_version(first.get(url).content.decode())
    second_version = drawn_version(second.get(url).content.decode())
    changes_before = changes_to(tenant).count()

    saved = first.post(url, person_data(first_version, phone="07700 900111"))
    refused = second.post(url, person_data(second_version, last_name="Hussain-Begum"))
    body = refused.content.decode()
    tenant = Person.objects.get(pk=tenant.pk)
    record("faults", scenarios=1, partial_states=int(tenant.last_name != "Hussain"))
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE_MESSAGE.split(";")[0] in body
    # What the first person saved is shown, and the second person's input is still there.
    assert "07700 900111" in body
    assert 'value="Hussain-Begum"' in body
    # The first save stands, untouched by the second.
    assert tenant.phone == "07700 900111" and tenant.last_name == "Hussain"
    assert changes_to(tenant).count() == changes_before + 1
    # Having seen the other change, saving again is a deliberate choice, and it goes through.
    again = second.post(
        url, person_data(drawn_version(body), last_name="Hussain-Begum", phone="07700 900111")
    )
    assert again.status_code == 302
    tenant.refresh_from_db()
    assert tenant.last_name == "Hussain-Begum" and tenant.phone == "07700 900111"


def test_a_correction_under_a_rights_request_is_refused_when_the_register_changed_meanwhile(
    patch, officer
):
    """The rectification form edits the same person: an officer's edit saved while the handler
    had it open is not overwritten."""
    from access.roles import Role
    from records.models import Person
    from sar.models import RightsAction, SubjectAccessRequest
    from tests.factories import SubjectAccessRequestFactory

    tenant = tenant_in_patch(patch, first_name="Bilal", last_name="Hussain", phone="020 7946 0000")
    senior = user_with_role(Role.SENIOR_OFFICER)
    rights_request = SubjectAccessRequestFactory(
        person=tenant, kind=SubjectAccessRequest.Kind.RECTIFICATION, handler=senior
    )
    handler, register = Client(), Client()
    handler.force_login(senior)
    register.force_login(officer)
    rectify_url = reverse("sar_rights_rectify", args=[rights_request.pk])
    edit_url = reverse("person_edit", args=[tenant.pk])
    handler_version = drawn_version(handler.get(rectify_url).content.decode())
    officer_version = drawn_version(register.get(edit_url).content.decode())
    assert (
        register.post(edit_url, person_data(officer_version, phone="07700 900111")).status_code
        == 302
    )
    changes_after_first = changes_to(tenant).count()
    refused = handler.post(
        rectify_url,
        person_data(
            handler_version,
            last_name="Hussain-Begum",
            reason="The tenant showed a marriage certificate.",
        ),
    )
    body = refused.content.decode()
    tenant = Person.objects.get(pk=tenant.pk)
    record("faults", scenarios=1, partial_states=int(tenant.phone != "07700 900111"))
    assert refused.status_code == 400
    assert STALE_MESSAGE.split(";")[0] in body
    assert "07700 900111" in body and 'value="Hussain-Begum"' in body
    assert tenant.phone == "07700 900111" and tenant.last_name == "Hussain"
    assert not RightsAction.objects.filter(request=rights_request).exists()
    assert changes_to(tenant).count() == changes_after_first
