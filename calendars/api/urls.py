from django.urls import path
from rest_framework.routers import SimpleRouter

from calendars.api import views

router = SimpleRouter(use_regex_path=False)
router.register("calendar-feeds", views.CalendarFeedViewSet, basename="calendar-feed")

urlpatterns = [
    *router.urls,
    path("ics/<str:token>.ics", views.CalendarFeedIcsView.as_view(), name="calendar-feed-ics"),
]
