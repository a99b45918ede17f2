"""Appointments in the admin site.

Every change goes through `appointments.services`, as from the API: an appointment is booked
with `appointment_book` and moved only by the actions (confirm, reject, cancel, no-show), each
through `appointment_transition`, so the transition table, the history, the audit log and the
notifications apply. A refused move is reported for its row and changes nothing. Status,
slot, history, ratings and penalties are never edited by hand.
"""

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count

from appointments import services
from appointments.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    Feedback,
    IdempotencyRecord,
    Penalty,
)
from appointments.transitions import Action
from core.admin import ReadOnlyInline, ReadOnlyModelAdmin, ServiceModelAdmin, rows_apply
from doctors.admin import DoctorListFilter
from scheduling.admin import DOCTOR_SEARCH

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PATIENT_SEARCH = ["patient__user__first_name", "patient__user__last_name", "patient__user__email"]
CLINICAL_FIELDS = ("diagnosis", "treatment_notes")


class StatusChangeInline(ReadOnlyInline):
    model = AppointmentStatusChange
    fields = ("at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ["at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AppointmentBookForm(forms.ModelForm):
    """An admin books a free slot for a patient, as with POST /appointments/."""

    class Meta:
        model = Appointment
        fields = ["patient", "slot", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].required = True


@admin.register(Appointment)
class AppointmentAdmin(ServiceModelAdmin):
    list_display = [
        "start",
        "patient",
        "doctor",
        "specialization",
        "status",
        "is_override",
        "created_at",
    ]
    list_filter = [
        "status",
        DoctorListFilter,
        "doctor__specialization",
        "start",
        "is_override",
    ]
    search_fields = [*PATIENT_SEARCH, *DOCTOR_SEARCH]
    list_select_related = ["patient__user", "doctor__user", "doctor__specialization"]
    date_hierarchy = "start"
    ordering = ["-start"]
    autocomplete_fields = ["patient", "slot"]
    inlines = [StatusChangeInline]
    fieldsets = [
        (None, {"fields": ["patient", "doctor", "slot", "start", "end", "status", "reason"]}),
        ("Origin", {"fields": ["series", "rescheduled_from", "is_override", "created_by"]}),
        ("Clinical notes (encrypted at rest)", {"fields": CLINICAL_FIELDS}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    add_form = AppointmentBookForm
    add_fieldsets = [(None, {"fields": ["patient", "slot", "reason"]})]
    actions = ["confirm", "reject", "cancel", "no_show"]

    @admin.display(ordering="doctor__specialization__name")
    def specialization(self, appointment: Appointment) -> str:
        return appointment.doctor.specialization.name

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # The change page is a view: an appointment changes only by the actions.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            services.clinical_notes_read_record(appointment=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.appointment_book(
            actor=request.user,
            patient=data["patient"],
            slot_id=data["slot"].pk,
            reason=data["reason"],
        )

    def _move(self, request, queryset, action: Action, done: str, note: str = "") -> None:
        rows_apply(
            self,
            request,
            queryset,
            lambda appointment: services.appointment_transition(
                appointment_id=appointment.pk, action=action, actor=request.user, note=note
            ),
            done=done,
        )

    @admin.action(description="Confirm the selected appointments")
    def confirm(self, request, queryset):
        self._move(request, queryset, Action.CONFIRM, "Confirmed {count} appointment(s).")

    @admin.action(description="Reject the selected appointments")
    def reject(self, request, queryset):
        self._move(
            request,
            queryset,
            Action.REJECT,
            "Rejected {count} appointment(s).",
            note="Rejected in the admin site.",
        )

    @admin.action(description="Cancel the selected appointments")
    def cancel(self, request, queryset):
        self._move(
            request,
            queryset,
            Action.CANCEL,
            "Cancelled {count} appointment(s).",
            note="Cancelled in the admin site.",
        )

    @admin.action(description="Mark the selected appointments as no-shows")
    def no_show(self, request, queryset):
        self._move(request, queryset, Action.NO_SHOW, "Marked {count} appointment(s) no-show.")


class VisitCount(TypedDict):
    visit_count: int


class SeriesVisitInline(ReadOnlyInline):
    model = Appointment
    fields = ("start", "end", "status", "slot")
    readonly_fields = fields
    ordering = ["start"]
    show_change_link = True


@admin.register(AppointmentSeries)
class AppointmentSeriesAdmin(ReadOnlyModelAdmin):
    """Booked whole through `series_book` (the API); here listed, shown with their visits, and
    their visits still to come cancelled with the action, through `series_cancel`. Each
    visit is an appointment of its own, moved on the appointments' page."""

    list_display = [
        "created_at",
        "patient",
        "doctor",
        "every_weeks",
        "count",
        "until",
        "status",
        "visits",
    ]
    list_filter = ["status", DoctorListFilter, "every_weeks", "created_at"]
    search_fields = [*PATIENT_SEARCH, *DOCTOR_SEARCH]
    list_select_related = ["patient__user", "doctor__user"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = [
        "patient",
        "doctor",
        "every_weeks",
        "count",
        "until",
        "status",
        "created_by",
        "created_at",
    ]
    inlines = [SeriesVisitInline]
    actions = ["cancel_remaining"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(visit_count=Count("appointments"))

    @admin.display(description="visits", ordering="visit_count")
    def visits(self, series: "WithAnnotations[AppointmentSeries, VisitCount]") -> int:
        return series.visit_count

    @admin.action(description="Cancel the visits still to come of the selected series")
    def cancel_remaining(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda series: services.series_cancel(
                series_id=series.pk, actor=request.user, reason="Cancelled in the admin site."
            ),
            done="Cancelled the remaining visits of {count} series.",
        )


@admin.register(AppointmentStatusChange)
class AppointmentStatusChangeAdmin(ReadOnlyModelAdmin):
    list_display = ["at", "appointment", "from_status", "to_status", "actor", "note"]
    list_filter = ["to_status", "from_status", "at"]
    search_fields = [f"appointment__{field}" for field in (*PATIENT_SEARCH, *DOCTOR_SEARCH)]
    list_select_related = ["appointment__patient__user", "appointment__doctor__user", "actor"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyModelAdmin):
    """Written by patients through `feedback_submit`, which keeps the doctor's rating the mean
    of theirs: read-only here. Searched by doctor only: the comments are encrypted at rest."""

    list_display = ["created_at", "doctor", "rating", "comments"]
    list_filter = ["rating", DoctorListFilter, "created_at"]
    search_fields = DOCTOR_SEARCH
    list_select_related = ["doctor__user"]
    date_hierarchy = "created_at"
    fields = ["appointment", "doctor", "rating", "comments", "created_at"]


@admin.register(Penalty)
class PenaltyAdmin(ReadOnlyModelAdmin):
    """Made by no-shows and late cancellations; resolved only with the action, through
    `penalty_resolve`."""

    list_display = [
        "created_at",
        "kind",
        "patient",
        "appointment_start",
        "email_sent",
        "resolved",
        "resolved_by",
    ]
    list_filter = ["kind", "resolved", "email_sent", "created_at"]
    search_fields = PATIENT_SEARCH
    list_select_related = ["patient__user", "appointment", "resolved_by"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "patient",
        "appointment",
        "created_at",
        "email_sent",
        "resolved",
        "resolved_at",
        "resolved_by",
    ]
    actions = ["resolve"]

    @admin.display(description="appointment of", ordering="appointment__start")
    def appointment_start(self, penalty: Penalty):
        return penalty.appointment.start

    @admin.action(description="Resolve the selected penalties")
    def resolve(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda penalty: services.penalty_resolve(penalty_id=penalty.pk, actor=request.user),
            done="Resolved {count} penalt(y/ies).",
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "user", "key", "response_status"]
    list_filter = ["response_status", "created_at"]
    search_fields = ["key", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
