"""Undertakings and training gate every read of a record; the user is told why, the DPO sees who
is due."""

import datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from access.compliance import (
    ComplianceNoticeMiddleware,
    compliance_problems,
    forget_compliance,
    long_date,
    may_read_records,
)
from access.dashboard import panels_for
from access.models import ConfidentialityCode, TrainingRecord, Undertaking, add_months
from access.roles import Role
from access.services import compliance as services
from records.models import Person
from tests.factories import (
    ConfidentialityCodeFactory,
    TrainingModuleFactory,
    TrainingRecordFactory,
    UserFactory,
    tenant_in_patch,
    user_with_role,
)

pytestmark = pytest.mark.django_db

NOTICE_MIDDLEWARE = [*settings.MIDDLEWARE, "access.compliance.ComplianceNoticeMiddleware"]


def fresh(user):
    """The user as the next request would load them: nothing cached from an earlier answer."""
    return type(user).objects.get(pk=user.pk)


def visible(user):
    return set(Person.objects.visible_to(fresh(user)))


@pytest.fixture
def tenant(patch):
    return tenant_in_patch(patch, first_name="Grace", last_name="Okonjo")


# --- who the requirement applies to ---------------------------------------------------------------


def test_factory_users_are_compliant_and_see_their_patch(officer, tenant):
    assert compliance_problems(officer) == []
    assert visible(officer) == {tenant}


def test_tenants_and_administrators_have_no_requirement():
    ConfidentialityCodeFactory(version="9")
    for role in (Role.TENANT, Role.SYSTEM_ADMINISTRATOR):
        assert compliance_problems(user_with_role(role, compliant=False)) == []


def test_committee_member_must_sign_too():
    member = user_with_role(Role.COMMITTEE_MEMBER, compliant=False)
    services.publish_initial_code()
    assert compliance_problems(member) == [
        "You have not signed version 1 of the confidentiality code."
    ]


def test_with_no_code_published_nobody_may_read(officer, tenant):
    Undertaking.objects.all().delete()
    ConfidentialityCode.objects.all().delete()
    problems = compliance_problems(fresh(officer))
    assert len(problems) == 1 and "has not published" in problems[0]
    assert visible(officer) == set()


# --- the undertaking -----------------------------------------------------------------------------


