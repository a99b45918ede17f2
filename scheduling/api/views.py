from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from core.api.pagination import IndexOrderedPagination, PageNumberPagination
from core.api.permissions import IsAdmin, IsDoctorOrAdmin
from core.openapi.error_envelopes import error_responses
from doctors.models import Doctor
from doctors.selectors import doctor_list_visible
from scheduling import selectors, services
from scheduling.api.serializers import (
    DoctorQuerySerializer,
    DoctorSlotQuerySerializer,
    HolidaySerializer,
    SlotQuerySerializer,
    SlotSerializer,
    TimeOffCreateSerializer,
    TimeOffSerializer,
    WeeklyRuleCreateSerializer,
    WeeklyRuleSerializer,
    WindowCreateSerializer,
    WindowSerializer,
)
from scheduling.exceptions import HasActiveAppointments, OverlappingAvailability, SlotInPast
from scheduling.models import Holiday, Slot

_DELETED = {204: OpenApiResponse(description="Deleted")}


@extend_schema_view(
    # `?doctor=` narrows a list; a row named by its id needs no narrowing.
    list=extend_schema(parameters=[DoctorQuerySerializer]),
)
# An admin must name the doctor (acting_doctor), which the input serializers leave optional.
@extend_validation_errors(["required"], field_name="doctor", methods=["post"])
class DoctorScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Rows of a doctor's schedule: a doctor works on their own, an admin on anyone's."""

    permission_classes = [IsDoctorOrAdmin]
    pagination_class = PageNumberPagination  # counted in a subquery: the safe form, short lists
    lookup_value_converter = "uuid"
    # Each subclass names its serializer (a model's) and the selector its rows come from.
    serializer_class: type[serializers.ModelSerializer[Any]]
    selector: Callable[..., QuerySet[Any]]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            model: type[Model] = self.serializer_class.Meta.model
            return model._default_manager.none()
        doctor_id = None
        if self.action == "list":
            query = DoctorQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            doctor_id = query.validated_data.get("doctor")
        return type(self).selector(user=signed_in_user(self.request), doctor_id=doctor_id)

    def acting_doctor(self, validated: dict) -> Doctor:
        """The doctor a write is for: the caller if a doctor, else the admin's `doctor`."""
        if signed_in_user(self.request).is_admin:
            if "doctor" not in validated:
                raise ValidationError(
                    {"doctor": [ErrorDetail("Admins must say which doctor.", code="required")]}
                )
            return validated["doctor"]
        return get_object_or_404(Doctor, pk=self.request.user.pk)

    def create_with(self, input_class, service, output_class):
        serializer = input_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "doctor"}
        created = service(doctor=self.acting_doctor(serializer.validated_data), **data)
        return Response(output_class(created).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["availability"])
@extend_schema_view(
    list=extend_schema(summary="List availability windows"),
    retrieve=extend_schema(summary="One availability window"),
    create=extend_schema(
        request=WindowCreateSerializer,
        responses={201: WindowSerializer, **error_responses(SlotInPast, OverlappingAvailability)},
        summary="Publish an availability window",
        description="The window is split into `SLOT_MINUTES` slots; a trailing remainder shorter "
        "than one slot makes no slot. 400 if `end <= start`, shorter than one slot or longer "
        "than 24 h; 400 `slot_in_past` if `start` has passed; 409 `overlapping_availability`.",
    ),
    destroy=extend_schema(
        responses={**_DELETED, **error_responses(HasActiveAppointments)},
        summary="Remove a window and its free slots",
    ),
)
class WindowViewSet(DoctorScheduleViewSet):
    serializer_class = WindowSerializer
    selector = staticmethod(selectors.window_list_visible)

    def create(self, request):
        return self.create_with(WindowCreateSerializer, services.window_create, WindowSerializer)

    def perform_destroy(self, instance):
        services.window_delete(window=instance)


@extend_schema(tags=["availability"])
@extend_schema_view(
    list=extend_schema(summary="List weekly rules"),
    retrieve=extend_schema(summary="One weekly rule"),
    create=extend_schema(
        request=WeeklyRuleCreateSerializer,
        responses={201: WeeklyRuleSerializer, **error_responses(OverlappingAvailability)},
        summary="Add a weekly rule",
        description="Clinic local time. Slots are generated through the booking horizon at once "
        "and kept generated daily; a rule never produces a slot that overlaps an existing one "
        "(on such a day it makes none), and on DST days a wall time that does not exist gives "
        "no slot while one that occurs twice gives one.",
    ),
    destroy=extend_schema(
        responses={**_DELETED, **error_responses(HasActiveAppointments)},
        summary="Remove a weekly rule and its upcoming windows",
    ),
)
class WeeklyRuleViewSet(DoctorScheduleViewSet):
    serializer_class = WeeklyRuleSerializer
    selector = staticmethod(selectors.weekly_rule_list_visible)

    def create(self, request):
        return self.create_with(
            WeeklyRuleCreateSerializer, services.weekly_rule_create, WeeklyRuleSerializer
        )

    def perform_destroy(self, instance):
        services.weekly_rule_delete(rule=instance)


