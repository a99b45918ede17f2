"""The waitlist: entries, and the offers of held slots with their answers."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from appointments.api.appointments import BOOKING_ERRORS
from appointments.api.serializers import AppointmentSerializer
from appointments.exceptions import DoctorUnavailable
from core.api.exception_handler import LockTimeout
from core.api.pagination import PageNumberPagination
from core.api.permissions import IsPatientOrAdmin
from core.openapi.error_envelopes import error_responses
from patients.models import Patient
from scheduling.exceptions import BeyondScheduleReach
from waitlist import selectors, services
from waitlist.api.serializers import (
    WaitlistEntrySerializer,
    WaitlistJoinSerializer,
    WaitlistOfferSerializer,
)
from waitlist.exceptions import OfferClosed, WaitlistLimitReached
from waitlist.models import WaitlistEntry, WaitlistOffer


@extend_schema(tags=["waitlist"])
@extend_schema_view(
    list=extend_schema(
        summary="Waitlist entries",
        description="A patient's own; a doctor's, those for them or their specialization; all "
        "for admins. Newest first.",
    ),
    destroy=extend_schema(
        responses={204: OpenApiResponse(description="Withdrawn"), **error_responses(LockTimeout)},
        summary="Leave the waitlist",
        description="The entry's patient or an admin (doctors get 403). The entry becomes "
        "`withdrawn`; an open offer of it is declined and its slot passes to the next entry.",
    ),
)
# Raised by the view itself, not the serializer (_joining_patient).
@extend_validation_errors(["required"], field_name="patient", actions=["create"])
class WaitlistEntryViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = WaitlistEntrySerializer
    pagination_class = PageNumberPagination
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WaitlistEntry.objects.none()
        return selectors.entry_list_visible(user=signed_in_user(self.request)).order_by(
            "-created_at", "pk"
        )

    def get_permissions(self):
        if self.action in ("create", "destroy"):
            return [IsPatientOrAdmin()]
        return super().get_permissions()

    @extend_schema(
        request=WaitlistJoinSerializer,
        responses={
            201: WaitlistEntrySerializer,
            **error_responses(
                WaitlistLimitReached, DoctorUnavailable, BeyondScheduleReach, LockTimeout
            ),
        },
        summary="Join the waitlist",
        description="A patient for themselves, an admin for a `patient`; doctors get 403. Give "
        "`doctor` or `specialization` (exactly one). When a matching future slot becomes free, "
        "the first entry by join time gets an offer: the slot is held for "
        "`WAITLIST_HOLD_MINUTES`. 409 `waitlist_limit_reached` past "
        "`WAITLIST_MAX_ENTRIES_PER_PATIENT` waiting entries.",
    )
    def create(self, request):
        serializer = WaitlistJoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("patient", None)
        entry = services.waitlist_join(patient=self._joining_patient(serializer), **data)
        return Response(WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    def _joining_patient(self, serializer) -> Patient:
        """A patient joins for themselves (a `patient` they send is ignored); an admin must
        name one."""
        user = signed_in_user(self.request)
        if not user.is_admin:
            return get_object_or_404(Patient.objects.only("pk"), pk=user.pk)
        if "patient" not in serializer.validated_data:
            raise ValidationError(
                {"patient": [ErrorDetail("Admins must say which patient.", code="required")]}
            )
        return serializer.validated_data["patient"]

    def perform_destroy(self, instance):
        services.waitlist_entry_withdraw(entry_id=instance.pk, actor=signed_in_user(self.request))


@extend_schema(tags=["waitlist"])
@extend_schema_view(
    list=extend_schema(
        summary="Waitlist offers",
        description="A patient's own; a doctor's, those of their slots; all for admins. An open "
        "offer holds its slot for its patient until `expires_at`. Newest first.",
    ),
)
class WaitlistOfferViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = WaitlistOfferSerializer
    pagination_class = PageNumberPagination
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WaitlistOffer.objects.none()
        return selectors.offer_list_visible(user=signed_in_user(self.request)).order_by(
            "-created_at", "pk"
        )

    def get_permissions(self):
        return [IsPatientOrAdmin()] if self.action != "list" else super().get_permissions()

    @extend_schema(
        request=None,
        responses={201: AppointmentSerializer, **error_responses(OfferClosed, *BOOKING_ERRORS)},
        summary="Accept an offer: book its slot",
        description="The offer's patient (or an admin) books the held slot, under every "
        "booking rule. 409 `offer_closed` once the offer was answered or has expired.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        appointment = services.waitlist_offer_accept(
            offer_id=self.get_object().pk, actor=request.user
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: WaitlistOfferSerializer, **error_responses(OfferClosed, LockTimeout)},
        summary="Decline an offer",
        description="The slot passes to the next entry; the entry keeps waiting for other "
        "slots. 409 `offer_closed` once the offer was answered.",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        offer = services.waitlist_offer_decline(offer_id=self.get_object().pk, actor=request.user)
        return Response(WaitlistOfferSerializer(offer).data)
