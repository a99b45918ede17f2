"""The reports API (admins only): thin views over `appointments.reports`."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import reports
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


class ReportView(APIView):
    """A report over a range of clinic-local days, for admins only."""

    permission_classes = [IsAdmin]

    def date_range(self, request) -> dict:
        serializer = ReportRangeSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema(tags=["reports"])
class NoShowReportView(ReportView):
    @extend_schema(
        parameters=[ReportRangeSerializer],
        responses={200: NoShowReportSerializer},
        summary="No-shows in a range of days, per doctor and per patient",
    )
    def get(self, request):
        report = reports.report_no_shows(**self.date_range(request))
        return Response(NoShowReportSerializer(report).data)


@extend_schema(tags=["reports"])
class AppointmentReportView(ReportView):
    @extend_schema(
        parameters=[ReportRangeSerializer],
        responses={200: AppointmentDaySerializer(many=True)},
        summary="Appointments per clinic-local day, counted per status",
        description="Every day from `date_from` to `date_to` is listed (zeros on days without "
        "appointments); an end left out is the first or last day with an appointment. At most "
        f"{reports.REPORT_MAX_DAYS} days: a longer range is a 400.",
    )
    def get(self, request):
        days = reports.report_appointments_per_day(**self.date_range(request))
        return Response(AppointmentDaySerializer(days, many=True).data)


@extend_schema(tags=["reports"])
class DoctorReportView(ReportView):
    @extend_schema(
        parameters=[ReportRangeSerializer],
        responses={200: DoctorReportSerializer(many=True)},
        summary="Per doctor: appointments, completed, no-shows, cancellations, mean rating",
        description="Every doctor, blacklisted ones included, ordered by name; counts are of "
        "the appointments starting in the range.",
    )
    def get(self, request):
        rows = reports.report_doctors(**self.date_range(request))
        return Response(DoctorReportSerializer(rows, many=True).data)
