"""A doctor's feedback, read by anyone: served here, under /doctors/{id}/feedback/, because
feedback belongs to appointments and the doctors app imports nothing above it."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from appointments.api.serializers import FeedbackSerializer
from appointments.models import Feedback
from core.api.pagination import PageNumberPagination
from doctors.selectors import doctor_list_visible


@extend_schema(tags=["doctors"], summary="A doctor's feedback, without patient identity")
class DoctorFeedbackListView(ListAPIView):
    serializer_class = FeedbackSerializer
    permission_classes = [AllowAny]
    pagination_class = PageNumberPagination  # counted in a subquery: no index orders it by date

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Feedback.objects.none()
        doctor = get_object_or_404(
            doctor_list_visible(user=self.request.user), pk=self.kwargs["pk"]
        )
        return Feedback.objects.filter(doctor=doctor).order_by("-created_at", "pk")
