from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.api.error_pages import (
    json_bad_request,
    json_not_found,
    json_permission_denied,
    json_server_error,
)
from core.api.health import HealthView
from core.api.index import IndexView

api_v1: list[URLPattern | URLResolver] = [
    path("", include("accounts.api.urls")),
    path("", include("patients.api.urls")),
    path("", include("doctors.api.urls")),
    path("", include("scheduling.api.urls")),
    path("", include("appointments.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("waitlist.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("audit.urls")),
    path("", include("calendars.api.urls")),
    path("", include("fhir_api.urls")),
    path("health/", HealthView.as_view(), name="health"),
]

urlpatterns = [
    path("", IndexView.as_view(), name="index"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = json_bad_request
handler403 = json_permission_denied
handler404 = json_not_found
handler500 = json_server_error
