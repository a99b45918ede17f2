from django.urls import path
from rest_framework.routers import SimpleRouter

from appointments.api import (
    appointments,
    blacklisting,
    feedback,
    medical_records,
    penalties,
    reports,
    series,
)

router = SimpleRouter(use_regex_path=False)
router.register("appointments", appointments.AppointmentViewSet, basename="appointment")
router.register(
    "appointment-series", series.AppointmentSeriesViewSet, basename="appointment-series"
)
router.register("penalties", penalties.PenaltyViewSet, basename="penalty")

urlpatterns = [
    path(
        "doctors/<uuid:pk>/feedback/",
        feedback.DoctorFeedbackListView.as_view(),
        name="doctor-feedback",
    ),
    path(
        "doctors/<uuid:pk>/blacklist/",
        blacklisting.DoctorBlacklistView.as_view(),
        name="doctor-blacklist",
    ),
    path(
        "patients/<uuid:pk>/medical-record/",
        medical_records.MedicalRecordView.as_view(),
        name="patient-medical-record",
    ),
    path("reports/no-shows/", reports.NoShowReportView.as_view(), name="report-no-shows"),
    path(
        "reports/appointments/",
        reports.AppointmentReportView.as_view(),
        name="report-appointments",
    ),
    path("reports/doctors/", reports.DoctorReportView.as_view(), name="report-doctors"),
    *router.urls,
]
