import django_filters

from appointments.models import Appointment, AppointmentStatus
from core.api.filters import BoundedDateFilter
from core.clinic_time import day_bounds


class AppointmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AppointmentStatus.choices)
    doctor = django_filters.UUIDFilter(field_name="doctor_id")
    patient = django_filters.UUIDFilter(field_name="patient_id")
    date_from = BoundedDateFilter(
        method="filter_date_from",
        help_text="Clinic-local day of the start, included.",
    )
    date_to = BoundedDateFilter(
        method="filter_date_to",
        help_text="Clinic-local day of the start, included.",
    )
    # One value, as the doctor directory's `ordering` (an OrderingFilter reads a list, which
    # generated clients then type as an array); the id breaks ties either way.
    ordering = django_filters.ChoiceFilter(
        choices=[("start", "start"), ("-start", "-start")],
        method="filter_ordering",
        help_text="By start, earliest first (`start`, the default) or latest first (`-start`).",
    )

    class Meta:
        model = Appointment
        fields = ["status", "doctor", "patient"]

    def filter_date_from(self, queryset, name, value):
        lower, _ = day_bounds(value, None)
        return queryset.filter(start__gte=lower)

    def filter_date_to(self, queryset, name, value):
        _, upper = day_bounds(None, value)
        return queryset.filter(start__lt=upper)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(value, "-pk" if value.startswith("-") else "pk")
