from rest_framework import serializers

from core.api.fields import AwareDateTimeField, BoundedDateField, LocalTimeField
from core.api.input_serializers import InputSerializer
from core.openapi.strict_input import BodyShape
from doctors.models import Doctor, Specialization
from patients.models import Patient
from waitlist.models import WaitlistEntry, WaitlistOffer


class WaitlistJoinSerializer(InputSerializer):
    """Join the waitlist for a doctor or a specialization (exactly one), for slots on the
    clinic-local days `date_from` to `date_to`, optionally between `earliest_time` and
    `latest_time` (clinic wall times)."""

    doctor = serializers.PrimaryKeyRelatedField(queryset=Doctor.objects.all(), required=False)
    specialization = serializers.PrimaryKeyRelatedField(
        queryset=Specialization.objects.all(), required=False
    )
    date_from = BoundedDateField()
    date_to = BoundedDateField()
    earliest_time = LocalTimeField(required=False)
    latest_time = LocalTimeField(required=False)
    expires_at = AwareDateTimeField(
        required=False, help_text="When the entry stops waiting; by default the end of date_to."
    )
    patient = serializers.PrimaryKeyRelatedField(
        queryset=Patient.objects.all(), required=False, help_text="Admins only, and required."
    )

    # The two bodies the join accepts, as the schema states them (core.openapi.strict_input);
    # the service refuses both or neither (400 on `doctor`).
    body_shapes = [
        BodyShape(
            name="WaitlistJoinForDoctorRequest",
            required=("doctor", "date_from", "date_to"),
            without=("specialization",),
        ),
        BodyShape(
            name="WaitlistJoinForSpecializationRequest",
            required=("specialization", "date_from", "date_to"),
            without=("doctor",),
        ),
    ]


class WaitlistEntrySerializer(serializers.ModelSerializer):
    # Clinic wall times without an offset, as weekly rules' (OpenAPI's `time` requires one).
    earliest_time = LocalTimeField(read_only=True, allow_null=True)
    latest_time = LocalTimeField(read_only=True, allow_null=True)

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "doctor",
            "specialization",
            "date_from",
            "date_to",
            "earliest_time",
            "latest_time",
            "expires_at",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class WaitlistOfferSerializer(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="slot.doctor_id", read_only=True)
    start = serializers.DateTimeField(source="slot.start", read_only=True)
    end = serializers.DateTimeField(source="slot.end", read_only=True)

    class Meta:
        model = WaitlistOffer
        fields = [
            "id",
            "entry",
            "patient",
            "slot",
            "doctor",
            "start",
            "end",
            "expires_at",
            "status",
            "appointment",
            "created_at",
        ]
        read_only_fields = fields
