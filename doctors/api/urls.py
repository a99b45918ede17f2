from rest_framework.routers import SimpleRouter

from doctors.api import views

router = SimpleRouter(use_regex_path=False)
router.register("specializations", views.SpecializationViewSet, basename="specialization")
router.register("doctors", views.DoctorViewSet, basename="doctor")

urlpatterns = router.urls