def test_unsigned_undertaking_hides_everything_and_the_notice_says_why(client, patch, tenant):
    services.publish_initial_code()
    officer = user_with_role(Role.HOUSING_OFFICER, compliant=False)
    patch.officers.add(officer)
    assert visible(officer) == set()
    client.force_login(officer)
    with override_settings(MIDDLEWARE=NOTICE_MIDDLEWARE):
        response = client.get(reverse("person_detail", args=[tenant.pk]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Okonjo" not in body
    assert "You have not signed version 1 of the confidentiality code." in body
    assert reverse("compliance_status") in body


def test_signing_restores_access(client, patch, tenant):
    services.publish_initial_code()
    officer = user_with_role(
        Role.HOUSING_OFFICER, first_name="Amara", last_name="Okafor", compliant=False
    )
    patch.officers.add(officer)
    client.force_login(officer)
    page = client.get(reverse("compliance_code"))
    assert "I have read and will follow the confidentiality code" in page.content.decode()
    response = client.post(
        reverse("compliance_code"),
        {"agree": "on", "full_name": " amara  okafor ", "version": "1"},
    )
    assert response.status_code == 302
    undertaking = Undertaking.objects.get(user=officer)
    assert undertaking.code.version == "1" and undertaking.signed_name == "amara okafor"
    assert visible(officer) == {tenant}
    assert client.get(reverse("person_detail", args=[tenant.pk])).status_code == 200


def test_sign_form_rejects_bad_input_and_signs_nothing(client):
    services.publish_initial_code()
    officer = user_with_role(
        Role.HOUSING_OFFICER, first_name="Amara", last_name="Okafor", compliant=False
    )
    client.force_login(officer)
    response = client.post(reverse("compliance_code"), {"full_name": "", "version": "1"})
    body = response.content.decode()
    assert "Confirm that you have read and will follow the confidentiality code" in body
    assert "Enter your full name" in body
    assert "govuk-error-summary" in body and "govuk-form-group--error" in body
    response = client.post(
        reverse("compliance_code"), {"agree": "on", "full_name": "Someone Else", "version": "1"}
    )
    assert (
        "Enter your full name as it is on your account: Amara Okafor" in response.content.decode()
    )
    assert not Undertaking.objects.filter(user=officer).exists()


def test_signing_a_superseded_version_is_refused(client):
    services.publish_initial_code()
    officer = user_with_role(
        Role.HOUSING_OFFICER, first_name="Amara", last_name="Okafor", compliant=False
    )
    client.force_login(officer)
    ConfidentialityCodeFactory(version="2")
    response = client.post(
        reverse("compliance_code"), {"agree": "on", "full_name": "Amara Okafor", "version": "1"}
    )
    assert "A newer version of the confidentiality code has been published" in (
        response.content.decode()
    )
    assert not Undertaking.objects.filter(user=officer).exists()


def test_new_code_version_removes_access_until_signed_again(client, officer, tenant):
    assert visible(officer) == {tenant}
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    response = client.post(
        reverse("compliance_code_publish"), {"version": "2", "text": "Revised code."}
    )
    assert response.status_code == 302
    assert visible(officer) == set()
    assert compliance_problems(fresh(officer)) == [
        "You have not signed version 2 of the confidentiality code."
    ]
    # The DPO who published is held to it as well.
    assert compliance_problems(fresh(dpo)) == [
        "You have not signed version 2 of the confidentiality code."
    ]
    services.sign_code(
        user=officer, code=services.current_code(), full_name=officer.get_full_name()
    )
    assert visible(officer) == {tenant}


def test_publish_form_rejects_bad_input(client):
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    url = reverse("compliance_code_publish")
    body = client.post(url, {"version": "", "text": ""}).content.decode()
    assert "Enter the version number" in body and "Enter the text of the code" in body
    body = client.post(url, {"version": "1", "text": "Same number again."}).content.decode()
    assert "Version 1 already exists" in body and "govuk-error-summary" in body
    assert ConfidentialityCode.objects.count() == 1


# --- training ------------------------------------------------------------------------------------


def test_expiry_is_computed_from_the_modules_validity():
    module = TrainingModuleFactory(validity_months=12)
    record = TrainingRecordFactory(module=module, completed_on=datetime.date(2024, 2, 29))
    assert record.expires_on == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)


def test_dates_read_as_people_write_them():
    assert long_date(datetime.date(2026, 5, 3)) == "3 May 2026"


def test_expired_training_blocks_and_renewal_restores(officer, tenant):
    module = TrainingModuleFactory(name="UK GDPR essentials", roles=[Role.HOUSING_OFFICER])
    today = timezone.localdate()
    completed = add_months(today, -13)
    TrainingRecord.objects.create(user=officer, module=module, completed_on=completed)
    expired_on = add_months(completed, 12)
    assert compliance_problems(fresh(officer)) == [
        "Your data protection training 'UK GDPR essentials' expired on %s." % long_date(expired_on)
    ]
    assert visible(officer) == set()
    services.record_training(
        recorded_by=user_with_role(Role.SENIOR_OFFICER),
        user=officer,
        module=module,
        completed_on=today,
    )
    assert visible(officer) == {tenant}


def test_missing_training_blocks(officer, tenant):
    TrainingModuleFactory(name="Safe addresses", roles=[Role.HOUSING_OFFICER])
    assert compliance_problems(fresh(officer)) == [
        "You have not completed the data protection training 'Safe addresses'."
    ]
    assert visible(officer) == set()


def test_training_for_a_role_you_do_not_hold_does_not_block(officer, tenant):
    TrainingModuleFactory(name="Handling bids", roles=[Role.CONTRACTS_OFFICER])
    assert compliance_problems(fresh(officer)) == []
    assert visible(officer) == {tenant}


def test_may_read_records_is_cached_per_request_in_two_queries(officer, django_assert_num_queries):
    TrainingModuleFactory(roles=[Role.HOUSING_OFFICER])
    user = fresh(officer)
    with django_assert_num_queries(3):  # roles, then the code and the training
        assert may_read_records(user) is False
        assert may_read_records(user) is False
        assert Person.objects.visible_to(user).count() == 0
    forget_compliance(user)
    with django_assert_num_queries(2):  # roles are still known
        may_read_records(user)


def test_record_training_form(client, officer):
    module = TrainingModuleFactory(roles=[Role.HOUSING_OFFICER])
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    url = reverse("compliance_training_record")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        url,
        {"user": officer.pk, "module": module.pk, "completed_on": tomorrow.strftime("%d/%m/%Y")},
    )
    assert "must be today or in the past" in response.content.decode()
    response = client.post(url, {"user": "", "module": module.pk, "completed_on": "31/02/2026"})
    body = response.content.decode()
    assert "Choose who completed the training" in body
    assert "Enter the date the training was completed as day/month/year" in body
    assert not TrainingRecord.objects.filter(user=officer, module=module).exists()
    response = client.post(
        url,
        {
            "user": officer.pk,
            "module": module.pk,
            "completed_on": "01/03/2026",
            "evidence": "Certificate 42",
        },
    )
    assert response.status_code == 302
    record = TrainingRecord.objects.get(user=officer, module=module)
    assert record.expires_on == datetime.date(2027, 3, 1) and record.evidence == "Certificate 42"


