from datetime import timedelta

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from audit.models import AuditLog
from core.api.filters import BoundedDateFilter
from core.api.pagination import CursorPagination
from core.api.permissions import IsAdmin
from core.clinic_time import day_start


class AuditLogSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", allow_null=True, read_only=True)
    changes = serializers.DictField(
        read_only=True,
        help_text='By field name: `[old, new]` for a field that changed, `"(changed)"` for '
        "one encrypted at rest (its values are never logged), or what the action records "
        "(e.g. the slots a window made).",
    )

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "actor",
            "actor_username",
            "action",
            "target_type",
            "target_id",
            "changes",
            "ip",
            "request_id",
            "at",
        ]
        read_only_fields = fields


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    action = django_filters.CharFilter(max_length=40)
    target_type = django_filters.CharFilter(max_length=40)
    target_id = django_filters.CharFilter(max_length=64)
    date_from = BoundedDateFilter(method="filter_date_from", help_text="Clinic-local day.")
    date_to = BoundedDateFilter(method="filter_date_to", help_text="Clinic-local day.")

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "target_type", "target_id"]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(at__gte=day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(at__lt=day_start(value + timedelta(days=1)))


class AuditLogPagination(CursorPagination):
    ordering = ("-at", "-id")
    page_size = 50


@extend_schema(tags=["audit"], summary="The audit log (append-only), newest first")
class AuditLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who did what, when, to which record, and who read which patient's clinical data.
    Admins only; there is no way to change or delete an entry."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    permission_classes = [IsAdmin]
    pagination_class = AuditLogPagination  # cursor pages: the log grows while it is read
    filterset_class = AuditLogFilter
