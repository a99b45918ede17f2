from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.input_serializers import ModelInputSerializer
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

_B64 = "[A-Za-z0-9+/]"
# `whsec_` and the base64 of 24 to 64 bytes: 8 to 21 groups of four characters and a padded
# tail, so long as the bytes stay within 64 (`webhooks.services.webhook_secret_check`).
SECRET_PATTERN = (
    f"^whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    f"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)


@extend_schema_field({"type": "string", "pattern": SECRET_PATTERN, "maxLength": 200})
class WebhookSecretField(serializers.RegexField):
    """The secret's format in the schema too (where a plain string's pattern is only "not
    blank")."""

    def __init__(self, **kwargs):
        super().__init__(SECRET_PATTERN, max_length=200, **kwargs)


_PORT = "(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# http or https, a host name or IPv4 address (letters, digits, dots, hyphens), a port, then
# any printable ASCII: what `webhooks.outbound` can send to, said so in the schema.
URL_PATTERN = f"^https?://(?:[A-Za-z0-9-]+\\.)*[A-Za-z0-9-]+(?::{_PORT})?(?:[/?#][\\x21-\\x7e]*)?$"


@extend_schema_field({"type": "string", "pattern": URL_PATTERN, "maxLength": 500})
class WebhookUrlField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(URL_PATTERN, max_length=500, **kwargs)


class EventTypesField(serializers.ListField):
    """A list of event types. An unknown one is an error on the list itself (`events`,
    `invalid_choice`), as the schema documents it, rather than on an item's index."""

    default_error_messages = {"invalid_choice": '"{input}" is not an event type.'}

    def run_child_validation(self, data):
        unknown = [item for item in data if item not in EventType.values]
        if unknown:
            self.fail("invalid_choice", input=unknown[0])
        return super().run_child_validation(data)


class WebhookEndpointSerializer(ModelInputSerializer):
    events = EventTypesField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        min_length=1,
        max_length=len(EventType.choices),
        help_text="The event types this endpoint wants.",
    )
    secret = WebhookSecretField(
        write_only=True,
        help_text="Signing secret: `whsec_` and the base64 of 24 to 64 random bytes (Standard "
        "Webhooks). Never shown again.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "secret", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"url": {"help_text": "http or https; called with a POST per event."}}

    url = WebhookUrlField(help_text="http or https; called with a POST per event.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type", read_only=True)
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "occurred_at",
            "endpoint",
            "status",
            "attempts",
            "last_error",
            "response_status",
            "response_time_ms",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "redelivery_of",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "event": {"help_text": "The event's id: the `webhook-id` header of every attempt."},
            "status": {
                "help_text": "`pending` (waiting for an attempt, maybe after a failed one), "
                "`sending`, `sent` (a 2xx: never sent again) or `failed` (attempts used up)."
            },
            "last_error": {"help_text": "What went wrong at the last failed attempt."},
            "response_status": {"help_text": "HTTP status of the last answer, if any."},
            "response_time_ms": {"help_text": "How long the last answer took."},
            "redelivery_of": {"help_text": "The delivery a manual redelivery repeats."},
        }
