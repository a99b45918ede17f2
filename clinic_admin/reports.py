"""The admin site's Reports page: appointments per day by status, no-shows per doctor and mean
rating per doctor over a range of clinic-local days, the figures of the reports API, drawn
with the vendored Chart.js (`static/careslot/`)."""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from appointments import exports, reports, selectors
from appointments.models import AppointmentStatus
from core.admin import form_errors_add
from core.clinic_time import clinic_today
from core.errors import FieldInvalid

REPORT_DEFAULT_DAYS_BACK = 30
REPORT_DEFAULT_DAYS_AHEAD = 30

# What the page offers as CSV: the three reports and the appointments of the range.
DOWNLOADS = {
    "appointments": "Appointments per day",
    "no-shows": "No-shows",
    "doctors": "Doctors",
    "appointment-list": "Appointment list",
}


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


def _range_chosen(request) -> tuple[ReportRangeForm, dict]:
    """The range form and the range it gives (the default one while it is not valid)."""
    if not request.user.has_perm("appointments.view_appointment"):
        raise PermissionDenied
    today = clinic_today()
    default = {
        "date_from": today - timedelta(days=REPORT_DEFAULT_DAYS_BACK),
        "date_to": today + timedelta(days=REPORT_DEFAULT_DAYS_AHEAD),
    }
    form = ReportRangeForm(request.GET if request.GET else None, initial=default)
    return form, form.cleaned_data if form.is_bound and form.is_valid() else default


def reports_csv_view(request, export: str):
    """One of `DOWNLOADS` over the range asked for, as a CSV download (audited, as from the
    API). A range the form refuses goes back to the page, which shows why."""
    if export not in DOWNLOADS:
        raise Http404
    form, chosen = _range_chosen(request)
    if form.is_bound and not form.is_valid():
        return HttpResponseRedirect(f"{reverse('admin:reports')}?{request.GET.urlencode()}")
    if export == "appointment-list":
        return exports.appointments_csv(
            appointments=selectors.appointment_list_in_days(user=request.user, **chosen),
            filters=chosen,
        )
    return exports.report_csv(report=export, **chosen)


def reports_view(request):
    """Appointments per day by status, no-shows per doctor and mean rating per doctor over a
    range of clinic-local days: the figures of the reports API, drawn with Chart.js, each
    downloadable as CSV (`reports_csv_view`)."""
    form, chosen = _range_chosen(request)
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
        "downloads": DOWNLOADS.items(),
        "range_query": urlencode({key: value.isoformat() for key, value in chosen.items()}),
    }
    return TemplateResponse(request, "admin/reports.html", context)
