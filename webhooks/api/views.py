"""The webhooks API (admins only): thin views over `webhooks.services`."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.pagination import PageNumberPagination
from core.api.permissions import IsAdmin
from core.openapi.error_envelopes import error_responses
from webhooks import services
from webhooks.api.serializers import WebhookDeliverySerializer, WebhookEndpointSerializer
from webhooks.exceptions import DeliveryInProgress, WebhookInactive
from webhooks.models import WebhookDelivery, WebhookEndpoint


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints"),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="Each event of a wanted type is POSTed to `url`, signed per Standard "
        "Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 "
        "HMAC-SHA256>`). Private, loopback and link-local addresses are refused unless "
        "`WEBHOOK_ALLOWED_NETWORKS` lists them (a name is checked on what it resolves to, "
        "at each send).",
    ),
    retrieve=extend_schema(summary="A webhook endpoint"),
    partial_update=extend_schema(summary="Change a webhook endpoint"),
    destroy=extend_schema(summary="Remove a webhook endpoint and its delivery log"),
)
class WebhookEndpointViewSet(viewsets.ModelViewSet):
    queryset = WebhookEndpoint.objects.order_by("created_at", "pk")
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsAdmin]
    pagination_class = PageNumberPagination  # counted in a subquery: a short list
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.webhook_endpoint_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.webhook_endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        summary="The delivery log of a webhook endpoint, newest first",
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        rows = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .order_by("-created_at", "pk")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    queryset = WebhookDelivery.objects.select_related("event", "endpoint")
    serializer_class = WebhookDeliverySerializer
    permission_classes = [IsAdmin]
    lookup_value_converter = "uuid"

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            **error_responses(DeliveryInProgress, WebhookInactive),
        },
        summary="Send a delivery's event to its endpoint again",
        description="A new delivery of the same event (same `webhook-id`), queued now. Only "
        "once the delivery is `sent` or `failed`, to an active endpoint.",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = services.webhook_redeliver(delivery=get_object_or_404(self.queryset, pk=pk))
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
