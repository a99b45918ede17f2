from django.urls import path
from rest_framework.routers import SimpleRouter

from scheduling.api import views

router = SimpleRouter(use_regex_path=False)
router.register("availability/weekly", views.WeeklyRuleViewSet, basename="weekly-rule")
router.register("availability", views.WindowViewSet, basename="availability")
router.register("time-off", views.TimeOffViewSet, basename="time-off")
router.register("holidays", views.HolidayViewSet, basename="holiday")

urlpatterns = [
    path("slots/", views.SlotListView.as_view(), name="slot-list"),
    path("doctors/<uuid:pk>/slots/", views.DoctorSlotListView.as_view(), name="doctor-slots"),
    *router.urls,
]
