from rest_framework.routers import SimpleRouter

from appointments.api import views

router = SimpleRouter(use_regex_path=False)
router.register("appointments", views.AppointmentViewSet, basename="appointment")

urlpatterns = router.urls
