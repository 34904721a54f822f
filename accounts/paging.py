"""Pagination for lists that can hold hundreds of thousands of rows.

Django's paginator counts every row the filters match; over a year of a large team's
interactions that COUNT alone takes longer than the rest of the page. ``CappedPaginator`` counts
at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``), and the page says "more than
10,000" instead of the exact number; the filters narrow the list to what is worth paging through.
"""

from functools import cached_property

from django.core.paginator import Paginator

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or COUNT_CAP

    @cached_property
    def _bounded_count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        """True when there are more rows than ``count`` says."""
        return self._bounded_count > self.cap
