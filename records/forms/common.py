"""Pieces the list pages' filter forms share.

A list page's filters come from the query string, so a bad value is ignored rather than reported:
the page still lists what the user may see.
"""

import functools
import operator

from django.db.models import Q
from django.utils import timezone


class FilterFormMixin:
    """For a GET filter form: its cleaned data when valid, and no filters at all otherwise."""

    def valid_data(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}


def containing_every_word(queryset, text: str | None, fields: tuple[str, ...]):
    """The rows in which each word of the text appears in at least one of the fields."""
    for word in (text or "").split():
        queryset = queryset.filter(
            functools.reduce(operator.or_, (Q(**{"%s__icontains" % f: word}) for f in fields))
        )
    return queryset


def by_end_date(queryset, status: str):
    """'current' rows have not ended (no end date, or one today or later), 'former' ones have."""
    current = Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate())
    if status == "current":
        return queryset.filter(current)
    if status == "former":
        return queryset.exclude(current)
    return queryset
