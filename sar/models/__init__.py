"""Rights-request models, one module per area; Django finds them through these imports."""

from sar.models.bundles import *  # noqa: F403
from sar.models.portal import *  # noqa: F403
from sar.models.requests import *  # noqa: F403
