import logging

from django.core.exceptions import PermissionDenied

from access.decorators import policy_of

logger = logging.getLogger(__name__)


class AccessPolicyMiddleware:
    """Deny by default: a view that declares no access policy is never run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if policy_of(view_func) is None:
            logger.error("view %s declares no access policy; refused", view_func.__qualname__)
            raise PermissionDenied
        return None
