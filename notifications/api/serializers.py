from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    appointment = serializers.UUIDField(
        source="appointment_id", read_only=True, allow_null=True, help_text="What it is about."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "appointment", "title", "body", "created_at", "read_at"]
        read_only_fields = fields
