"""What the disclosures pages share: running a service from a submitted form."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError

T = TypeVar("T")


def run_service(
    request, form, action: Callable[[dict], T], *, success: str | Callable[[T], str]
) -> T | None:
    """Once `form` is submitted and valid, call the service through `action(cleaned_data)` and
    flash `success` (worked out from what the service returned, when it is a function).

    A service refuses with a ValidationError after the form's own checks, for a reason only it
    knows (the request was decided meanwhile, say): that goes onto the form, so the page shows it
    and nothing is saved. Returns what the service returned (every one returns what it saved),
    or None when the page is to be shown again.
    """
    if not form.is_bound or not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationError as error:
        form.add_service_error(error)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result
