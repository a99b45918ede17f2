from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from core.api.pagination import PageNumberPagination
from core.api.throttling import ScopedThrottle
from patients import services
from patients.api.serializers import (
    PatientForDoctorSerializer,
    PatientRegisterSerializer,
    PatientSerializer,
    PatientUpdateSerializer,
)
from patients.models import Patient
from patients.selectors import patient_list_visible


@extend_schema(tags=["patients"])
@extend_schema_view(
    list=extend_schema(summary="List patients"),
    retrieve=extend_schema(summary="One patient"),
)
# A taken value is the service's `unique` (core.errors.ValueTaken), not a serializer's.
@extend_validation_errors(["unique"], field_name="username", actions=["create"])
@extend_validation_errors(["unique"], field_name="email", actions=["create", "partial_update"])
class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Patients. Registration is open; everything else is scoped to the caller: admins see all,
    doctors the patients they have or had an appointment with, a patient only themselves.
    A patient outside the caller's scope answers 404."""

    filter_backends = [SearchFilter]
    search_fields = ["user__first_name", "user__last_name", "user__email"]
    pagination_class = PageNumberPagination  # counted in a subquery: no index orders by name
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Patient.objects.none()
        return patient_list_visible(user=signed_in_user(self.request)).order_by(
            "user__last_name", "user__first_name", "pk"
        )

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action == "create":
            self.throttle_scope = "register"
            return [*super().get_throttles(), ScopedThrottle()]
        return super().get_throttles()

    def get_serializer_class(self):
        if self.request.user.is_authenticated and self.request.user.is_doctor:
            return PatientForDoctorSerializer
        return PatientSerializer

    @extend_schema(
        request=PatientRegisterSerializer,
        responses={201: PatientSerializer},
        summary="Register as a patient",
        description="Open self-registration. A taken username or email is a 400 on that field.",
    )
    def create(self, request):
        serializer = PatientRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_register(**serializer.validated_data)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PatientUpdateSerializer,
        responses={200: PatientSerializer},
        summary="Update a patient",
        description="The patient themselves or an admin. `role`, `is_active` and ids are never "
        "writable here: sending them, or any unknown field, is a 400 `unknown_field`.",
    )
    def partial_update(self, request, pk=None):
        patient = self.get_object()
        if not (request.user.is_admin or request.user.pk == patient.pk):
            self.permission_denied(request, message="Only the patient or an admin may do this.")
        serializer = PatientUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(patient=patient, **serializer.validated_data)
        return Response(PatientSerializer(patient).data)
