"""Database expressions shared by the apps' constraints and queries."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    """`tstzrange(start, end)`, half-open `[start, end)`: back-to-back ranges do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()
