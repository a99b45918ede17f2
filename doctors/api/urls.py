from rest_framework.routers import SimpleRouter

from doctors.api import views

router = SimpleRouter(use_regex_path=False)
router.register("specializations", views.SpecializationViewSet, basename="specialization")
router.register("doctors", views.DoctorViewSet, basename="doctor")

urlpatterns = router.urls

# Routes under /doctors/{id}/ served by the apps above this one, because what they do needs
# those apps and this app imports none of them. Each app mounts its own in its urls.py;
# tests/doctors/test_routes.py checks this list against the URLconf. (Lifting a blacklisting,
# `unblacklist`, needs no appointment and is DoctorViewSet's own action.)
SERVED_BY_OTHER_APPS = {
    # The doctor's free slots.
    "doctors/<uuid:pk>/slots/": "scheduling.api.views.DoctorSlotListView",
    # Feedback is given on appointments.
    "doctors/<uuid:pk>/feedback/": "appointments.api.feedback.DoctorFeedbackListView",
    # Blacklisting may cancel the doctor's upcoming appointments.
    "doctors/<uuid:pk>/blacklist/": "appointments.api.blacklisting.DoctorBlacklistView",
}
