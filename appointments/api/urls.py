from django.urls import path
from rest_framework.routers import SimpleRouter

from appointments.api import views

router = SimpleRouter(use_regex_path=False)
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("penalties", views.PenaltyViewSet, basename="penalty")

urlpatterns = [
    path(
        "doctors/<uuid:pk>/feedback/",
        views.DoctorFeedbackListView.as_view(),
        name="doctor-feedback",
    ),
    path(
        "doctors/<uuid:pk>/blacklist/",
        views.DoctorBlacklistView.as_view(),
        name="doctor-blacklist",
    ),
    path(
        "patients/<uuid:pk>/medical-record/",
        views.MedicalRecordView.as_view(),
        name="patient-medical-record",
    ),
    *router.urls,
]
