"""Pinning query counts: a page with a few rows and the same page with a full page of rows must
run exactly the same number of queries, so no per-row query (N+1) can creep in unnoticed.

Used by tests/<app>/test_query_counts.py. The first get warms the per-process caches (content
types, roles), so that the counted gets compare like with like.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

FEW = 3
MANY = 25  # records.views.common.PAGE_SIZE: a full page


def assert_constant_queries(
    client, url, add_rows, django_assert_num_queries, *, few=FEW, many=MANY, data=None
):
    """Get `url` with `few` rows, then with `many`: the same number of queries both times.
    `add_rows(n)` adds n more rows. Returns (the number of queries, the second response)."""
    add_rows(few)
    assert client.get(url, data).status_code == 200
    with CaptureQueriesContext(connection) as small:
        response = client.get(url, data)
    assert response.status_code == 200
    add_rows(many - few)
    with django_assert_num_queries(len(small)):
        response = client.get(url, data)
    assert response.status_code == 200
    return len(small), response
