"""What several record views share: paging through a list."""

from django.core.paginator import Page, Paginator

PAGE_SIZE = 25


def paginate(request, queryset, *, param: str = "page", label: str = "Pagination") -> Page:
    """One page of PAGE_SIZE rows, with ``page.links`` for templates/includes/pagination.html.

    Each link keeps the rest of the query string, so filters, the search and the page of another
    list on the same screen (`param` tells them apart) survive moving between pages.
    """
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))

    def url(number) -> str:
        query = request.GET.copy()
        query[param] = number
        return "?" + query.urlencode()

    # GOV.UK's pattern: the first, the last, and the pages either side of the current one.
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    page.links = {
        "label": label,
        "items": [
            {"number": number, "url": url(number), "current": number == page.number}
            if isinstance(number, int)
            else {"ellipsis": True}
            for number in numbers
        ],
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }
    return page
