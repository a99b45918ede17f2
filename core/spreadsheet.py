"""CSV downloads: streamed row by row, every cell safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is one a
spreadsheet may run as a formula (OWASP, "CSV Injection"); such a cell gets a leading `'`, so
that it is shown as the text it is. Only text is escaped: numbers and dates are written as
they are.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: object) -> object:
    """`value` as it may go into a CSV cell: text that a spreadsheet would read as a formula
    is prefixed with `'`; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file whose `write` hands back what it is given: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell_safe(value) for value in row])


def csv_streaming_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A download of `rows` under `header`, written as it is sent (no list of rows is built
    in memory: `rows` may be a database iterator)."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
