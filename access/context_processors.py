from django.utils.functional import SimpleLazyObject


def emergency_access(request):
    """A staff member using emergency access is reminded of it on every page until it ends.
    Lazy: the query runs only when the page's banner asks for it."""
    from access.services.emergency import live_emergency_accesses

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"live_emergency_accesses": SimpleLazyObject(lambda: live_emergency_accesses(user))}


def breach_clocks(request):
    """The DPO sees each breach whose 72-hour clock is running on every page until the ICO
    decision is recorded. Lazy like the emergency banner; empty for everyone else."""
    from access.services.breaches import banner_breaches

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"breach_clocks": SimpleLazyObject(lambda: banner_breaches(user))}
