from django.utils import timezone
from rest_framework import serializers

from accounts.api.serializers import UsernameField
from accounts.models import User
from core.api.fields import (
    BoundedDateField,
    NameField,
    NewPasswordField,
    ShortDurationField,
    TimeZoneField,
)
from core.api.input_serializers import InputSerializer
from patients.models import Gender, Patient


class PatientSerializer(serializers.ModelSerializer):
    """What the patient and admins see of a patient (medical details are on the record)."""

    id = serializers.UUIDField(source="pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    time_zone = serializers.CharField(
        source="user.time_zone",
        read_only=True,
        help_text="The IANA time zone the patient reads times in.",
    )
    reminder_lead_times = serializers.ListField(
        child=ShortDurationField(),
        source="reminder_lead_times_wanted",
        read_only=True,
        help_text="How long before a confirmed appointment the patient is reminded, longest "
        "first: the clinic's lead times less those the patient turned off.",
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "contact_number",
            "insurance_provider",
            "insurance_policy_number",
            "time_zone",
            "reminder_lead_times",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientForDoctorSerializer(PatientSerializer):
    """What a doctor sees of their patient: contact details, no insurance."""

    class Meta(PatientSerializer.Meta):
        fields = [
            f
            for f in PatientSerializer.Meta.fields
            if f not in ("insurance_provider", "insurance_policy_number", "reminder_lead_times")
        ]
        read_only_fields = fields


def patient_profile_render(user: User) -> dict | None:
    patient = Patient.objects.select_related("user").filter(pk=user.pk).first()
    return PatientSerializer(patient).data if patient else None


def _date_of_birth_validate(value):
    if value > timezone.localdate():
        raise serializers.ValidationError("The date of birth cannot be in the future.")
    if value.year < 1900:
        raise serializers.ValidationError("The date of birth must be after 1900.")
    return value


class PatientRegisterSerializer(InputSerializer):
    username = UsernameField()
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField()
    first_name = NameField(max_length=150)
    last_name = NameField(max_length=150)
    date_of_birth = BoundedDateField(validators=[_date_of_birth_validate])
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    contact_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    insurance_provider = serializers.CharField(max_length=200, required=False, allow_blank=True)
    insurance_policy_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    time_zone = TimeZoneField(
        required=False,
        help_text="The IANA time zone the patient reads times in (emails, in-app messages); "
        "the clinic's when not given.",
    )


class PatientUpdateSerializer(PatientRegisterSerializer):
    """The fields a patient (or an admin) may change, all optional (used with `partial`).
    `role`, `is_active` and ids are not among them, so sending those changes nothing."""

    # DRF's way to leave out an inherited field.
    username = None  # type: ignore[assignment]
    password = None  # type: ignore[assignment]
    reminder_lead_times = serializers.ListField(
        child=ShortDurationField(),
        required=False,
        allow_null=True,
        max_length=10,
        help_text="Which of the clinic's reminder lead times the patient wants: `[]` for no "
        "reminders, null for all of them (the default). Each must be one the clinic offers.",
    )
