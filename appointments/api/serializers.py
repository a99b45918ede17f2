from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from accounts.api.fields import FullNameField
from appointments.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    Feedback,
    Penalty,
)
from core.api.fields import AwareDateTimeField, StrictUUIDField
from core.api.input_serializers import InputSerializer
from core.api.rows import HandBuiltRows
from core.openapi.strict_input import BodyShape
from doctors.models import Doctor
from patients.models import Patient


class AppointmentSerializer(HandBuiltRows, serializers.ModelSerializer):
    # The names come from a list page's name columns (`selectors.appointment_list_page`) or,
    # for one appointment, from the related users.
    patient_name = FullNameField("patient")
    doctor_name = FullNameField("doctor")
    cancel_by = serializers.DateTimeField(
        read_only=True,
        help_text="The patient may cancel online until this instant; later is late (refused, "
        "or penalised: the clinic's policy). Doctors and admins are not bound by it.",
    )
    reschedule_by = serializers.DateTimeField(
        read_only=True,
        help_text="The patient may move it online until this instant; later is late.",
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "patient_name",
            "doctor",
            "doctor_name",
            "slot",
            "start",
            "end",
            "status",
            "reason",
            "rescheduled_from",
            "is_override",
            "cancel_by",
            "reschedule_by",
            "series",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AppointmentDetailSerializer(AppointmentSerializer):
    """One appointment as its patient, its doctor and admins see it, clinical notes included."""

    class Meta(AppointmentSerializer.Meta):
        fields = [*AppointmentSerializer.Meta.fields, "diagnosis", "treatment_notes"]
        read_only_fields = fields


class AppointmentBookSerializer(InputSerializer):
    """Book a slot; an admin also names the patient, and may book outside published
    availability with `override: true` and `doctor`, `start`, `end` instead of `slot`."""

    slot = StrictUUIDField(required=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), required=False, help_text="Admins only, and required."
    )
    override = serializers.BooleanField(required=False, default=False, help_text="Admins only.")
    doctor = serializers.PrimaryKeyRelatedField(
        queryset=Doctor.objects.all(), required=False, help_text="With `override` only."
    )
    start = AwareDateTimeField(required=False, help_text="With `override` only.")
    end = AwareDateTimeField(required=False, help_text="With `override` only.")

    # The two bodies `validate` accepts, as the schema states them (core.openapi.strict_input).
    body_shapes = [
        BodyShape(
            name="SlotBookingRequest",
            required=("slot",),
            without=("doctor", "start", "end"),
            fixed={"override": False},
        ),
        BodyShape(
            name="OverrideBookingRequest",
            required=("override", "doctor", "start", "end"),
            without=("slot",),
            fixed={"override": True},
        ),
    ]

    def validate(self, attrs):
        if attrs["override"]:
            missing = [f for f in ("doctor", "start", "end") if f not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {f: [ErrorDetail("Required with override.", code="required")] for f in missing}
                )
        elif "slot" not in attrs:
            raise serializers.ValidationError(
                {"slot": [ErrorDetail("This field is required.", code="required")]}
            )
        return attrs


class SeriesBookSerializer(InputSerializer):
    """A series: its first slot and its rule, `count` visits or through `until`."""

    slot = StrictUUIDField(help_text="The first visit's slot.")
    every_weeks = serializers.IntegerField(
        min_value=1, max_value=4, help_text="Weeks between visits."
    )
    count = serializers.IntegerField(
        min_value=2,
        max_value=32767,
        required=False,
        help_text="How many visits, the first included (at most `SERIES_MAX_OCCURRENCES`).",
    )
    until = serializers.DateField(
        required=False, help_text="The clinic-local day of the last possible visit, included."
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), required=False, help_text="Admins only, and required."
    )

    # The two bodies `validate` accepts, as the schema states them (core.openapi.strict_input).
    body_shapes = [
        BodyShape(
            name="SeriesCountRequest", required=("slot", "every_weeks", "count"), without=("until",)
        ),
        BodyShape(
            name="SeriesUntilRequest", required=("slot", "every_weeks", "until"), without=("count",)
        ),
    ]

    def validate(self, attrs):
        if "count" in attrs and "until" in attrs:
            raise serializers.ValidationError(
                {"until": [ErrorDetail("Give `count` or `until`, not both.", code="invalid")]}
            )
        if "count" not in attrs and "until" not in attrs:
            raise serializers.ValidationError(
                {"count": [ErrorDetail("Give `count` or `until`.", code="required")]}
            )
        return attrs


class SeriesCancelSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = StrictUUIDField(
            required=False,
            allow_null=True,
            help_text="Cancel this visit and those after it; null or left out: every visit "
            "still to come.",
        )
        return fields


class SeriesSerializer(serializers.ModelSerializer):
    patient_name = FullNameField("patient")
    doctor_name = FullNameField("doctor")
    appointments = AppointmentSerializer(many=True, read_only=True)

    class Meta:
        model = AppointmentSeries
        fields = [
            "id",
            "patient",
            "patient_name",
            "doctor",
            "doctor_name",
            "every_weeks",
            "count",
            "until",
            "status",
            "created_at",
            "appointments",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentStatusChange
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class RejectSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)


class CancelSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RescheduleSerializer(InputSerializer):
    slot = StrictUUIDField()
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="The new appointment's reason; the old one's when left out.",
    )


class CompleteSerializer(InputSerializer):
    diagnosis = serializers.CharField(max_length=10000, allow_blank=True)
    treatment_notes = serializers.CharField(max_length=10000, allow_blank=True)


class FeedbackCreateSerializer(InputSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comments = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FeedbackSerializer(serializers.ModelSerializer):
    """Feedback as the public sees it: no patient identity."""

    class Meta:
        model = Feedback
        fields = ["rating", "comments", "created_at"]
        read_only_fields = fields


class PenaltySerializer(serializers.ModelSerializer):
    class Meta:
        model = Penalty
        fields = [
            "id",
            "patient",
            "appointment",
            "kind",
            "created_at",
            "email_sent",
            "resolved",
            "resolved_at",
        ]
        read_only_fields = fields


class EncounterSerializer(serializers.ModelSerializer):
    appointment = serializers.UUIDField(source="pk", read_only=True)
    doctor_name = FullNameField("doctor")

    class Meta:
        model = Appointment
        fields = ["appointment", "start", "doctor", "doctor_name", "diagnosis", "treatment_notes"]
        read_only_fields = fields


class MedicalRecordSerializer(serializers.Serializer):
    patient = serializers.UUIDField(source="pk", read_only=True)
    allergies = serializers.CharField(read_only=True)
    medical_history = serializers.CharField(read_only=True)
    insurance_provider = serializers.CharField(read_only=True)
    insurance_policy_number = serializers.CharField(read_only=True)
    encounters = EncounterSerializer(many=True, read_only=True)


class MedicalRecordUpdateSerializer(InputSerializer):
    allergies = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    medical_history = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    insurance_provider = serializers.CharField(max_length=200, required=False, allow_blank=True)
    insurance_policy_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )


class DoctorBlacklistSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)
    cancel_upcoming = serializers.BooleanField(required=False, default=False)
