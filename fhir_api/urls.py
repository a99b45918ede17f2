from django.urls import path

from fhir_api import publish, views

_FHIR = "fhir/R4"

urlpatterns = [
    path(f"{_FHIR}/metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path(f"{_FHIR}/Practitioner", views.PractitionerView.as_view(), name="fhir-practitioner"),
    path(f"{_FHIR}/Practitioner/<str:pk>", views.PractitionerView.as_view()),
    path(f"{_FHIR}/Schedule", views.ScheduleView.as_view(), name="fhir-schedule"),
    path(f"{_FHIR}/Schedule/<str:pk>", views.ScheduleView.as_view()),
    path(f"{_FHIR}/Slot", views.SlotView.as_view(), name="fhir-slot"),
    path(f"{_FHIR}/Slot/<str:pk>", views.SlotView.as_view()),
    path(f"{_FHIR}/Appointment", views.AppointmentView.as_view(), name="fhir-appointment"),
    path(f"{_FHIR}/Appointment/<str:pk>", views.AppointmentView.as_view()),
    path(f"{_FHIR}/Location", views.LocationView.as_view(), name="fhir-location"),
    path(f"{_FHIR}/Location/<str:pk>", views.LocationView.as_view()),
    path(
        f"{_FHIR}/$bulk-publish", views.BulkPublishManifestView.as_view(), name="fhir-bulk-publish"
    ),
    *(
        path(
            f"{_FHIR}/$bulk-publish/{name}.ndjson",
            views.BulkPublishFileView.as_view(file=name),
            name=f"fhir-bulk-publish-{name}",
        )
        for name, _ in publish.FILES
    ),
    path(
        f"{_FHIR}/$bulk-publish/slots/<str:day>.ndjson",
        views.BulkPublishSlotsView.as_view(),
        name="fhir-bulk-publish-slots",
    ),
]
