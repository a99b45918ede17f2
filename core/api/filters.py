"""Query filters shared by every app's API."""

import re

import django_filters
import django_filters.rest_framework
from django import forms

from core.api.fields import BOUNDED_DATE_SCHEMA, DATE_RANGE_VALIDATORS, RFC3339_DATE


class StrictBooleanField(forms.NullBooleanField):
    """`true` or `false`, as the schema's boolean is written in a query; left out or empty, no
    filter. Django's NullBooleanField reads anything else (`null`, `yes`, a typo) as "no
    filter", which hid a client's mistake behind an unfiltered answer."""

    # NullBooleanSelect reads every value it does not know as "unknown", before to_python sees it.
    widget = forms.TextInput
    default_error_messages = {"invalid": "Give true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true"):
            return True
        if value in (False, "false"):
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IsoDateField(forms.DateField):
    """`YYYY-MM-DD` only, as the schema's `date` format: Django's DateField also reads
    `01/02/2000`, `2000-1-1` and other spellings a client's typo can take."""

    def to_python(self, value):
        if isinstance(value, str) and value and not re.fullmatch(RFC3339_DATE, value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class BoundedDateFilter(django_filters.DateFilter):
    """A `YYYY-MM-DD` day between 1900 and 2199 (core.api.fields.BoundedDateField's bounds)."""

    field_class = IsoDateField

    def __init__(self, *args, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", []), *DATE_RANGE_VALIDATORS]
        super().__init__(*args, **kwargs)
        # What @extend_schema_field would set, per filter so that its help text stays with it
        # (drf-spectacular takes a filter's description from an overriding schema).
        schema = {**BOUNDED_DATE_SCHEMA}
        if self.extra.get("help_text"):
            schema["description"] = str(self.extra["help_text"])
        self._spectacular_annotation = {"field": schema}


class FilterWhenAskedBackend(django_filters.rest_framework.DjangoFilterBackend):
    """django-filter's backend, which does not build the FilterSet (a deep copy of every
    filter) and its form when the request names none of the filterset's parameters, as most
    list requests do (why: bench/README.md, "`GET /appointments/`"). Without its parameters a
    FilterSet filters nothing, so the answer is the same. A parameter counts when its name
    starts with a filter's name, which covers the suffixed parameters of range filters."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name)
            for param in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
