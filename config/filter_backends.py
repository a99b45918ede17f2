"""The filter backend of the API's list views."""

import django_filters.rest_framework


class DjangoFilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """django-filter's backend, which does not build the FilterSet (a deep copy of every
    filter) and its form when the request names none of the filterset's parameters, as most
    list requests do: that build was a tenth of the appointment list's time
    (bench/README.md). Without its parameters a FilterSet filters nothing, so the answer is
    the same. A parameter counts when its name starts with a filter's name, which covers the
    suffixed parameters of range filters."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name)
            for param in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
