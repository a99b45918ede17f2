"""Blacklisting a doctor: served here, under /doctors/{id}/blacklist/, because it may cancel
the doctor's upcoming appointments and the doctors app imports nothing above it. Lifting it
needs no appointment and is the doctors app's own (`DoctorViewSet.unblacklist`)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from appointments import services
from appointments.api.serializers import DoctorBlacklistSerializer
from core.api.exception_handler import LockTimeout
from core.api.permissions import IsAdmin
from core.openapi.error_envelopes import error_responses
from doctors.api.serializers import DoctorPrivateSerializer
from doctors.models import Doctor


@extend_schema(tags=["doctors"])
class DoctorBlacklistView(GenericAPIView):
    serializer_class = DoctorBlacklistSerializer
    permission_classes = [IsAdmin]

    @extend_schema(
        responses={200: DoctorPrivateSerializer, **error_responses(LockTimeout)},
        summary="Blacklist a doctor",
        description="The doctor can no longer sign in, their live tokens stop working at once and "
        "their free slots stop being bookable. With `cancel_upcoming`, their pending and "
        "confirmed future appointments are cancelled (each with its history row).",
    )
    def post(self, request, pk):
        doctor = get_object_or_404(Doctor, pk=pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        doctor = services.doctor_blacklist_with_cancellations(
            doctor=doctor, actor=request.user, **serializer.validated_data
        )
        return Response(DoctorPrivateSerializer(doctor).data)
