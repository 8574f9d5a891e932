import shutil

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _document_root(tmp_path, settings):
    """Each test writes its encrypted documents to its own folder."""
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    yield
    shutil.rmtree(tmp_path / "documents", ignore_errors=True)


@pytest.fixture
def patch_and_officer(db):
    from access.roles import Role
    from tests.factories import PatchFactory, user_with_role

    officer = user_with_role(Role.HOUSING_OFFICER)
    return PatchFactory(officers=[officer]), officer


@pytest.fixture
def patch(patch_and_officer):
    """The patch `officer` looks after."""
    return patch_and_officer[0]


@pytest.fixture
def officer(patch_and_officer):
    """The housing officer for `patch`, not yet signed in."""
    return patch_and_officer[1]


@pytest.fixture
def signed_in_officer(client, officer):
    """The housing officer for `patch`, signed in on `client`."""
    client.force_login(officer)
    return officer


@pytest.fixture
def officer_client(client, signed_in_officer):
    return client


@pytest.fixture
def login_as(client, db):
    """Sign `client` in as a new user with the given role, and return that user."""
    from tests.factories import user_with_role

    def sign_in(role, **kwargs):
        user = user_with_role(role, **kwargs)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def access_entries(db):
    """The audit log's ACCESS entries for one record: record_open must write exactly one."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    def entries(obj):
        return LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_pk=str(obj.pk),
            action=LogEntry.Action.ACCESS,
        )

    return entries


@pytest.fixture
def queries_do_not_grow(django_assert_max_num_queries):
    """Get a list page with a few rows, add many more, and get it again: the second get may run
    no more queries than the first, so N+1 cannot creep in. Returns the second response."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def check(client, url, add_rows, *, few=3, more=17):
        add_rows(few)
        with CaptureQueriesContext(connection) as small:
            assert client.get(url).status_code == 200
        add_rows(more)
        with django_assert_max_num_queries(len(small)):
            return client.get(url)

    return check


def pytest_report_header(config):
    return "database: %s" % settings.DATABASES["default"]["ENGINE"]


@pytest.fixture(autouse=True)
def _force_login_gives_the_second_factor(monkeypatch):
    """Staff accounts need a second factor: a test that signs in with force_login gets a
    confirmed authenticator app and a verified session too, as after the real two-factor step.
    tests/access/test_signin.py goes through the real pages instead."""
    from django.test import Client

    force_login = Client.force_login

    def force_login_verified(self, user, backend=None):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        force_login(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login_verified)
