"""The read-only FHIR R4 API (`/fhir/R4/`): JSON as `application/fhir+json`, errors as
OperationOutcome. Practitioners, Schedules, Slots and the Location are public, like the doctor
directory and the free slots; Appointments need a token and are scoped as `/appointments/`."""

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import signed_in_user
from appointments.selectors import appointment_list_page
from core.api.fields import RFC3339_DATE
from core.api.negotiation import FirstRendererNegotiation
from core.openapi.auto_schema import AutoSchema
from core.openapi.error_envelopes import NullCharactersError
from doctors.selectors import doctor_list_visible
from fhir_api import publish, resources, search
from fhir_api.errors import not_found, operation_outcome_reshape
from fhir_api.selectors import SLOT_STATUSES, fhir_schedule_list, fhir_slot_list


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir+json"


_RESOURCE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="A FHIR R4 resource; a search answers a Bundle of type `searchset` whose `next` "
    "link, when there is one, reads the following page.",
)
# The bounds search.page_window enforces; an empty value is the parameter left out.
_PAGING = [
    OpenApiParameter(
        "_count",
        {"type": "integer", "minimum": 1, "maximum": settings.FHIR_MAX_PAGE_SIZE},
        description="Entries per page (default 20, at most FHIR_MAX_PAGE_SIZE).",
    ),
    OpenApiParameter(
        "_offset",
        {"type": "integer", "minimum": 0, "maximum": search.MAX_OFFSET},
        description=f"Entries to skip (at most {search.MAX_OFFSET}).",
    ),
]


class OperationOutcomeIssue(serializers.Serializer):
    severity = serializers.CharField()
    code = serializers.CharField(help_text="FHIR's IssueType (invalid, not-found, login, ...).")
    details = serializers.DictField(help_text="`{text}`: the error's stable CareSlot code.")
    diagnostics = serializers.CharField()
    expression = serializers.ListField(child=serializers.CharField(), required=False)


class OperationOutcome(serializers.Serializer):
    """What a FHIR error looks like, for the schema only."""

    resourceType = serializers.CharField()
    issue = OperationOutcomeIssue(many=True)


def _errors_as(response: dict, status_code, media_type: str) -> dict:
    """An error response documented in the media type the view renders errors in: the API
    documents errors as application/json, but a view renders them with its one renderer."""
    content = response.get("content")
    if str(status_code).startswith(("4", "5")) and content and "application/json" in content:
        response["content"] = {media_type: content.pop("application/json")}
    return response


class NullCharactersResponse(serializers.Serializer):
    """The request guard's answer to a NUL character in the query string, given before any
    FHIR view runs: the API's envelope, as JSON."""

    type = serializers.ChoiceField(choices=[("validation_error", "validation_error")])
    # A declared field, which the serializer's metaclass takes out of the class: the `errors`
    # property of a serializer it would shadow for mypy stays as it is.
    errors = NullCharactersError(many=True)  # type: ignore[assignment]

    class Meta:
        ref_name = "FhirNullCharactersErrorResponse400"


class FhirSchema(AutoSchema):
    """One view serves a type's search (`/Slot`) and its read (`/Slot/{pk}`): the schema gives
    the search parameters to the search only, a read ignoring any query (their operationIds are
    in core/openapi/operation_ids.py). Errors are OperationOutcomes in `application/fhir+json`,
    as FhirView answers them."""

    def _is_read(self) -> bool:
        return self.path.endswith("}")

    def _get_parameters(self):
        # Not get_override_parameters: extend_schema's subclass adds the view's parameters
        # after it.
        parameters = super()._get_parameters()
        if self._is_read():
            return [parameter for parameter in parameters if parameter["in"] != "query"]
        return parameters

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = _errors_as(
            super()._get_response_for_code(serializer, status_code, media_types, direction),
            status_code,
            FhirJSONRenderer.media_type,
        )
        if str(status_code) == "400" and "content" in response:
            # A NUL character in the query is refused by core.api.guards before the view.
            response["content"]["application/json"] = {
                "schema": self.resolve_serializer(NullCharactersResponse, direction).ref
            }
        return response

    def _get_error_response_serializer(self, status_code: str):
        # The same errors, each an issue of an OperationOutcome (fhir_api.errors).
        documented = super()._get_error_response_serializer(status_code)
        codes = getattr(documented, "description", "") or "`invalid`, naming the parameter"
        return OpenApiResponse(
            response=OperationOutcome,
            description=f"OperationOutcome; its issues' `details.text`: {codes}",
        )

    # drf-spectacular's AutoSchema takes no arguments here; the stubs know only DRF's
    # ViewInspector, whose method of this name takes the path and method.
    def get_description(self):  # type: ignore[override]
        kind = "Read one by id." if self._is_read() else "Search: a Bundle of type searchset."
        return f"{super().get_description()} {kind}".strip()


