from rest_framework import serializers

from accounts.api.fields import FullNameField
from core.api.fields import AwareDateTimeField, BoundedDateField, LocalTimeField
from core.api.input_serializers import (
    MAX_BIGINT,
    InputSerializer,
    ModelInputSerializer,
    QuerySerializer,
)
from core.api.rows import HandBuiltRows
from doctors.models import Doctor
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule


class WindowSlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Slot
        fields = ["id", "start", "end", "is_booked"]
        read_only_fields = fields


class WindowSerializer(serializers.ModelSerializer):
    slots = WindowSlotSerializer(many=True, read_only=True)

    class Meta:
        model = AvailabilityWindow
        fields = [
            "id",
            "doctor",
            "start",
            "end",
            "weekly_rule",
            "is_override",
            "slots",
            "created_at",
        ]
        read_only_fields = fields


class DoctorScopedInputSerializer(InputSerializer):
    """Input naming a doctor: required from admins, ignored from doctors (always themselves)."""

    doctor = serializers.PrimaryKeyRelatedField(
        queryset=Doctor.objects.all(),
        required=False,
        help_text="Admins only, and required for them; a doctor always acts for themselves.",
    )


class WindowCreateSerializer(DoctorScopedInputSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()


class WeeklyRuleSerializer(serializers.ModelSerializer):
    start_time = LocalTimeField(read_only=True)
    end_time = LocalTimeField(read_only=True)

    class Meta:
        model = WeeklyRule
        fields = [
            "id",
            "doctor",
            "day_of_week",
            "start_time",
            "end_time",
            "effective_from",
            "effective_until",
            "generated_through",
            "created_at",
        ]
        read_only_fields = fields


class WeeklyRuleCreateSerializer(DoctorScopedInputSerializer):
    day_of_week = serializers.IntegerField(min_value=0, max_value=6, help_text="Monday is 0.")
    start_time = LocalTimeField(help_text="Clinic local time.")
    end_time = LocalTimeField(help_text="Clinic local time.")
    effective_from = BoundedDateField()
    effective_until = BoundedDateField(required=False, allow_null=True)


class TimeOffSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeOff
        fields = ["id", "doctor", "start", "end", "reason", "created_at"]
        read_only_fields = fields


class TimeOffCreateSerializer(DoctorScopedInputSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class HolidaySerializer(ModelInputSerializer):
    date = BoundedDateField(help_text="A clinic-local day.")

    class Meta:
        model = Holiday
        fields = ["id", "date", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


# Rows built by hand (`core.api.rows`): the busiest read of the API (bench/README.md).
class SlotSerializer(HandBuiltRows, serializers.Serializer):
    """A free slot as search results show it, with enough of its doctor to choose."""

    # The doctor's name and specialization are columns of the slot (`slot_list_free`).
    id = serializers.UUIDField(read_only=True)
    doctor = serializers.UUIDField(source="doctor_id", read_only=True)
    doctor_name = FullNameField("doctor")
    specialization = serializers.IntegerField(source="specialization_id", read_only=True)
    specialization_name = serializers.CharField(read_only=True)
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    cancel_by = serializers.DateTimeField(
        read_only=True,
        help_text="If booked, the patient may cancel online until this instant; later is late "
        "(refused, or penalised: the clinic's policy).",
    )
    reschedule_by = serializers.DateTimeField(
        read_only=True,
        help_text="If booked, the patient may move it online until this instant.",
    )


class DoctorQuerySerializer(QuerySerializer):
    doctor = serializers.UUIDField(required=False, help_text="Admins: only this doctor's rows.")


class SlotQuerySerializer(QuerySerializer):
    doctor = serializers.UUIDField(required=False)
    specialization = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    date_from = BoundedDateField(required=False, help_text="Clinic-local day, included.")
    date_to = BoundedDateField(required=False, help_text="Clinic-local day, included.")

    def validate(self, attrs):
        if (
            attrs.get("date_from")
            and attrs.get("date_to")
            and attrs["date_to"] < attrs["date_from"]
        ):
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        return attrs


class DoctorSlotQuerySerializer(SlotQuerySerializer):
    # DRF's way to leave out an inherited field (the doctor is in the path).
    doctor = None  # type: ignore[assignment]
    specialization = None  # type: ignore[assignment]
