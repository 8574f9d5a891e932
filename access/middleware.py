import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _

from access.decorators import policy_of
from access.policy import policy_read_once

logger = logging.getLogger(__name__)


class AccessPolicyMiddleware:
    """Deny by default: a view that declares no access policy is never run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with policy_read_once():
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if policy_of(view_func) is None:
            logger.error("view %s declares no access policy; refused", view_func.__qualname__)
            raise PermissionDenied
        return None


def two_factor_exempt(view):
    """Mark a view usable before the second factor is given: the sign-in steps and sign-out."""
    view.two_factor_exempt = True
    return view


def _is_two_factor_exempt(view_func) -> bool:
    if getattr(view_func, "two_factor_exempt", False):
        return True
    return getattr(getattr(view_func, "view_class", None), "two_factor_exempt", False)


class SessionTimeoutMiddleware:
    """End a session after SESSION_IDLE_TIMEOUT without a request, and SESSION_ABSOLUTE_LIMIT
    after sign-in whatever the activity, saying why on the sign-in page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self._end_if_expired(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _end_if_expired(self, request):
        from access.services import accounts

        now = time.time()
        session = request.session
        signed_in_at = session.get(accounts.SIGNED_IN_AT)
        last_seen_at = session.get(accounts.LAST_SEEN_AT)
        if signed_in_at is None or last_seen_at is None:
            # A session from before these limits: they start counting now.
            session[accounts.SIGNED_IN_AT] = session[accounts.LAST_SEEN_AT] = now
            return None
        idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
        limit = settings.SESSION_ABSOLUTE_LIMIT.total_seconds()
        if now - last_seen_at > idle:
            message = _("You were signed out after %(minutes)d minutes without activity.") % {
                "minutes": idle // 60
            }
        elif now - signed_in_at > limit:
            message = _(
                "You were signed out because you had been signed in for %(hours)d hours."
            ) % {"hours": limit // 3600}
        else:
            accounts.note_activity(request=request, now=now)
            return None
        logout(request)
        messages.info(request, message + " " + _("Sign in again to continue."))
        return redirect_to_login(request.get_full_path())


class TwoFactorMiddleware:
    """Until the second factor is given, every page but the sign-in steps and sign-out sends the
    user to the two-factor step. Runs after django_otp's OTPMiddleware, which says who is
    verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from access.services import accounts

        if _is_two_factor_exempt(view_func) or not accounts.needs_second_factor(request.user):
            return None
        return redirect_to_login(request.get_full_path(), reverse("two_factor_verify"))
