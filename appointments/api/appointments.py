"""Appointments: booking, the lifecycle moves, history and the patient's feedback."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from accounts.models import User
from appointments import exports, selectors, services
from appointments.api.filters import AppointmentFilter
from appointments.api.idempotency import KEY_PATTERN, idempotent_response
from appointments.api.serializers import (
    AppointmentBookSerializer,
    AppointmentDetailSerializer,
    AppointmentSerializer,
    CancelSerializer,
    CompleteSerializer,
    FeedbackCreateSerializer,
    FeedbackSerializer,
    RejectSerializer,
    RescheduleSerializer,
    StatusChangeSerializer,
)
from appointments.exceptions import (
    AppointmentLimitReached,
    BeyondBookingHorizon,
    BookingRestricted,
    DoctorUnavailable,
    DuplicateFeedback,
    IdempotencyKeyReused,
    InsideCutoff,
    InvalidTransition,
    LeadTimeViolation,
    PatientConflict,
    SlotHeld,
    SlotInPast,
    SlotUnavailable,
)
from appointments.models import Appointment
from appointments.transitions import Action, move_rule
from core.api.csv import CSVNegotiationMixin
from core.api.exception_handler import LockTimeout
from core.api.filters import FilterWhenAskedBackend
from core.api.pagination import IndexOrderedPagination
from core.api.permissions import IsPatientOrAdmin
from core.api.throttling import ScopedThrottle
from core.openapi.error_envelopes import error_responses
from patients.models import Patient

BOOKING_ERRORS = (
    AppointmentLimitReached,
    SlotUnavailable,
    SlotHeld,
    SlotInPast,
    LeadTimeViolation,
    BeyondBookingHorizon,
    DoctorUnavailable,
    PatientConflict,
    BookingRestricted,
    LockTimeout,
)


def booking_patient(*, user: User, data: dict) -> Patient:
    """Whom a booking (or a series) is for: a patient always themselves (a `patient` they send
    is ignored); an admin must name one."""
    if not user.is_admin:
        if data.get("override"):
            raise PermissionDenied("Only admins may book outside published availability.")
        # Only the id: the booking services lock and read the patient themselves (404
        # `not_found` if there is no such patient), in the round trip that takes the locks.
        return Patient(pk=user.pk)
    if "patient" not in data:
        raise ValidationError(
            {"patient": [ErrorDetail("Admins must say which patient.", code="required")]}
        )
    return data["patient"]


def appointment_detail_data(appointment: Appointment) -> dict:
    """The appointment as its parties see it, its clinical notes included (an audited read)."""
    services.clinical_notes_read_record(appointment=appointment)
    return AppointmentDetailSerializer(appointment).data


@extend_schema(tags=["appointments"])
# Raised by the view itself, not a serializer (appointments.api.idempotency, booking_patient).
@extend_validation_errors(["invalid"], field_name="Idempotency-Key", actions=["create"])
@extend_validation_errors(["required"], field_name="patient", actions=["create"])
class AppointmentViewSet(
    CSVNegotiationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments, scoped to the caller: a patient's own, a doctor's own, all for admins.
    Anything else answers 404."""

    lookup_value_converter = "uuid"
    # appointments_patient_start and appointments_doctor_start read a patient's or a doctor's
    # appointments in page order, and no other row; an admin's whole list is sorted anyway.
    pagination_class = IndexOrderedPagination
    filter_backends = [FilterWhenAskedBackend]
    filterset_class = AppointmentFilter
    csv_actions = ("list",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        if self.action == "list":
            return selectors.appointment_list_page(user=signed_in_user(self.request)).order_by(
                "start", "pk"
            )
        return selectors.appointment_list_visible(user=signed_in_user(self.request)).order_by(
            "start", "pk"
        )

    def get_serializer_class(self):
        return AppointmentDetailSerializer if self.action != "list" else AppointmentSerializer

    @extend_schema(
        responses={
            (200, "application/json"): AppointmentSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Admins only (403 for anyone else): every appointment the filters "
                "select, unpaginated, as a CSV download (clinic-local date and times, the zone "
                "named; no reason or clinical notes; text cells a spreadsheet would read as a "
                "formula start with `'`). Every download is audited.",
            ),
            **error_responses(PermissionDenied),
        },
        summary="List appointments",
        description="A patient's own, a doctor's own, all for admins. In JSON, a page at a "
        "time; admins may ask for CSV instead (`?format=csv` or `Accept: text/csv`).",
    )
    def list(self, request, *args, **kwargs):
        if not self.csv_requested(request):
            return super().list(request, *args, **kwargs)
        if not signed_in_user(request).is_admin:
            raise PermissionDenied("Only clinic administrators may download the list.")
        return exports.appointments_csv(
            appointments=self.filter_queryset(self.get_queryset()),
            filters={k: v for k, v in request.query_params.items() if k != "format"},
        )

    def get_permissions(self):
        if self.action == "create":
            return [IsPatientOrAdmin()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action in ("create", "reschedule"):
            self.throttle_scope = "booking"
            return [*super().get_throttles(), ScopedThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={
            201: AppointmentSerializer,
            **error_responses(*BOOKING_ERRORS, IdempotencyKeyReused),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": KEY_PATTERN},
                OpenApiParameter.HEADER,
                description="Replays the first answer to the same request from the same user for "
                "24 h; another body with the same key is 422 `idempotency_key_reused`.",
            )
        ],
        summary="Book an appointment",
        description="A patient books a free slot for themselves; an admin books for any patient "
        "(`patient`), and with `override: true` outside published availability (`doctor`, "
        "`start`, `end`). Doctors get 403. The appointment starts `pending`, or `confirmed` when "
        "the doctor does not require approval. 503 with Retry-After when the slot stays locked.",
    )
    def create(self, request):
        serializer = AppointmentBookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        patient = booking_patient(user=signed_in_user(request), data=data)

        def book() -> Response:
            if data["override"]:
                appointment = services.appointment_book_override(
                    actor=request.user,
                    patient=patient,
                    doctor=data["doctor"],
                    start=data["start"],
                    end=data["end"],
                    reason=data["reason"],
                )
            else:
                appointment = services.appointment_book(
                    actor=request.user, patient=patient, slot_id=data["slot"], reason=data["reason"]
                )
            return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

        key = request.headers.get("Idempotency-Key")
        if key is None:
            return book()
        return idempotent_response(user=request.user, key=key, payload=request.data, respond=book)

    @extend_schema(summary="One appointment, with its clinical notes")
    def retrieve(self, request, pk=None):
        return Response(appointment_detail_data(self.get_object()))

    def _move(self, request, action: Action, input_class=None, note_field: str | None = None):
        """Parse the move's body, make the move through the one transition function, and
        answer with the appointment as it now is."""
        appointment = self.get_object()
        data = {}
        if input_class is not None:
            serializer = input_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        note = data.pop(note_field, "") if note_field else ""
        moved = services.appointment_transition(
            appointment_id=appointment.pk, action=action, actor=request.user, note=note, **data
        )
        return Response(appointment_detail_data(moved))

    @extend_schema(
        request=None,
        responses={
            200: AppointmentDetailSerializer,
            **error_responses(InvalidTransition, LockTimeout),
        },
        summary="Confirm a pending appointment (doctor, admin)",
        description=move_rule(Action.CONFIRM),
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._move(request, Action.CONFIRM)

    @extend_schema(
        request=RejectSerializer,
        responses={
            200: AppointmentDetailSerializer,
            **error_responses(InvalidTransition, LockTimeout),
        },
        summary="Reject a pending appointment (doctor, admin)",
        description=move_rule(Action.REJECT),
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._move(request, Action.REJECT, RejectSerializer, note_field="reason")

    @extend_schema(
        request=CancelSerializer,
        responses={
            200: AppointmentDetailSerializer,
            **error_responses(InvalidTransition, InsideCutoff, LockTimeout),
        },
        summary="Cancel an appointment",
        description=f"{move_rule(Action.CANCEL)} Frees the slot. The patient's cancel after "
        "`cancel_by` is late: 409 `inside_cutoff`, or, where the clinic penalises late "
        "cancellations, made with a `late_cancellation` penalty.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._move(request, Action.CANCEL, CancelSerializer, note_field="reason")

    @extend_schema(
        request=CompleteSerializer,
        responses={
            200: AppointmentDetailSerializer,
            **error_responses(InvalidTransition, LockTimeout),
        },
        summary="Complete a confirmed appointment once started (doctor, admin)",
        description=f"{move_rule(Action.COMPLETE)} "
        "`diagnosis` and `treatment_notes` are encrypted at rest.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._move(request, Action.COMPLETE, CompleteSerializer)

    @extend_schema(
        request=None,
        responses={
            200: AppointmentDetailSerializer,
            **error_responses(InvalidTransition, LockTimeout),
        },
        summary="Mark a confirmed appointment a no-show once ended (doctor, admin)",
        description=f"{move_rule(Action.NO_SHOW)} Creates the patient's no-show penalty.",
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._move(request, Action.NO_SHOW)

    @extend_schema(
        request=RescheduleSerializer,
        responses={
            201: AppointmentSerializer,
            **error_responses(*BOOKING_ERRORS, InvalidTransition, InsideCutoff),
        },
        summary="Move an appointment to another slot",
        description=f"{move_rule(Action.RESCHEDULE)} The patient's reschedule after "
        "`reschedule_by` is late: 409 `inside_cutoff`, or, where the clinic penalises late "
        "changes, made with a `late_cancellation` penalty. The new appointment carries "
        "`rescheduled_from`; the old one becomes `rescheduled`. A confirmed appointment's new "
        "one is confirmed too. All or nothing: if the new slot cannot be had, 409 and the old "
        "appointment is untouched.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        appointment = self.get_object()
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        new = services.appointment_reschedule(
            appointment_id=appointment.pk,
            actor=request.user,
            slot_id=data["slot"],
            reason=data.get("reason"),
        )
        return Response(AppointmentSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: StatusChangeSerializer(many=True)},
        summary="The appointment's status history, oldest first",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        appointment = self.get_object()
        rows = appointment.history.order_by("at", "id")
        return Response(StatusChangeSerializer(rows, many=True).data)

    @extend_schema(
        request=FeedbackCreateSerializer,
        responses={
            201: FeedbackSerializer,
            **error_responses(InvalidTransition, DuplicateFeedback, LockTimeout),
        },
        summary="Rate a completed appointment (its patient, once)",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def feedback(self, request, pk=None):
        appointment = self.get_object()
        serializer = FeedbackCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.feedback_submit(
            appointment_id=appointment.pk, actor=request.user, **serializer.validated_data
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)