def test_module_form_requires_roles(client):
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))
    url = reverse("compliance_module_create")
    response = client.post(url, {"name": "Records handling", "validity_months": "0"})
    body = response.content.decode()
    assert "Select the roles that must complete this module" in body
    assert "from 1 to 60" in body
    response = client.post(
        url,
        {"name": "Records handling", "roles": [Role.HOUSING_OFFICER], "validity_months": "24"},
    )
    assert response.status_code == 302


def test_dpo_status_page_lists_who_is_due(client):
    module = TrainingModuleFactory(
        name="UK GDPR essentials", roles=[Role.HOUSING_OFFICER, Role.FINANCE_OFFICER]
    )
    today = timezone.localdate()
    services.publish_initial_code()
    expired = user_with_role(
        Role.HOUSING_OFFICER, first_name="Ezra", last_name="Expired", compliant=False
    )
    services.sign_code(user=expired, code=services.current_code(), full_name="Ezra Expired")
    TrainingRecord.objects.create(user=expired, module=module, completed_on=add_months(today, -14))
    due = user_with_role(Role.FINANCE_OFFICER, first_name="Dana", last_name="Duesoon")
    TrainingRecord.objects.filter(user=due).delete()
    TrainingRecord.objects.create(
        user=due, module=module, completed_on=add_months(today, -12) + datetime.timedelta(days=10)
    )
    unsigned = user_with_role(
        Role.COMMITTEE_MEMBER, first_name="Una", last_name="Unsigned", compliant=False
    )
    fine = user_with_role(Role.HOUSING_OFFICER, first_name="Fern", last_name="Finetrained")
    user_with_role(Role.TENANT, first_name="Terry", last_name="Tenantonly")
    dpo = user_with_role(Role.DATA_PROTECTION_LEAD)
    client.force_login(dpo)
    response = client.get(reverse("compliance_training"))
    body = response.content.decode()
    for person in (expired, due, unsigned, fine):
        assert person.last_name in body
    assert "Tenantonly" not in body
    code, rows = services.training_status()
    by_user = {row.user.pk: row for row in rows}
    assert by_user[expired.pk].blocked and by_user[unsigned.pk].blocked
    assert by_user[due.pk].due and not by_user[due.pk].blocked
    assert not by_user[fine.pk].needs_action
    assert unsigned.pk in by_user and not by_user[unsigned.pk].signed
    assert rows[0].blocked  # problems first
    panel = next(p for p in panels_for(fresh(dpo)) if p.title == "Training and undertakings due")
    assert panel.count == 3 and panel.urgent


