"""Domain errors of the webhooks app (codes published in docs/api.md)."""

from core.errors import DomainError, FieldInvalid


class WebhookSecretInvalid(FieldInvalid):
    message = (
        "The secret must be `whsec_` followed by the base64 of 24 to 64 random bytes "
        "(Standard Webhooks)."
    )
    attr = "secret"


class WebhookUrlInvalid(FieldInvalid):
    message = "The URL must be http or https, with a host this server may call."
    attr = "url"


class DeliveryInProgress(DomainError):
    code = "delivery_in_progress"
    message = "This delivery has not finished: it can be redelivered once it is sent or failed."


class WebhookInactive(DomainError):
    code = "webhook_inactive"
    message = "The endpoint is not active: activate it before redelivering to it."
