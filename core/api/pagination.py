import re
from typing import Any

from django.core import exceptions as django_exceptions
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable, ValuesIterable
from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api.input_serializers import MAX_BIGINT

MAX_PAGE_SIZE = 100
PAGE_SIZE_PARAM = "page_size"


class PageSizeMixin(pagination.BasePagination):
    """`?page_size=M`: a whole number of 1 or more; a larger one than the maximum is cut to it.

    DRF ignores a `page_size` it cannot read and answers the default page size, so a client's
    typo went unnoticed; here it is a 400 on `page_size`, as the schema (an integer of at least 1)
    says. Left out or empty, the default page size applies.
    """

    page_size: int | None
    page_size_query_param: str | None = PAGE_SIZE_PARAM
    page_size_query_description = (
        f"Results per page, at least 1; more than {MAX_PAGE_SIZE} is cut to {MAX_PAGE_SIZE}."
    )
    max_page_size: int | None = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(PAGE_SIZE_PARAM, "")
        if raw == "":
            return self.page_size
        if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
            raise ValidationError(
                {
                    PAGE_SIZE_PARAM: [
                        ErrorDetail("Give a whole number of 1 or more.", code="invalid")
                    ]
                }
            )
        return min(int(raw), MAX_PAGE_SIZE)

    def get_schema_operation_parameters(self, view: APIView) -> list[Any]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (PAGE_SIZE_PARAM, "page"):
                parameter["schema"]["minimum"] = 1
        return parameters

    def get_paginated_response_schema(self, schema):
        """DRF's page schema, with `next` and `previous` required: a page always carries both,
        null at either end, and a generated client should not type them as maybe absent."""
        page = super().get_paginated_response_schema(schema)
        page["required"] = sorted({*page["required"], "next", "previous"})
        for link in ("next", "previous"):
            # DRF's own examples, but for a stray quote at the end of its cursor one.
            page["properties"][link]["example"] = page["properties"][link]["example"].rstrip('"')
        return page


class CountingPaginator(Paginator):
    """A paginator that reads a page of a queryset and the total in one query.

    The page's query also returns `COUNT(*) OVER ()`, which PostgreSQL computes over every
    matching row before the LIMIT applies; by default in a subquery, with the page's ORDER BY
    and LIMIT outside it (see `page`). Only an empty page (past the last, or of an empty list)
    needs the separate count, to tell the two apart; so do DRF's `page=last` (it asks for the
    number of pages first) and page numbers past what OFFSET takes. A DISTINCT or combined
    query would count before DISTINCT applies, so those, and lists that are not querysets, are
    paginated the usual way. Why one query: bench/README.md, "Pagination".
    """

    TOTAL = "_paginator_total"
    count_in_subquery = True  # see `page` and `IndexOrderedPagination`

    def page(self, number: int | str) -> Page:
        queryset = self._queryset_counted_in_page()
        if queryset is None:
            return super().page(number)
        number = self._number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_BIGINT:  # past any last page, and past what OFFSET takes
            return super().page(number)
        counted = queryset.annotate(**{self.TOTAL: Window(Count("*"))})
        if self.count_in_subquery:
            # The filter, true of every row (each counts itself), makes Django put the
            # counting query in a subquery and the page's ORDER BY and LIMIT outside it, so
            # that PostgreSQL plans the count over every matching row instead of walking an
            # index in page order (bench/README.md, "Pagination").
            counted = counted.filter(**{f"{self.TOTAL}__gt": 0})
        rows = list(counted[bottom : bottom + self.per_page])
        if not rows:
            return super().page(number)
        self.count = self._pop_total(rows)
        # Django's hook for the page class, which django-stubs leaves out.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]

    def _queryset_counted_in_page(self) -> QuerySet[Any, Any] | None:
        """The list, if it is a queryset whose page can carry its count."""
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return None
        query = rows.query
        counts = (
            rows._iterable_class in (ModelIterable, ValuesIterable)
            and self.orphans == 0
            and not query.distinct
            and not query.combinator
            and not query.where.contains_over_clause  # a filter on a window applies after it
            and not query.is_sliced
        )
        return rows if counts else None

    def _number(self, number: int | float | str) -> int:
        """`validate_number` without its upper bound, which needs the count: a page past the
        last is found by coming back empty."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def _pop_total(self, rows: list[Any]) -> int:
        total = 0
        for row in rows:
            if isinstance(row, dict):
                total = row.pop(self.TOTAL)
            else:
                total = getattr(row, self.TOTAL)
                delattr(row, self.TOTAL)
        return total


class PageNumberPagination(PageSizeMixin, pagination.PageNumberPagination):
    """`?page=N&page_size=M` (docs/api.md, "Pagination"); a page past the last, or not a number,
    is a 404. The page and its count in one query, the count in a subquery: the form that is
    safe whatever the list's indexes. Each list view names its paginator, and why."""

    django_paginator_class = CountingPaginator


class IndexOrderedCountingPaginator(CountingPaginator):
    count_in_subquery = False


class IndexOrderedPagination(PageNumberPagination):
    """For a list that one index reads in page order, touching no row but the list's own: the
    count stays in the page's query, without the subquery (bench/README.md, "Pagination").
    A view using it names the index, and tests/api/test_pagination_plans.py checks the plan."""

    django_paginator_class = IndexOrderedCountingPaginator


class CursorPagination(PageSizeMixin, pagination.CursorPagination):
    """Cursor pagination (the audit log); a cursor that cannot be read is a 404.

    DRF refuses a cursor it cannot decode, but passes the position it carries (`p=`) to the
    query unread: a crafted cursor (`p=x`, base64 `cD14`) made the database layer fail on the
    value, a 500. Here the position must be a value of the first ordering field, as every
    cursor the API hands out carries.
    """

    def paginate_queryset(self, queryset, request, view=None):
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        self.position_field = queryset.model._meta.get_field(first)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                self.position_field.get_prep_value(self.position_field.to_python(cursor.position))
            except (
                django_exceptions.ValidationError,
                ValueError,
                TypeError,
                OverflowError,
            ) as error:
                raise NotFound(self.invalid_cursor_message) from error
        return cursor
