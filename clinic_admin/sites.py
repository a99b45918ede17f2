"""The admin site: Django's, in the clinic's time zone, with the Reports page and the Day
board."""

from django.contrib import admin
from django.urls import path
from django.utils import timezone

from clinic_admin import day_board, reports
from core.clinic_time import clinic_zone


class CareSlotAdminSite(admin.AdminSite):
    site_header = "CareSlot administration"
    site_title = "CareSlot"

    def admin_view(self, view, cacheable=False):
        """Every page of the site (each ModelAdmin's views go through here) shows and takes
        times in the clinic's time zone, so the day an admin sees is the day the reports and
        the API's date filters mean."""
        inner = super().admin_view(view, cacheable)

        def in_clinic_time(request, *args, **kwargs):
            with timezone.override(clinic_zone()):
                return inner(request, *args, **kwargs)

        return in_clinic_time

    def get_urls(self):
        return [
            path("reports/", self.admin_view(reports.reports_view), name="reports"),
            path("day/", self.admin_view(day_board.day_board_view), name="day_board"),
            path(
                "reports/csv/<str:export>/",
                self.admin_view(reports.reports_csv_view),
                name="reports_csv",
            ),
            *super().get_urls(),
        ]
