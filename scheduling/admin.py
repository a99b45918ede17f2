"""Schedules in the admin site, written through `scheduling.services` as the API writes them:
a window is split into slots, a weekly rule generates its windows, time off and holidays
refuse to strand a booked appointment. None of them is edited after it is made (the API has
no update either): delete and add again. Slots are made by windows only, and their booking
mark only by the appointment services, so they are read-only here.
"""

from django.contrib import admin
from django.db.models import Count, Q

from core.admin import ReadOnlyInline, ReadOnlyModelAdmin, ServiceModelAdmin
from doctors.admin import DoctorListFilter
from scheduling import services
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule
from scheduling.selectors import slot_list_free

DOCTOR_SEARCH = ["doctor__user__first_name", "doctor__user__last_name", "doctor__user__email"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class CreateOnlyAdmin(ServiceModelAdmin):
    """Added and deleted through the services, never changed: the change page is a view."""

    autocomplete_fields = ["doctor"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WeeklyRule)
class WeeklyRuleAdmin(CreateOnlyAdmin):
    list_display = [
        "doctor",
        "weekday",
        "start_time",
        "end_time",
        "effective_from",
        "effective_until",
        "generated_through",
    ]
    list_filter = [DoctorListFilter, "day_of_week", "effective_from"]
    search_fields = DOCTOR_SEARCH
    list_select_related = ["doctor__user"]
    fields = [
        "doctor",
        "day_of_week",
        "start_time",
        "end_time",
        "effective_from",
        "effective_until",
        "generated_through",
        "created_at",
    ]
    readonly_fields = ["generated_through", "created_at"]

    @admin.display(description="day", ordering="day_of_week")
    def weekday(self, rule: WeeklyRule) -> str:
        return WEEKDAYS[rule.day_of_week]

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.weekly_rule_create(
            doctor=data["doctor"],
            day_of_week=data["day_of_week"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            effective_from=data["effective_from"],
            effective_until=data["effective_until"],
        )

    def service_delete(self, request, obj):
        services.weekly_rule_delete(rule=obj)


class SlotInline(ReadOnlyInline):
    model = Slot
    fields = ("start", "end", "is_booked")
    readonly_fields = fields
    ordering = ["start"]
    show_change_link = True


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(CreateOnlyAdmin):
    list_display = ["doctor", "start", "end", "slot_count", "booked_count", "made_by"]
    list_filter = [DoctorListFilter, "is_override", "start"]
    search_fields = DOCTOR_SEARCH
    list_select_related = ["doctor__user"]
    date_hierarchy = "start"
    fields = ["doctor", "start", "end", "weekly_rule", "rule_date", "is_override", "created_at"]
    readonly_fields = ["weekly_rule", "rule_date", "is_override", "created_at"]
    inlines = [SlotInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                slot_count=Count("slots"),
                booked_count=Count("slots", filter=Q(slots__is_booked=True)),
            )
        )

    @admin.display(description="slots", ordering="slot_count")
    def slot_count(self, window) -> int:
        return window.slot_count

    @admin.display(description="booked", ordering="booked_count")
    def booked_count(self, window) -> int:
        return window.booked_count

    @admin.display(description="made by")
    def made_by(self, window: AvailabilityWindow) -> str:
        if window.is_override:
            return "override booking"
        return "weekly rule" if window.rule_date else "published"

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A window's slots go with it (`window_delete` removes them): deleting the window
        # needs no permission on slots, which no one may delete by themselves.
        return deleted, counts, perms_needed - {str(Slot._meta.verbose_name)}, protected

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.window_create(doctor=data["doctor"], start=data["start"], end=data["end"])

    def service_delete(self, request, obj):
        services.window_delete(window=obj)


@admin.register(Slot)
class SlotAdmin(ReadOnlyModelAdmin):
    """Read-only. Also the source of the appointment form's slot search, which offers free,
    bookable slots only (the API's definition of free)."""

    list_display = ["doctor", "start", "end", "is_booked"]
    list_filter = [DoctorListFilter, "is_booked", "start"]
    search_fields = DOCTOR_SEARCH
    list_select_related = ["doctor__user"]
    date_hierarchy = "start"
    fields = ["doctor", "window", "start", "end", "is_booked"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("doctor__user", "window")

    def get_search_results(self, request, queryset, search_term):
        if request.GET.get("field_name") == "slot":  # the appointment form's autocomplete
            queryset = queryset.filter(pk__in=slot_list_free().values("pk"))
        return super().get_search_results(request, queryset, search_term)


@admin.register(TimeOff)
class TimeOffAdmin(CreateOnlyAdmin):
    list_display = ["doctor", "start", "end", "reason"]
    list_filter = [DoctorListFilter, "start"]
    search_fields = [*DOCTOR_SEARCH, "reason"]
    list_select_related = ["doctor__user"]
    date_hierarchy = "start"
    fields = ["doctor", "start", "end", "reason", "created_at"]
    readonly_fields = ["created_at"]

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.time_off_create(
            doctor=data["doctor"], start=data["start"], end=data["end"], reason=data["reason"]
        )

    def service_delete(self, request, obj):
        services.time_off_delete(time_off=obj)


@admin.register(Holiday)
class HolidayAdmin(CreateOnlyAdmin):
    list_display = ["date", "name"]
    list_filter = ["date"]
    search_fields = ["name"]
    date_hierarchy = "date"
    fields = ["date", "name", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = []

    def service_create(self, request, form):
        return services.holiday_create(
            day=form.cleaned_data["date"], name=form.cleaned_data["name"]
        )

    def service_delete(self, request, obj):
        services.holiday_delete(holiday=obj)
