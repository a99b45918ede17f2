"""Webhooks in the admin site: endpoints are registered, changed and removed through
`webhooks.services` (checked and audited as from the API; the secret is written, never shown);
deliveries are a read-only log with a redeliver action."""

from django import forms
from django.contrib import admin

from core.admin import ReadOnlyModelAdmin, ServiceModelAdmin, form_errors_add, rows_apply
from core.errors import DomainError
from webhooks import services
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

FIELDS = ["url", "events", "secret", "is_active"]
DELIVERY_FIELDS = (
    "event",
    "event_type",
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
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text="`whsec_` and the base64 of 24 to 64 random bytes. Never shown again; on "
        "the change page, leave it empty to keep the one set.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["secret"].required = False
            self.initial["secret"] = ""

    def clean(self):
        data = super().clean() or {}
        try:
            if data.get("url"):
                services.webhook_url_check(data["url"])
            if data.get("secret"):
                services.webhook_secret_check(data["secret"])
        except DomainError as error:
            form_errors_add(self, error)
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url"]

    @admin.display(description="Events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    def service_create(self, request, form):
        return services.webhook_endpoint_create(**{f: form.cleaned_data[f] for f in FIELDS})

    def service_update(self, request, stored, form):
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in FIELDS and not (field == "secret" and not form.cleaned_data[field])
        }
        if changes:
            services.webhook_endpoint_update(endpoint=stored, **changes)

    def service_delete(self, request, obj):
        services.webhook_endpoint_delete(endpoint=obj)


class EventTypeFilter(admin.SimpleListFilter):
    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return EventType.choices

    def queryset(self, request, queryset):
        return queryset.filter(event__type=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    """The delivery log: each event to each endpoint, its status, attempts, last error and
    the last answer's status and time."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "response_time_ms",
        "last_error_start",
        "delivered_at",
    ]
    list_filter = ["status", EventTypeFilter, "endpoint"]
    list_select_related = ["event", "endpoint"]
    ordering = ["-created_at"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    actions = ["redeliver"]

    @admin.display(description="Event type", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="Last error")
    def last_error_start(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda delivery: services.webhook_redeliver(delivery=delivery),
            done="Queued {count} redelivery(ies).",
        )
