"""No-show penalties."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.authentication import signed_in_user
from appointments import selectors, services
from appointments.api.serializers import PenaltySerializer
from appointments.models import Penalty
from core.api.pagination import PageNumberPagination
from core.api.permissions import IsAdmin


@extend_schema(tags=["penalties"])
@extend_schema_view(list=extend_schema(summary="List no-show penalties"))
class PenaltyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """No-show penalties: admins see all, a patient their own."""

    serializer_class = PenaltySerializer
    pagination_class = PageNumberPagination  # counted in a subquery: no index orders it by date
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Penalty.objects.none()
        return selectors.penalty_list_visible(user=signed_in_user(self.request)).order_by(
            "-created_at", "pk"
        )

    @extend_schema(request=None, responses={200: PenaltySerializer}, summary="Resolve a penalty")
    @action(detail=True, methods=["post"], permission_classes=[IsAdmin])
    def resolve(self, request, pk=None):
        penalty = services.penalty_resolve(penalty_id=self.get_object().pk, actor=request.user)
        return Response(PenaltySerializer(penalty).data)