class FhirView(APIView):
    schema = FhirSchema()
    renderer_classes = [FhirJSONRenderer]
    content_negotiation_class = FirstRendererNegotiation
    permission_classes = [AllowAny]

    def handle_exception(self, exc):
        # The API's one handler decides the status and codes; FHIR only changes the shape.
        return operation_outcome_reshape(super().handle_exception(exc))

    def fhir_base(self) -> str:
        return self.request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("/metadata")


class FhirResourceView(FhirView):
    """Read (`/{type}/{id}`) and search (`/{type}?...`) of one resource type. A subclass says
    which rows the caller may see (`rows`), how a search narrows them (`narrow`) and how a row
    becomes a resource (`resource`)."""

    resource_type: str
    # The column a read looks the id up in.
    lookup = "pk"

    def rows(self) -> QuerySet[Any, Any]:
        """The rows of this type the caller may see."""
        raise NotImplementedError

    def resource(self, row) -> dict:
        """One row as its FHIR resource."""
        raise NotImplementedError

    def narrow(self, rows, params):
        return rows

    def get(self, request, pk: str | None = None):
        if pk is not None:
            return Response(self.read(pk))
        offset, count = search.page_window(request.query_params)
        page = list(self.narrow(self.rows(), request.query_params)[offset : offset + count + 1])
        return Response(
            resources.searchset(
                resources=[self.resource(row) for row in page[:count]],
                self_url=self._page_url(offset, count),
                next_url=self._page_url(offset + count, count) if len(page) > count else None,
            )
        )

    def read(self, pk: str) -> dict:
        key = search.resource_id(pk)
        row = self.rows().filter(**{self.lookup: key}).first() if key else None
        if row is None:
            raise not_found(self.resource_type, pk)
        return self.resource(row)

    def _page_url(self, offset: int, count: int) -> str:
        params = self.request.query_params.copy()
        params["_offset"], params["_count"] = str(offset), str(count)
        return f"{self.fhir_base()}/{self.resource_type}?{params.urlencode()}"


@extend_schema(tags=["fhir"])
class PractitionerView(FhirResourceView):
    resource_type = "Practitioner"

    def rows(self):
        return doctor_list_visible(user=self.request.user).order_by("pk")

    def resource(self, row) -> dict:
        return resources.practitioner_resource(row)

    @extend_schema(
        summary="FHIR Practitioner: search, or read one",
        description="The doctor directory as Practitioners (id = the doctor's id): name, "
        "licence number, specialization. Blacklisted doctors: admins only.",
        parameters=_PAGING,
        responses={200: _RESOURCE},
    )
    def get(self, request, pk: str | None = None):
        return super().get(request, pk)


