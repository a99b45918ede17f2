from rest_framework.routers import SimpleRouter

from patients.api import views

router = SimpleRouter(use_regex_path=False)
router.register("patients", views.PatientViewSet, basename="patient")

urlpatterns = router.urls
