"""Two-factor sign-in: password, then an authenticator code or a recovery code; lockout after
repeated failures for one username from one address; the demo's fixed code only where set."""

import re
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import Role
from access.services import accounts
from tests.factories import PatchFactory, UserFactory, tenant_in_patch, user_with_role
from tests.urlwalk import all_routes
from tmo.admin import site as admin_site

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password
VERIFY = "/access/sign-in/code/"
SETUP = "/access/sign-in/set-up/"


def sign_in(client, user, password=PASSWORD, ip="127.0.0.1", next_url=""):
    data = {"username": user.get_username(), "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ip)


def code_for(device, steps_ahead=0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return "%06d" % totp.token()


def enter_code(client, code, ip="127.0.0.1", next_url=""):
    data = {"code": code}
    if next_url:
        data["next"] = next_url
    return client.post(VERIFY, data, REMOTE_ADDR=ip)


def app_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


# Who needs the second factor, and where it is enforced


def _url_without_real_objects(route) -> str | None:
    """A URL for the route with 1 for every argument: the redirect comes before any view runs.
    Regex routes (Django admin's app index) are left out; the admin index is covered."""
    if route.pattern.startswith("^") or "(?P" in route.pattern:
        return None
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "1", route.pattern)


# The pages a user without the second factor may still open.
BEFORE_SECOND_FACTOR = {"logout", "two_factor_verify", "two_factor_setup"}


@pytest.mark.parametrize(
    "role",
    [
        Role.HOUSING_OFFICER,
        Role.DATA_PROTECTION_LEAD,
        Role.COMMITTEE_MEMBER,
        Role.SYSTEM_ADMINISTRATOR,
    ],
    ids=str,
)
def test_a_password_alone_opens_no_page_but_the_two_factor_step(client, role):
    user = user_with_role(role)
    app_for(user)
    assert sign_in(client, user).status_code == 302
    checked, failures = 0, []
    for route in all_routes():
        if route.name in BEFORE_SECOND_FACTOR:
            continue
        url = _url_without_real_objects(route)
        if url is None:
            continue
        response = client.get(url)
        checked += 1
        if response.status_code != 302 or not response["Location"].startswith(VERIFY):
            failures.append("%s %s: %s" % (route.name, url, response.status_code))
    assert failures == []
    assert checked > 40
    # Still signed in with the password, still waiting for the code.
    assert is_signed_in(client)


def test_the_admin_needs_the_second_factor_too(client):
    administrator = user_with_role(Role.SYSTEM_ADMINISTRATOR)
    app_for(administrator)
    sign_in(client, administrator)
    response = client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    # And the admin site itself refuses a session the second factor has not verified.
    request = RequestFactory().get("/admin/")
    request.user = administrator
    administrator.is_verified = lambda: False
    assert not admin_site.has_permission(request)
    administrator.is_verified = lambda: True
    assert admin_site.has_permission(request)


def test_the_admin_login_page_sends_everyone_to_the_one_sign_in(client):
    response = client.get(reverse("admin:login") + "?next=/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=/admin/auth/user/" in response["Location"]


def test_a_tenant_signs_in_with_a_password_alone(client):
    tenant = user_with_role(Role.TENANT)
    response = sign_in(client, tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_account_with_no_role_still_needs_the_second_factor(client):
    user = UserFactory()
    sign_in(client, user)
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)


# Setting up the authenticator app on first sign-in


def test_first_sign_in_sets_up_the_app_then_shows_ten_recovery_codes_once(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    response = sign_in(client, officer, next_url="/people/")
    assert response["Location"].startswith(VERIFY)
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body
    assert re.search(r"<script(?![^>]*\bsrc=)", body) is None
    device = TOTPDevice.objects.get(user=officer)
    assert not device.confirmed
    assert accounts.secret_for_display(device) in body
    # A reload shows the same key: the phone may already have it.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=officer).count() == 1

    wrong = client.post(SETUP, {"code": "000000", "next": "/people/"})
    assert wrong.status_code == 200
    assert "The code is not right" in wrong.content.decode()
    assert "govuk-error-summary" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=officer).exists()

    device.throttle_reset()
    response = client.post(SETUP, {"code": code_for(device), "next": "/people/"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_recovery_codes"))
    device.refresh_from_db()
    assert device.confirmed

    codes_page = client.get(response["Location"])
    tokens = list(StaticToken.objects.filter(device__user=officer).values_list("token", flat=True))
    assert len(tokens) == 10
    for token in tokens:
        assert token in codes_page.content.decode()
    assert 'href="/people/"' in codes_page.content.decode()
    # Shown once only.
    again = client.get(reverse("two_factor_recovery_codes"))
    assert again.status_code == 302
    assert tokens[0] not in again.content.decode()
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_account_that_has_an_app_cannot_add_another_with_a_password_alone(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    sign_in(client, officer)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=officer).count() == 1


# The second step with an app or a recovery code


def test_the_code_from_the_app_completes_sign_in_and_goes_on_to_next(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    device = app_for(officer)
    response = sign_in(client, officer, next_url="/people/")
    assert response["Location"] == VERIFY + "?next=%2Fpeople%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Enter your sign-in code" in page.content.decode()

    response = enter_code(client, code_for(device), next_url="/people/")
    assert response.status_code == 302
    assert response["Location"] == "/people/"
    assert client.get("/people/").status_code == 200


def test_a_wrong_code_is_refused_with_a_message(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    sign_in(client, officer)
    response = enter_code(client, "000000")
    body = response.content.decode()
    assert response.status_code == 200
    assert "The code is not right" in body
    assert 'href="#id_code"' in body
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)


def test_wrong_codes_slow_down_even_the_right_one(client, settings):
    assert settings.OTP_TOTP_THROTTLE_FACTOR > 0
    assert settings.OTP_STATIC_THROTTLE_FACTOR > 0
    officer = user_with_role(Role.HOUSING_OFFICER)
    device = app_for(officer)
    sign_in(client, officer)
    enter_code(client, "000000")
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    response = enter_code(client, code_for(device))
    assert "too many wrong codes" in response.content.decode()
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)


def test_a_recovery_code_works_once(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    code = accounts.issue_recovery_codes(user=officer)[0]

    sign_in(client, officer)
    response = enter_code(client, code.upper()[:4] + " " + code[4:])
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200

    other = client.__class__()
    sign_in(other, officer)
    response = enter_code(other, code)
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()


def test_signing_in_gives_a_new_session_key_at_each_step(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    device = app_for(officer)
    session = client.session
    session["before"] = "anonymous"
    session.save()
    anonymous_key = session.session_key

    sign_in(client, officer)
    password_key = client.session.session_key
    assert password_key != anonymous_key
    enter_code(client, code_for(device))
    verified_key = client.session.session_key
    assert verified_key not in {anonymous_key, password_key}
    assert client.get(reverse("dashboard")).status_code == 200
    # The session tracked for sign-out is the one in use now.
    assert list(accounts.sessions_of(officer).values_list("session_key", flat=True)) == [
        verified_key
    ]


# Lockout after repeated failures, for one username from one address


def test_five_wrong_passwords_lock_out_that_username_from_that_address_only(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    for attempt in range(4):
        response = sign_in(client, officer, password="wrong-%d" % attempt, ip="203.0.113.9")
        assert response.status_code == 200
        assert "Enter a correct username and password" in response.content.decode()
    response = sign_in(client, officer, password="wrong-again", ip="203.0.113.9")
    assert response.status_code == 429
    assert "You cannot sign in for now" in response.content.decode()

    # The right password from the attacker's address is refused now...
    response = sign_in(client, officer, ip="203.0.113.9")
    assert response.status_code == 429
    assert not is_signed_in(client)

    # ...but the officer at their own address still signs in.
    response = sign_in(client, officer, ip="198.51.100.20")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_lockout_lifts_after_the_cool_off(client, settings):
    from axes.models import AccessAttempt
    from django.utils import timezone

    officer = user_with_role(Role.HOUSING_OFFICER)
    for attempt in range(5):
        sign_in(client, officer, password="wrong-%d" % attempt)
    assert sign_in(client, officer).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1)
    )
    assert sign_in(client, officer).status_code == 302


def test_wrong_codes_count_towards_the_lockout_and_sign_the_password_out(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    sign_in(client, officer, ip="203.0.113.9")
    for _ in range(4):
        assert enter_code(client, "000000", ip="203.0.113.9").status_code == 200
    response = enter_code(client, "000000", ip="203.0.113.9")
    assert response.status_code == 429
    assert "You cannot sign in for now" in response.content.decode()
    assert not is_signed_in(client)
    assert sign_in(client, officer, ip="203.0.113.9").status_code == 429


def test_a_full_sign_in_clears_earlier_failures_for_that_address(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    device = app_for(officer)
    for attempt in range(4):
        sign_in(client, officer, password="wrong-%d" % attempt)
    sign_in(client, officer)
    enter_code(client, code_for(device))
    client.post(reverse("logout"))
    for attempt in range(4):
        assert sign_in(client, officer, password="again-%d" % attempt).status_code == 200


# The demo's fixed code


DEMO_SETTINGS = {"DEBUG": True, "DEMO_MODE": True, "DEMO_FIXED_OTP_CODE": "123456"}


def test_the_fixed_demo_code_signs_in_where_development_sets_it(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    with override_settings(**DEMO_SETTINGS):
        response = sign_in(client, officer)
        # No app needed in the demo: straight to the code page, which says the code.
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "Demo only: enter <strong>123456</strong>" in page.content.decode()
        response = enter_code(client, "123456")
        assert response.status_code == 302
        assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        # Production: no demo mode, no code.
        {"DEBUG": False, "DEMO_MODE": False},
        # The test settings: demo data, but no fixed code.
        {},
        # A code somehow set, but not in demo mode, or not in debug.
        {"DEBUG": True, "DEMO_MODE": False, "DEMO_FIXED_OTP_CODE": "123456"},
        {"DEBUG": False, "DEMO_MODE": True, "DEMO_FIXED_OTP_CODE": "123456"},
    ],
    ids=["production", "test-settings", "no-demo-mode", "no-debug"],
)
def test_the_fixed_demo_code_is_refused_everywhere_else(client, settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    if "DEMO_FIXED_OTP_CODE" not in overrides and hasattr(settings, "DEMO_FIXED_OTP_CODE"):
        del settings.DEMO_FIXED_OTP_CODE
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    sign_in(client, officer)
    page = client.get(VERIFY)
    assert "123456" not in page.content.decode()
    response = enter_code(client, "123456")
    assert response.status_code == 200
    assert "The code is not right" in response.content.decode()
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=officer, name=accounts.DEMO_DEVICE_NAME).exists()


def test_test_settings_define_no_fixed_code():
    from django.conf import settings

    assert not hasattr(settings, "DEMO_FIXED_OTP_CODE")


def test_production_settings_have_no_fixed_code_and_refuse_one(tmp_path):
    from tests.tmo.test_settings import PRODUCTION_ENV, run_python

    env = {**PRODUCTION_ENV, "TMO_VAR_DIR": str(tmp_path)}
    result = run_python(
        "import tmo.settings.production as s; "
        "print(s.DEMO_MODE, s.DEBUG, hasattr(s, 'DEMO_FIXED_OTP_CODE'))",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]

    refused = run_python("import tmo.settings.production", {**env, "DEMO_FIXED_OTP_CODE": "1"})
    assert refused.returncode != 0
    assert "DEMO_FIXED_OTP_CODE" in refused.stderr

    development = run_python(
        "import tmo.settings.development as s; print(s.DEMO_MODE, s.DEBUG, s.DEMO_FIXED_OTP_CODE)",
        {"TMO_VAR_DIR": str(tmp_path)},
    )
    assert development.returncode == 0, development.stderr
    assert development.stdout.split() == ["True", "True", "123456"]


# The sign-in page itself


def test_the_sign_in_page_shows_an_error_summary_linked_to_the_field(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    response = sign_in(client, officer, password="not-it")
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert '<a href="#id_username">' in body
    assert 'id="id_username-error"' in body
    assert "<title>Error: Sign in" in body


def test_a_person_on_file_is_not_shown_before_the_second_factor(client):
    officer = user_with_role(Role.HOUSING_OFFICER)
    app_for(officer)
    person = tenant_in_patch(PatchFactory(officers=[officer]), last_name="Zebedee-Quartermain")
    sign_in(client, officer)
    response = client.get(reverse("person_detail", args=[person.pk]), follow=True)
    assert "Zebedee-Quartermain" not in response.content.decode()
