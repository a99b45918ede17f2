import re

from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError

MAX_PAGE_SIZE = 100


class PageSizeMixin:
    """`?page_size=M`: a whole number of 1 or more; a larger one than the maximum is cut to it.

    DRF ignores a `page_size` it cannot read and answers the default page size, so a client's
    typo went unnoticed; here it is a 400 on `page_size`, as the schema (an integer of at least 1)
    says. Left out or empty, the default page size applies.
    """

    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Results per page, at least 1; more than {MAX_PAGE_SIZE} is cut to {MAX_PAGE_SIZE}."
    )
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        ErrorDetail("Give a whole number of 1 or more.", code="invalid")
                    ]
                }
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_size_query_param, "page"):
                parameter["schema"]["minimum"] = 1
        return parameters


class PageNumberPagination(PageSizeMixin, pagination.PageNumberPagination):
    """`?page=N&page_size=M` (API.md); a page past the last, or not a number, is a 404."""


class CursorPagination(PageSizeMixin, pagination.CursorPagination):
    """Cursor pagination (the audit log); a cursor that cannot be read is a 404."""
