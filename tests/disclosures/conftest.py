import pytest

from access.roles import Role
from tests.factories import user_with_role


@pytest.fixture
def senior(db):
    """A senior officer: one of those who decide disclosures."""
    return user_with_role(Role.SENIOR_OFFICER)


@pytest.fixture
def dpo(db):
    """The data protection lead: decides, overrides safety blocks and gives second approvals."""
    return user_with_role(Role.DATA_PROTECTION_LEAD)
