"""Request id for logs and audit entries, and no caching of pages that may hold personal data."""

import logging
import uuid
from contextvars import ContextVar

from django.utils.cache import add_never_cache_headers

_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id(request=None) -> str:
    """Auditlog's correlation id getter: the id of the request being served."""
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        token = _request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class NoStoreMiddleware:
    """Pages for signed-in users can show personal data: no browser or proxy may keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response