@extend_schema(tags=["availability"])
@extend_schema_view(
    list=extend_schema(summary="List time off"),
    retrieve=extend_schema(summary="One time off"),
    create=extend_schema(
        request=TimeOffCreateSerializer,
        responses={201: TimeOffSerializer, **error_responses(HasActiveAppointments)},
        summary="Record time off",
        description="Free slots inside stop being offered; 409 `has_active_appointments` if a "
        "pending or confirmed appointment lies inside.",
    ),
    destroy=extend_schema(responses=_DELETED, summary="Remove time off"),
)
class TimeOffViewSet(DoctorScheduleViewSet):
    serializer_class = TimeOffSerializer
    selector = staticmethod(selectors.time_off_list_visible)

    def create(self, request):
        return self.create_with(
            TimeOffCreateSerializer, services.time_off_create, TimeOffSerializer
        )

    def perform_destroy(self, instance):
        services.time_off_delete(time_off=instance)


@extend_schema(tags=["availability"])
@extend_schema_view(
    list=extend_schema(summary="List clinic holidays"),
    retrieve=extend_schema(summary="One clinic holiday"),
    create=extend_schema(
        responses={201: HolidaySerializer, **error_responses(HasActiveAppointments)},
        summary="Declare a clinic holiday",
        description="A clinic-wide closed day (clinic local date): no slot that day is offered. "
        "409 `has_active_appointments` while a pending or confirmed appointment falls on it.",
    ),
    destroy=extend_schema(responses=_DELETED, summary="Remove a clinic holiday"),
)
# A taken day is the service's `unique` (core.errors.ValueTaken), not a serializer's.
@extend_validation_errors(["unique"], field_name="date", actions=["create"])
class HolidayViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Holiday.objects.order_by("date")
    serializer_class = HolidaySerializer
    pagination_class = PageNumberPagination  # counted in a subquery: the safe form, a short list
    lookup_value_converter = "uuid"

    def get_permissions(self):
        return [AllowAny()] if self.action in ("list", "retrieve") else [IsAdmin()]

    def perform_create(self, serializer):
        serializer.instance = services.holiday_create(
            day=serializer.validated_data["date"], name=serializer.validated_data["name"]
        )

    def perform_destroy(self, instance):
        services.holiday_delete(holiday=instance)


# Undecorated: each list below states its own query parameters, which drf-spectacular would
# otherwise add to a parent's (the doctor's slots offered `?doctor=` and `?specialization=`).
class FreeSlotListView(ListAPIView):
    """Free, bookable slots ordered by start: no pending or confirmed appointment holds them,
    they start after now plus the lead time and within the horizon, their doctor is not
    blacklisted, and no time off or holiday covers them."""

    serializer_class = SlotSerializer
    permission_classes = [AllowAny]
    query_serializer_class: type[serializers.Serializer[Any]]

    def query(self) -> dict:
        query = self.query_serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


@extend_schema(tags=["slots"], parameters=[SlotQuerySerializer], summary="Search free slots")
class SlotListView(FreeSlotListView):
    query_serializer_class = SlotQuerySerializer
    # Counted in a subquery: otherwise a search by specialization alone walks
    # scheduling_slot_free_start over the whole table (tests/api/test_pagination_plans.py).
    pagination_class = PageNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Slot.objects.none()
        query = self.query()
        return selectors.slot_list_free(
            doctor_id=query.get("doctor"),
            specialization_id=query.get("specialization"),
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
        )


@extend_schema(
    tags=["slots"], parameters=[DoctorSlotQuerySerializer], summary="A doctor's free slots"
)
class DoctorSlotListView(FreeSlotListView):
    """Free slots of one doctor (404 for an unknown or, to non-admins, blacklisted doctor)."""

    query_serializer_class = DoctorSlotQuerySerializer
    # scheduling_slot_doctor_start reads the doctor's slots in page order, and no other row.
    pagination_class = IndexOrderedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Slot.objects.none()
        # The doctor first: unknown, or blacklisted to a non-admin, is a 404 before the query
        # and the page are read. Whether the caller may see them is all it asks: none is loaded.
        if not doctor_list_visible(user=self.request.user).filter(pk=self.kwargs["pk"]).exists():
            raise Http404
        query = self.query()
        return selectors.slot_list_free(
            doctor_id=self.kwargs["pk"],
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
        )
