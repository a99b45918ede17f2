from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`; a larger `page_size` is cut to the maximum, 100."""

    page_size_query_param = "page_size"
    max_page_size = 100
