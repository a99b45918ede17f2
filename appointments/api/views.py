from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.permissions import IsPatientOrAdmin
from appointments import services
from appointments.api.idempotency import idempotent_response
from appointments.api.serializers import (
    AppointmentBookSerializer,
    AppointmentDetailSerializer,
    AppointmentSerializer,
)
from appointments.exceptions import (
    BeyondBookingHorizon,
    BookingRestricted,
    DoctorUnavailable,
    IdempotencyKeyReused,
    LeadTimeViolation,
    PatientConflict,
    SlotInPast,
    SlotUnavailable,
)
from appointments.models import Appointment
from appointments.selectors import appointment_list_visible
from config.exceptions import LockTimeout
from config.schema import error_responses
from patients.models import Patient

BOOKING_ERRORS = (
    SlotUnavailable,
    SlotInPast,
    LeadTimeViolation,
    BeyondBookingHorizon,
    DoctorUnavailable,
    PatientConflict,
    BookingRestricted,
    LockTimeout,
)


@extend_schema(tags=["appointments"])
class AppointmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appointments, scoped to the caller: a patient's own, a doctor's own, all for admins.
    Anything else answers 404."""

    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        return appointment_list_visible(user=self.request.user).order_by("start", "pk")

    def get_serializer_class(self):
        return AppointmentDetailSerializer if self.action == "retrieve" else AppointmentSerializer

    def get_permissions(self):
        if self.action == "create":
            return [IsPatientOrAdmin()]
        return super().get_permissions()

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={
            201: AppointmentSerializer,
            **error_responses(*BOOKING_ERRORS, IdempotencyKeyReused),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
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
        patient = self._booking_patient(data)

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

    def _booking_patient(self, data) -> Patient:
        """Whom the booking is for: a patient always themselves (a `patient` they send is
        ignored); an admin must name one."""
        user = self.request.user
        if not user.is_admin:
            if data["override"]:
                raise PermissionDenied("Only admins may book outside published availability.")
            return get_object_or_404(Patient, pk=user.pk)
        if "patient" not in data:
            raise ValidationError({"patient": ["Admins must say which patient."]})
        return data["patient"]
