"""Recurring series: booked all or nothing, listed with their visits, cancelled from a visit
on. Each visit is an ordinary appointment (`/appointments/`) with its own moves."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from appointments import selectors, services
from appointments.api.appointments import BOOKING_ERRORS, booking_patient
from appointments.api.serializers import (
    SeriesBookSerializer,
    SeriesCancelSerializer,
    SeriesSerializer,
)
from appointments.exceptions import (
    ClinicClosed,
    InsideCutoff,
    InvalidTransition,
    SeriesConflict,
)
from appointments.models import AppointmentSeries
from core.api.exception_handler import LockTimeout
from core.api.pagination import PageNumberPagination
from core.api.permissions import IsPatientOrAdmin
from core.api.throttling import ScopedThrottle
from core.openapi.error_envelopes import error_responses


@extend_schema(tags=["appointments"])
@extend_schema_view(list=extend_schema(summary="List recurring series, with their visits"))
# Raised by the view itself, not a serializer (booking_patient).
@extend_validation_errors(["required"], field_name="patient", actions=["create"])
class AppointmentSeriesViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Recurring series, scoped to the caller as appointments are: a patient's own, a
    doctor's own, all for admins. Anything else answers 404."""

    serializer_class = SeriesSerializer
    lookup_value_converter = "uuid"
    pagination_class = PageNumberPagination  # counted in a subquery: few rows, no plan to trust

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AppointmentSeries.objects.none()
        return selectors.series_list_visible(user=signed_in_user(self.request)).order_by(
            "-created_at", "pk"
        )

    def get_permissions(self):
        if self.action == "create":
            return [IsPatientOrAdmin()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            self.throttle_scope = "booking"
            return [*super().get_throttles(), ScopedThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=SeriesBookSerializer,
        responses={
            201: SeriesSerializer,
            **error_responses(*BOOKING_ERRORS, SeriesConflict, ClinicClosed),
        },
        summary="Book a recurring series",
        description="A patient books a series for themselves; an admin for any patient "
        "(`patient`). Doctors get 403. The visits are the slot's and, every `every_weeks` "
        "weeks, the doctor's slot at the same clinic-local weekday and time: `count` visits, or "
        "through the clinic-local day `until` (2 to `SERIES_MAX_OCCURRENCES` visits, the last "
        "within the booking horizon: 400 on `count` or `until` otherwise). All or nothing: if "
        "any visit cannot be booked, nothing is, and the answer is 409 whose first error is "
        "`series_conflict`, followed by one error per such visit, `attr` its clinic-local date "
        "(`YYYY-MM-DD`) and `code` why: `slot_unavailable` (no free slot then), `clinic_closed` "
        "(a holiday), `doctor_unavailable` (the doctor's time off) or `patient_conflict`. A "
        "patient's series must fit whole under their appointment limit "
        "(`appointment_limit_reached`). Each visit is an ordinary appointment carrying "
        "`series`.",
    )
    def create(self, request):
        serializer = SeriesBookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        series = services.series_book(
            actor=signed_in_user(request),
            patient=booking_patient(user=signed_in_user(request), data=data),
            slot_id=data["slot"],
            every_weeks=data["every_weeks"],
            count=data.get("count"),
            until=data.get("until"),
            reason=data["reason"],
        )
        return Response(self._data(series.pk), status=status.HTTP_201_CREATED)

    @extend_schema(summary="One series, with its visits")
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk=pk)

    @extend_schema(
        request=SeriesCancelSerializer,
        responses={
            200: SeriesSerializer,
            **error_responses(InvalidTransition, InsideCutoff, LockTimeout),
        },
        summary="Cancel a series' visits still to come",
        description="`from` null or left out: every visit still to come; a visit's id: that "
        "visit and those after it. Each is cancelled as `POST /appointments/{id}/cancel/` "
        "would (who may, history, notifications, a late cancel's penalty), in one transaction; "
        "visits already started, no longer pending or confirmed, or that the caller may not "
        "cancel now (inside the doctor's cutoff where late cancels are refused) are left alone. "
        "409 `invalid_transition` (or `inside_cutoff`) when none is left to cancel. The series "
        "becomes `cancelled` when the cancel leaves none of its visits pending or confirmed.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        series = self.get_object()
        serializer = SeriesCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.series_cancel(
            series_id=series.pk,
            actor=signed_in_user(request),
            from_appointment_id=data.get("from"),
            reason=data["reason"],
        )
        return Response(self._data(series.pk))

    def _data(self, series_id) -> dict:
        return SeriesSerializer(self.get_queryset().get(pk=series_id)).data
