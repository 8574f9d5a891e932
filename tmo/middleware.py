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


class UnreadableRecordMiddleware:
    """A record whose encryption key is not configured is refused with a page saying so: never
    its ciphertext, never a half-drawn page, and nothing saved over it (the row never loads, so
    no form can write it back). The log names the page, not the value."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.template.response import TemplateResponse

        from tmo.crypto import DecryptionError

        if not isinstance(exception, DecryptionError):
            return None
        logging.getLogger("tmo.crypto").error(
            "A stored value could not be decrypted: its key is not configured (%s %s, user %s)",
            request.method,
            request.path,
            getattr(getattr(request, "user", None), "pk", None),
        )
        response = TemplateResponse(request, "key_unavailable.html", status=500)
        return response.render()