@extend_schema(tags=["fhir"])
class ScheduleView(FhirResourceView):
    resource_type = "Schedule"
    lookup = "user_id"

    def rows(self):
        user = self.request.user
        return fhir_schedule_list(include_blacklisted=user.is_authenticated and user.is_admin)

    def narrow(self, rows, params):
        if params.get("actor"):
            return rows.filter(
                user_id=search.reference_id(params["actor"], "actor", "Practitioner")
            )
        return rows

    def resource(self, row) -> dict:
        return resources.schedule_resource(
            doctor_id=row["doctor_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            specialization=row["specialization_name"],
            active=not row["is_blacklisted"],
        )

    @extend_schema(
        summary="FHIR Schedule: search, or read one",
        description="One Schedule per doctor (id = the doctor's id), at the clinic's "
        "Location; its Slots are the doctor's.",
        parameters=[
            OpenApiParameter(
                "actor",
                {"type": "string", "pattern": search.reference_pattern("Practitioner")},
                description="`Practitioner/{id}`: that doctor's.",
            ),
            *_PAGING,
        ],
        responses={200: _RESOURCE},
    )
    def get(self, request, pk: str | None = None):
        return super().get(request, pk)


@extend_schema(tags=["fhir"])
class SlotView(FhirResourceView):
    resource_type = "Slot"

    def rows(self):
        return fhir_slot_list()

    def narrow(self, rows, params):
        if params.get("schedule"):
            rows = rows.filter(
                doctor_id=search.reference_id(params["schedule"], "schedule", "Schedule")
            )
        if starts := search.values(params, "start"):
            rows = rows.filter(search.date_filter(starts, "start", "start"))
        if params.get("status"):
            rows = rows.filter(
                fhir_status__in=search.token_values(params["status"], "status", SLOT_STATUSES)
            )
        return rows

    def resource(self, row) -> dict:
        return resources.slot_resource(
            slot_id=row["id"],
            doctor_id=row["doctor_id"],
            start=row["start"],
            end=row["end"],
            status=row["fhir_status"],
            booking=self.booking if row["fhir_status"] == "free" else None,
        )

    @extend_schema(
        summary="FHIR Slot: search, or read one",
        description="Every slot, `free` (bookable now: exactly what `/slots/` lists), `busy` "
        "(held by an appointment) or `busy-unavailable` (past, inside the lead time, beyond "
        "the horizon, under time off or a holiday, or of a blacklisted doctor). Ordered by "
        "start. Free slots carry the SMART booking extensions.",
        parameters=[
            OpenApiParameter(
                "schedule",
                {"type": "string", "pattern": search.reference_pattern("Schedule")},
                description="`Schedule/{doctor id}`.",
            ),
            OpenApiParameter(
                "start",
                {"type": "array", "items": {"type": "string", "pattern": search.DATE_PATTERN}},
                explode=True,
                description="Repeatable: a prefix (`eq`, `gt`, `ge`, `lt`, `le`) and an instant "
                "with its offset or a clinic-local date, e.g. `start=ge2026-12-01&"
                "start=lt2026-12-08`.",
            ),
            OpenApiParameter(
                "status",
                {"type": "string", "pattern": search.token_pattern(SLOT_STATUSES)},
                description="`free`, `busy`, `busy-unavailable`, comma-separated.",
            ),
            *_PAGING,
        ],
        responses={200: _RESOURCE},
    )
    def get(self, request, pk: str | None = None):
        self.booking = resources.SlotBooking()
        return super().get(request, pk)


@extend_schema(tags=["fhir"])
class AppointmentView(FhirResourceView):
    resource_type = "Appointment"
    permission_classes = [IsAuthenticated]

    def rows(self):
        return (
            appointment_list_page(user=signed_in_user(self.request))
            .defer("reason")
            .order_by("start", "pk")
        )

    def narrow(self, rows, params):
        if params.get("status"):
            wanted = set(
                search.token_values(
                    params["status"], "status", set(resources.APPOINTMENT_STATUS.values())
                )
            )
            rows = rows.filter(
                status__in=[
                    ours for ours, fhir in resources.APPOINTMENT_STATUS.items() if fhir in wanted
                ]
            )
        if dates := search.values(params, "date"):
            rows = rows.filter(search.date_filter(dates, "date", "start"))
        if params.get("patient"):
            rows = rows.filter(
                patient_id=search.reference_id(params["patient"], "patient", "Patient")
            )
        if params.get("practitioner"):
            rows = rows.filter(
                doctor_id=search.reference_id(
                    params["practitioner"], "practitioner", "Practitioner"
                )
            )
        return rows

    def resource(self, row) -> dict:
        return resources.appointment_resource(row)

    @extend_schema(
        summary="FHIR Appointment: search, or read one",
        description="The appointments the caller may see, as in `/appointments/`: a patient "
        "their own, a doctor theirs, an admin all. No visit reason or clinical notes.",
        parameters=[
            OpenApiParameter(
                "status",
                {
                    "type": "string",
                    "pattern": search.token_pattern(set(resources.APPOINTMENT_STATUS.values())),
                },
                description="FHIR statuses, comma-separated: `pending`, `booked`, `fulfilled`, "
                "`noshow`, `cancelled` (cancelled, rejected and rescheduled ones).",
            ),
            OpenApiParameter(
                "date",
                {"type": "array", "items": {"type": "string", "pattern": search.DATE_PATTERN}},
                explode=True,
                description="The start, as Slot's `start`.",
            ),
            OpenApiParameter(
                "patient",
                {"type": "string", "pattern": search.reference_pattern("Patient")},
                description="`Patient/{id}`.",
            ),
            OpenApiParameter(
                "practitioner",
                {"type": "string", "pattern": search.reference_pattern("Practitioner")},
                description="`Practitioner/{id}`.",
            ),
            *_PAGING,
        ],
        responses={200: _RESOURCE},
    )
    def get(self, request, pk: str | None = None):
        return super().get(request, pk)


@extend_schema(tags=["fhir"])
class LocationView(FhirView):
    resource_type = "Location"

    @extend_schema(
        summary="FHIR Location: the clinic",
        description="The one Location (id `clinic`), from the `CLINIC_*` settings.",
        responses={200: _RESOURCE},
    )
    def get(self, request, pk: str | None = None):
        location = resources.location_resource(identifier_system=f"{self.fhir_base()}/Location")
        if pk is None:
            return Response(
                resources.searchset(
                    resources=[location], self_url=f"{self.fhir_base()}/Location", next_url=None
                )
            )
        if pk != resources.LOCATION_ID:
            raise not_found("Location", pk)
        return Response(location)


@extend_schema(tags=["fhir"])
class MetadataView(FhirView):
    @extend_schema(
        summary="FHIR CapabilityStatement",
        description="What this FHIR server does: read and search of the resource types below.",
        responses={200: _RESOURCE},
    )
    def get(self, request):
        return Response(resources.capability_statement(base=self.fhir_base()))


class NdjsonRenderer(JSONRenderer):
    """The bulk files' type; an error on one is a single JSON line."""

    media_type = "application/fhir+ndjson"
    format = "ndjson"


class NdjsonSchema(AutoSchema):
    """A bulk file's errors are in the API's envelope, rendered as its one line of NDJSON."""

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        return _errors_as(
            super()._get_response_for_code(serializer, status_code, media_types, direction),
            status_code,
            NdjsonRenderer.media_type,
        )


class SmartPublicationView(APIView):
    """Open to anyone without credentials, as the specification asks of a publisher; clients
    are told how long to wait before polling again (`SMART_PUBLISH_MAX_AGE`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = f"public, max-age={settings.SMART_PUBLISH_MAX_AGE}"
        return response


@extend_schema(tags=["fhir"])
class BulkPublishManifestView(SmartPublicationView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        auth=[],
        summary="SMART Scheduling Links manifest ($bulk-publish)",
        description="`{transactionTime, request, output: [{type, url, extension?}], error}`: "
        "the Location file, the Schedule file, then one Slot file per clinic-local day from "
        "today through the booking horizon; each tagged with `CLINIC_STATE` when it is set.",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The manifest.")},
    )
    def get(self, request):
        def url(name: str, **kwargs) -> str:
            return request.build_absolute_uri(reverse(name, kwargs=kwargs or None))

        return Response(
            publish.manifest(
                request_url=url("fhir-bulk-publish"),
                file_url=lambda name: url(f"fhir-bulk-publish-{name}"),
                slot_file_url=lambda day: url("fhir-bulk-publish-slots", day=day.isoformat()),
                transaction_time=resources.instant(timezone.now()),
            )
        )


_NDJSON = {
    (200, "application/fhir+ndjson"): OpenApiResponse(
        OpenApiTypes.STR, description="One minified FHIR resource a line. Streamed."
    )
}


@extend_schema(tags=["fhir"])
class BulkPublishFileView(SmartPublicationView):
    schema = NdjsonSchema()
    renderer_classes = [NdjsonRenderer]
    # Which file (`publish.FILES`), set per route.
    file = ""

    @extend_schema(
        auth=[],
        summary="SMART Scheduling Links file: the Location, or the Schedules",
        description="The clinic's Location; or a Schedule per doctor who is not blacklisted, "
        "its actor the Location.",
        responses=_NDJSON,
    )
    def get(self, request):
        if self.file == "locations":
            lines = publish.locations_ndjson(
                identifier_system=request.build_absolute_uri(reverse("fhir-location"))
            )
        else:
            lines = publish.schedules_ndjson()
        return StreamingHttpResponse(lines, content_type="application/fhir+ndjson")


@extend_schema(tags=["fhir"])
class BulkPublishSlotsView(SmartPublicationView):
    schema = NdjsonSchema()
    renderer_classes = [NdjsonRenderer]

    @extend_schema(
        auth=[],
        summary="SMART Scheduling Links file: one day's free slots",
        description="Every free slot starting on this clinic-local day (`YYYY-MM-DD`), with "
        "its booking-deep-link (`SMART_BOOKING_URL`) and booking-phone (`CLINIC_PHONE`) "
        "extensions; no busy slot, no patient data. A day with none answers an empty file.",
        responses=_NDJSON,
    )
    def get(self, request, day: str):
        try:
            parsed = date.fromisoformat(day) if re.fullmatch(RFC3339_DATE, day) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise NotFound("No such slot file: its name is a date, YYYY-MM-DD.")
        return StreamingHttpResponse(
            publish.slots_ndjson(day=parsed), content_type="application/fhir+ndjson"
        )
