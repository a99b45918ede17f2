"""The admin site's Reports page: appointments per day by status, no-shows per doctor and mean
rating per doctor over a range of clinic-local days, the figures of the reports API, drawn
with the vendored Chart.js (`static/careslot/`)."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from appointments import reports
from appointments.models import AppointmentStatus
from core.admin import form_errors_add
from core.clinic_time import clinic_today
from core.errors import FieldInvalid

REPORT_DEFAULT_DAYS_BACK = 30
REPORT_DEFAULT_DAYS_AHEAD = 30


class ReportRangeForm(forms.Form):
    date_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        try:
            reports.report_range_check(date_from=data.get("date_from"), date_to=data.get("date_to"))
        except FieldInvalid as error:
            form_errors_add(self, error)
        return data


def reports_view(request):
    """Appointments per day by status, no-shows per doctor and mean rating per doctor over a
    range of clinic-local days: the figures of the reports API, drawn with Chart.js."""
    if not request.user.has_perm("appointments.view_appointment"):
        raise PermissionDenied
    today = clinic_today()
    default = {
        "date_from": today - timedelta(days=REPORT_DEFAULT_DAYS_BACK),
        "date_to": today + timedelta(days=REPORT_DEFAULT_DAYS_AHEAD),
    }
    form = ReportRangeForm(request.GET if request.GET else None, initial=default)
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else default
    per_day = reports.report_appointments_per_day(**chosen)
    charts = {
        "statuses": [{"key": key, "label": str(label)} for key, label in AppointmentStatus.choices],
        "per_day": per_day,
        "no_shows": reports.report_no_shows(**chosen),
        "doctors": reports.report_doctors(**chosen),
    }
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "subtitle": f"{chosen['date_from']:%d %b %Y} to {chosen['date_to']:%d %b %Y}",
        "form": form,
        "clinic_time_zone": settings.CLINIC_TIME_ZONE,
        "charts": charts,
        "appointment_total": sum(day["total"] for day in per_day),
    }
    return TemplateResponse(request, "admin/reports.html", context)
