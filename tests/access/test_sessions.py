"""Sessions end after 15 idle minutes and 10 hours in all; signing out, or an administrator
disabling the account, ends every session the account has."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from access.models import UserSession
from access.roles import Role
from access.services import accounts
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return user_with_role(Role.HOUSING_OFFICER)


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


def shift_session(client, **seconds_ago):
    session = client.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def sessions_in_store(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


# Timeouts


def test_settings_give_fifteen_idle_minutes_and_ten_hours(settings):
    assert settings.SESSION_IDLE_TIMEOUT.total_seconds() == 15 * 60
    assert settings.SESSION_ABSOLUTE_LIMIT.total_seconds() == 10 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_ABSOLUTE_LIMIT.total_seconds() >= settings.SESSION_COOKIE_AGE


def test_fifteen_idle_minutes_sign_the_user_out_with_a_message(officer):
    client = signed_in_client(officer)
    assert client.get(reverse("dashboard")).status_code == 200
    shift_session(client, **{accounts.LAST_SEEN_AT: 15 * 60 + 5})

    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/people/"
    assert not is_signed_in(client)
    assert not UserSession.objects.filter(user=officer).exists()
    page = client.get(response["Location"])
    assert "You were signed out after 15 minutes without activity." in page.content.decode()


def test_activity_keeps_the_session_going(officer):
    client = signed_in_client(officer)
    shift_session(client, **{accounts.LAST_SEEN_AT: 14 * 60})
    assert client.get(reverse("dashboard")).status_code == 200
    # The request counted as activity: the idle clock starts again.
    assert time.time() - client.session[accounts.LAST_SEEN_AT] < 5
    assert client.get(reverse("dashboard")).status_code == 200


def test_ten_hours_after_sign_in_the_session_ends_however_active(officer):
    client = signed_in_client(officer)
    shift_session(client, **{accounts.SIGNED_IN_AT: 10 * 3600 + 5, accounts.LAST_SEEN_AT: 30})
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not is_signed_in(client)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        "You were signed out because you had been signed in for 10 hours. "
        "Sign in again to continue."
    ]


def test_the_session_cookie_ends_with_the_browser(officer, client):
    client.force_login(officer)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    cookie = client.cookies["sessionid"]
    assert not cookie["expires"] and not cookie["max-age"]


# Signing out ends every session


def test_signing_out_ends_every_session_of_the_account(officer):
    laptop, phone = signed_in_client(officer), signed_in_client(officer)
    colleague = user_with_role(Role.HOUSING_OFFICER)
    colleagues_client = signed_in_client(colleague)
    assert UserSession.objects.filter(user=officer).count() == 2
    assert sessions_in_store(officer) == 2

    response = laptop.post(reverse("logout"))
    assert response.status_code == 302
    assert not is_signed_in(laptop)
    response = phone.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert sessions_in_store(officer) == 0
    assert not UserSession.objects.filter(user=officer).exists()
    # Nobody else is signed out.
    assert colleagues_client.get(reverse("dashboard")).status_code == 200


def test_sign_out_everywhere_from_the_account_page(officer):
    laptop, phone = signed_in_client(officer), signed_in_client(officer)
    page = laptop.get(reverse("account_security"))
    assert page.status_code == 200
    assert page.content.decode().count("govuk-table__row") == 3  # header and two sessions
    assert "This browser" in page.content.decode()

    response = laptop.post(reverse("account_sign_out_everywhere"))
    assert response.status_code == 302
    assert phone.get(reverse("dashboard")).status_code == 302
    assert laptop.get(reverse("dashboard")).status_code == 302
    assert sessions_in_store(officer) == 0


def test_disabling_an_account_ends_its_sessions(officer):
    laptop, phone = signed_in_client(officer), signed_in_client(officer)
    officer.is_active = False
    officer.save()
    assert sessions_in_store(officer) == 0
    assert not UserSession.objects.filter(user=officer).exists()
    for client in (laptop, phone):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_administrator_disabling_an_account_in_the_admin_ends_its_sessions(officer):
    phone = signed_in_client(officer)
    administrator = user_with_role(Role.SYSTEM_ADMINISTRATOR)
    admin_client = signed_in_client(administrator)
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[officer.pk]),
        {
            "username": officer.username,
            "first_name": officer.first_name,
            "last_name": officer.last_name,
            "email": officer.email,
            "is_staff": "",
            "groups": [g.pk for g in officer.groups.all()],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    officer.refresh_from_db()
    assert not officer.is_active
    assert phone.get(reverse("dashboard")).status_code == 302
    assert sessions_in_store(officer) == 0
    # The administrator's own session goes on.
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_signing_out_of_the_admin_ends_every_session_too():
    administrator = user_with_role(Role.SYSTEM_ADMINISTRATOR)
    one, two = signed_in_client(administrator), signed_in_client(administrator)
    assert one.post(reverse("admin:logout")).status_code in {200, 302}
    assert two.get(reverse("admin:index")).status_code == 302
    assert sessions_in_store(administrator) == 0


def test_sign_in_records_the_session_and_sign_out_removes_it(officer, client):
    client.force_login(officer)
    tracked = UserSession.objects.get(user=officer)
    assert tracked.session_key == client.session.session_key
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(user=officer).exists()


# Recovery codes from the account page


def test_new_recovery_codes_need_the_password(officer, client):
    client.force_login(officer)
    old = accounts.issue_recovery_codes(user=officer)
    response = client.post(reverse("account_recovery_codes_new"), {"password": "wrong"})
    assert response.status_code == 200
    assert "The password is not right" in response.content.decode()
    assert accounts.remaining_recovery_codes(officer) == 10

    response = client.post(
        reverse("account_recovery_codes_new"), {"password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "Your recovery codes" in body
    assert old[0] not in body
    assert accounts.remaining_recovery_codes(officer) == 10
    assert not set(old) & set(
        officer.staticdevice_set.get().token_set.values_list("token", flat=True)
    )
