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


def pytest_report_header(config):
    return "database: %s" % settings.DATABASES["default"]["ENGINE"]
