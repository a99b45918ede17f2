"""The reports API (admins only): thin views over `appointments.reports`."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import exports, reports
from core.api.csv import CSVNegotiationMixin
from core.api.fields import BoundedDateField
from core.api.input_serializers import QuerySerializer
from core.api.permissions import IsAdmin


class ReportRangeSerializer(QuerySerializer):
    date_from = BoundedDateField(
        required=False,
        help_text="First clinic-local day of the appointments' start, included (YYYY-MM-DD).",
    )
    date_to = BoundedDateField(
        required=False,
        help_text="Last clinic-local day of the appointments' start, included; not before "
        f"`date_from`. A range covers at most {reports.REPORT_MAX_DAYS} days.",
    )

    def validate(self, attrs):
        reports.report_range_check(date_from=attrs.get("date_from"), date_to=attrs.get("date_to"))
        return attrs


class DoctorCountSerializer(serializers.Serializer):
    doctor = serializers.UUIDField()
    doctor_name = serializers.CharField()
    count = serializers.IntegerField()


class PatientCountSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    patient_name = serializers.CharField()
    count = serializers.IntegerField()


class NoShowReportSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_doctor = DoctorCountSerializer(many=True, help_text="Most no-shows first.")
    by_patient = PatientCountSerializer(many=True, help_text="Most no-shows first.")


class AppointmentDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A clinic-local day.")
    pending = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    rescheduled = serializers.IntegerField()
    completed = serializers.IntegerField()
    no_show = serializers.IntegerField()
    total = serializers.IntegerField()
    series_visits = serializers.IntegerField(
        help_text="Of `total`, the visits of a recurring series."
    )


class DoctorReportSerializer(serializers.Serializer):
    doctor = serializers.UUIDField()
    doctor_name = serializers.CharField()
    specialization = serializers.CharField()
    appointments = serializers.IntegerField(help_text="Appointments in the range, any status.")
    completed = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    cancellations = serializers.IntegerField()
    series_visits = serializers.IntegerField(
        help_text="Of `appointments`, the visits of a recurring series."
    )
    series = serializers.IntegerField(help_text="How many series those visits belong to.")
    mean_rating = serializers.FloatField(
        allow_null=True, help_text="Mean feedback rating of these appointments; null if none."
    )
    rating_count = serializers.IntegerField(help_text="How many of them were rated.")


def report_responses(serializer) -> dict:
    """A report's 200 in JSON, or in CSV (`?format=csv` or `Accept: text/csv`)."""
    return {
        (200, "application/json"): serializer,
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR,
            description="The same figures as a CSV download (one header row; days in the "
            "clinic's time zone; text cells that a spreadsheet would read as a formula "
            "start with `'`). Every download is audited.",
        ),
    }


class ReportView(CSVNegotiationMixin, APIView):
    """A report over a range of clinic-local days, for admins only; in JSON, or downloaded
    as CSV (`exports.report_csv`, named `csv_report`)."""

    permission_classes = [IsAdmin]
    csv_report: str
    report: Callable[..., Any]  # the report's figures as JSON-ready data

    def date_range(self, request) -> dict:
        serializer = ReportRangeSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def get(self, request):
        date_range = self.date_range(request)
        if self.csv_requested(request):
            return exports.report_csv(report=self.csv_report, **date_range)
        return Response(self.report(**date_range))


@extend_schema(tags=["reports"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ReportRangeSerializer],
        responses=report_responses(NoShowReportSerializer),
        summary="No-shows in a range of days, per doctor and per patient",
        description="As CSV: one row per doctor and per patient (`kind`, `id`, `name`, `count`).",
    )
)
class NoShowReportView(ReportView):
    csv_report = "no-shows"

    def report(self, **date_range: Any) -> Any:
        return NoShowReportSerializer(reports.report_no_shows(**date_range)).data


@extend_schema(tags=["reports"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ReportRangeSerializer],
        responses=report_responses(AppointmentDaySerializer(many=True)),
        summary="Appointments per clinic-local day, counted per status",
        description="Every day from `date_from` to `date_to` is listed (zeros on days without "
        "appointments); an end left out is the first or last day with an appointment. At most "
        f"{reports.REPORT_MAX_DAYS} days: a longer range is a 400.",
    )
)
class AppointmentReportView(ReportView):
    csv_report = "appointments"

    def report(self, **date_range: Any) -> Any:
        days = reports.report_appointments_per_day(**date_range)
        return AppointmentDaySerializer(days, many=True).data


@extend_schema(tags=["reports"])
@extend_schema_view(
    get=extend_schema(
        parameters=[ReportRangeSerializer],
        responses=report_responses(DoctorReportSerializer(many=True)),
        summary="Per doctor: appointments, completed, no-shows, cancellations, mean rating",
        description="Every doctor, blacklisted ones included, ordered by name; counts are of "
        "the appointments starting in the range.",
    )
)
class DoctorReportView(ReportView):
    csv_report = "doctors"

    def report(self, **date_range: Any) -> Any:
        return DoctorReportSerializer(reports.report_doctors(**date_range), many=True).data