def test_status_page_queries_do_not_grow_with_people(client, queries_do_not_grow):
    TrainingModuleFactory(roles=[Role.HOUSING_OFFICER, Role.COMMITTEE_MEMBER])
    client.force_login(user_with_role(Role.DATA_PROTECTION_LEAD))

    def add_people(count):
        for index in range(count):
            role = Role.HOUSING_OFFICER if index % 2 else Role.COMMITTEE_MEMBER
            user_with_role(role, compliant=bool(index % 3))

    response = queries_do_not_grow(client, reverse("compliance_training"), add_people)
    assert response.status_code == 200


def test_training_pages_are_for_managers_only(client):
    client.force_login(user_with_role(Role.HOUSING_OFFICER))
    assert client.get(reverse("compliance_training")).status_code == 403
    assert client.get(reverse("compliance_code_publish")).status_code == 403
    client.force_login(user_with_role(Role.SENIOR_OFFICER))
    assert client.get(reverse("compliance_training")).status_code == 200
    assert client.get(reverse("compliance_code_publish")).status_code == 403


# --- telling the user -----------------------------------------------------------------------------


def test_status_page_explains_and_dashboard_shows_an_urgent_panel(client, officer):
    TrainingModuleFactory(name="UK GDPR essentials", roles=[Role.HOUSING_OFFICER])
    client.force_login(officer)
    body = client.get(reverse("compliance_status")).content.decode()
    assert (
        "You have not completed the data protection training &#x27;UK GDPR essentials&#x27;."
        in (body)
    )
    panel = next(p for p in panels_for(fresh(officer)) if p.urgent)
    assert panel.title == "You cannot open records until this is put right"
    assert panel.items == [
        "You have not completed the data protection training 'UK GDPR essentials'."
    ]
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "You cannot open records until this is put right" in dashboard


def test_compliant_user_gets_no_panel_or_notice(client, officer):
    assert all(not p.urgent for p in panels_for(fresh(officer)))
    client.force_login(officer)
    with override_settings(MIDDLEWARE=NOTICE_MIDDLEWARE):
        body = client.get(reverse("dashboard")).content.decode()
    assert "You cannot open confidential records" not in body


def _request(user, path, method="get", accept="text/html"):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.urls import resolve

    request = getattr(RequestFactory(), method)(path, HTTP_ACCEPT=accept)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request.resolver_match = resolve(path)
    return request


def test_middleware_adds_one_notice_on_html_get_pages_only():
    services.publish_initial_code()
    user = user_with_role(Role.HOUSING_OFFICER, compliant=False)
    middleware = ComplianceNoticeMiddleware(lambda request: None)

    request = _request(user, reverse("person_search"))
    middleware.process_view(request, None, (), {})
    middleware.process_view(request, None, (), {})  # the same request twice: still one notice
    notices = [str(m) for m in get_messages(request)]
    assert len(notices) == 1
    assert "You have not signed version 1 of the confidentiality code." in notices[0]

    for path, method, accept in (
        (reverse("logout"), "get", "text/html"),
        (reverse("compliance_code"), "get", "text/html"),
        (reverse("compliance_status"), "get", "text/html"),
        (reverse("person_search"), "post", "text/html"),
        (reverse("person_search"), "get", "application/json"),
    ):
        request = _request(user, path, method, accept)
        middleware.process_view(request, None, (), {})
        assert list(get_messages(request)) == [], path


def test_middleware_leaves_compliant_and_unrequired_users_alone(officer):
    middleware = ComplianceNoticeMiddleware(lambda request: None)
    for user in (officer, user_with_role(Role.TENANT, compliant=False)):
        request = _request(user, reverse("dashboard"))
        middleware.process_view(request, None, (), {})
        assert list(get_messages(request)) == []


def test_sign_out_is_not_blocked(client):
    services.publish_initial_code()
    client.force_login(user_with_role(Role.HOUSING_OFFICER, compliant=False))
    with override_settings(MIDDLEWARE=NOTICE_MIDDLEWARE):
        response = client.post(reverse("logout"))
    assert response.status_code == 302


def test_tenant_sees_the_code_without_a_form(client):
    services.publish_initial_code()
    client.force_login(UserFactory(roles=[Role.TENANT]))
    body = client.get(reverse("compliance_code")).content.decode()
    assert "Confidentiality code" in body and "Sign the undertaking" not in body
