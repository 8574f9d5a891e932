"""Every view declares who may use it. A view with no declaration is refused by the middleware."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied

from access.roles import roles_of


@dataclass(frozen=True)
class ViewPolicy:
    name: str
    roles: frozenset[str] = frozenset()
    public: bool = False

    def allows(self, user) -> bool:
        if self.public:
            return True
        if not user.is_authenticated or not user.is_active:
            return False
        if not self.roles:
            return True
        return bool(roles_of(user) & self.roles)


def _declare(policy: ViewPolicy):
    def decorator(view):
        if policy.public:
            view = login_not_required(view)

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not policy.allows(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access_policy = policy
        return wrapped

    return decorator


def roles_required(*roles: str):
    """Only users holding one of these roles; objects within are further scoped by model policies."""
    return _declare(ViewPolicy(name="roles:" + ",".join(sorted(roles)), roles=frozenset(roles)))


def signed_in(view):
    """Any signed-in user; the view shows only what the model policies let that user see."""
    return _declare(ViewPolicy(name="signed-in"))(view)


def public(view):
    """No sign-in needed (sign-in page, health check). Must show no personal data."""
    return _declare(ViewPolicy(name="public", public=True))(view)


def policy_of(view) -> ViewPolicy | None:
    policy = getattr(view, "access_policy", None)
    if policy is None and hasattr(view, "view_class"):
        policy = getattr(view.view_class, "access_policy", None)
    return policy
