from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.models import Appointment, AppointmentStatusChange
from config.fields import AwareDateTimeField, StrictUUIDField
from doctors.models import Doctor
from patients.models import Patient


class AppointmentSerializer(serializers.ModelSerializer):
    patient_name = serializers.SerializerMethodField()
    doctor_name = serializers.SerializerMethodField()

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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_patient_name(self, appointment: Appointment) -> str:
        return appointment.patient.user.get_full_name()

    @extend_schema_field(serializers.CharField())
    def get_doctor_name(self, appointment: Appointment) -> str:
        return appointment.doctor.user.get_full_name()


class AppointmentDetailSerializer(AppointmentSerializer):
    """One appointment as its patient, its doctor and admins see it, clinical notes included."""

    class Meta(AppointmentSerializer.Meta):
        fields = [*AppointmentSerializer.Meta.fields, "diagnosis", "treatment_notes"]
        read_only_fields = fields


class AppointmentBookSerializer(serializers.Serializer):
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

    def validate(self, attrs):
        if attrs["override"]:
            missing = [f for f in ("doctor", "start", "end") if f not in attrs]
            if missing:
                raise serializers.ValidationError({f: ["Required with override."] for f in missing})
        elif "slot" not in attrs:
            raise serializers.ValidationError({"slot": ["This field is required."]})
        return attrs


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentStatusChange
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields
