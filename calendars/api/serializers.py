from django.urls import reverse
from rest_framework import serializers

from calendars.models import CalendarFeed


class CalendarFeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarFeed
        fields = ["id", "owner", "created_at"]
        read_only_fields = fields


class CalendarFeedCreatedSerializer(CalendarFeedSerializer):
    """A new feed with its secret address: shown this once, never again."""

    url = serializers.SerializerMethodField(
        help_text="The feed's secret address (`GET`, no sign-in). Shown once: only a hash of "
        "its token is kept. Anyone holding it reads the owner's appointments until the feed is "
        "revoked."
    )

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, feed) -> str:
        path = reverse("calendar-feed-ics", kwargs={"token": self.context["token"]})
        return self.context["request"].build_absolute_uri(path)
