from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api.pagination import PageNumberPagination
from core.api.permissions import IsAdmin
from core.openapi.error_envelopes import error_responses
from doctors import services
from doctors.api.filters import DoctorFilter
from doctors.api.serializers import (
    DoctorAdminUpdateSerializer,
    DoctorCreateSerializer,
    DoctorPrivateSerializer,
    DoctorSelfUpdateSerializer,
    DoctorSerializer,
    SpecializationSerializer,
)
from doctors.exceptions import SpecializationInUse
from doctors.models import Specialization
from doctors.selectors import doctor_list_visible


@extend_schema(tags=["doctors"])
@extend_schema_view(
    list=extend_schema(summary="List specializations"),
    retrieve=extend_schema(summary="One specialization"),
    create=extend_schema(summary="Add a specialization"),
    partial_update=extend_schema(summary="Rename a specialization"),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted"),
            **error_responses(SpecializationInUse),
        },
        summary="Remove a specialization no doctor holds",
    ),
)
# A taken value is the service's `unique` (core.errors.ValueTaken), not a serializer's.
@extend_validation_errors(["unique"], field_name="name", actions=["create", "partial_update"])
class SpecializationViewSet(viewsets.ModelViewSet):
    """Specializations: anyone reads, admins write. Names are unique, ignoring case."""

    queryset = Specialization.objects.order_by("name")
    pagination_class = PageNumberPagination  # counted in a subquery: the safe form, a short list
    lookup_value_converter = "int"
    serializer_class = SpecializationSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return [IsAdmin()]

    def perform_create(self, serializer):
        serializer.instance = services.specialization_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.specialization_update(
            specialization=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.specialization_delete(specialization=instance)


@extend_schema(tags=["doctors"])
@extend_schema_view(
    list=extend_schema(summary="List doctors"),
    retrieve=extend_schema(summary="One doctor"),
)
@extend_validation_errors(["unique"], field_name="username", actions=["create"])
@extend_validation_errors(["unique"], field_name="email", actions=["create", "partial_update"])
@extend_validation_errors(
    ["unique"], field_name="license_number", actions=["create", "partial_update"]
)
class DoctorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The doctor directory. Blacklisted doctors are listed, and found, by admins only."""

    filterset_class = DoctorFilter
    pagination_class = PageNumberPagination  # counted in a subquery: no index orders by name
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return doctor_list_visible(user=self.request.user).order_by(
            "user__last_name", "user__first_name", "pk"
        )

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        if self.action == "partial_update":
            return super().get_permissions()
        return [IsAdmin()]

    def get_serializer_class(self):
        user = self.request.user
        if (
            self.action == "retrieve"
            and user.is_authenticated
            and (user.is_admin or str(user.pk) == str(self.kwargs.get("pk")))
        ):
            return DoctorPrivateSerializer
        if self.action == "list" and user.is_authenticated and user.is_admin:
            return DoctorPrivateSerializer
        return DoctorSerializer

    @extend_schema(
        request=DoctorCreateSerializer,
        responses={201: DoctorPrivateSerializer},
        summary="Create a doctor (account and profile)",
    )
    def create(self, request):
        serializer = DoctorCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        doctor = services.doctor_create(**serializer.validated_data)
        return Response(DoctorPrivateSerializer(doctor).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DoctorAdminUpdateSerializer,
        responses={200: DoctorPrivateSerializer},
        summary="Update a doctor",
        description="Admins may change every field listed; the doctor may change only `bio`, "
        "`requires_approval`, `time_zone`, `cancel_cutoff` and `reschedule_cutoff` (any other "
        "field they send is a 400 `unknown_field`).",
    )
    def partial_update(self, request, pk=None):
        doctor = self.get_object()
        user = request.user
        input_class: type[serializers.Serializer[Any]]
        if user.is_admin:
            input_class = DoctorAdminUpdateSerializer
        elif str(user.pk) == str(doctor.pk):
            input_class = DoctorSelfUpdateSerializer
        else:
            self.permission_denied(request, message="You may only change your own profile.")
        serializer = input_class(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        doctor = services.doctor_update(doctor=doctor, **serializer.validated_data)
        return Response(DoctorPrivateSerializer(doctor).data)

    @extend_schema(
        request=None,
        responses={200: DoctorPrivateSerializer},
        summary="Lift a doctor's blacklisting",
    )
    @action(detail=True, methods=["post"])
    def unblacklist(self, request, pk=None):
        doctor = self.get_object()
        doctor = services.doctor_unblacklist(doctor=doctor)
        return Response(DoctorPrivateSerializer(doctor).data)
