"""Access models, one module per area; Django finds them through these imports."""

from access.models.accounts import *  # noqa: F403
from access.models.breaches import *  # noqa: F403
from access.models.compliance import *  # noqa: F403
from access.models.dpia import *  # noqa: F403
from access.models.emergency import *  # noqa: F403
from access.models.grants import *  # noqa: F403
from access.models.meetings import *  # noqa: F403
