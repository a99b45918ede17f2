import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.filters import StrictBooleanFilter
from core.api.pagination import PageNumberPagination
from notifications import services
from notifications.api.serializers import NotificationSerializer
from notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="`true`: only those not read yet."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


@extend_schema(tags=["notifications"])
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; anyone else's answer 404."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = PageNumberPagination  # counted in a subquery: the safe form, a short list
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        # By key: this app imports no other CareSlot app.
        return Notification.objects.filter(recipient_id=self.request.user.pk).order_by(
            "-created_at", "pk"
        )

    @extend_schema(
        summary="My notifications, newest first",
        description="One for the patient on every status change of their appointment; for "
        "the doctor on a new booking, a cancellation and a reschedule; a reminder before each "
        "confirmed appointment. Each is also emailed once.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={200: NotificationSerializer},
        summary="Mark one of my notifications read",
        description="Idempotent: reading it again keeps the first `read_at`.",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)
