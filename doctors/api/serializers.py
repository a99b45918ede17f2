from rest_framework import serializers

from accounts.api.serializers import UsernameField
from accounts.models import User
from core.api.fields import (
    FreeTextField,
    NameField,
    NewPasswordField,
    ShortDurationField,
    TimeZoneField,
)
from core.api.input_serializers import InputSerializer, ModelInputSerializer
from doctors.models import Doctor, Specialization


class SpecializationSerializer(ModelInputSerializer):
    name = NameField(max_length=100)

    class Meta:
        model = Specialization
        fields = ["id", "name"]
        read_only_fields = ["id"]


class DoctorSerializer(serializers.ModelSerializer):
    """The public directory entry: no email, no account details."""

    id = serializers.UUIDField(source="pk", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    specialization_name = serializers.CharField(source="specialization.name", read_only=True)
    rating = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        coerce_to_string=False,
        help_text="Mean of the patients' ratings (1-5); null until the first rating.",
    )
    cancel_cutoff = ShortDurationField(
        source="cancel_cutoff_effective",
        read_only=True,
        help_text="How long before an appointment a patient's cancellation becomes late "
        "(`0m`: never): the doctor's own, else the clinic's `CANCEL_CUTOFF`.",
    )
    reschedule_cutoff = ShortDurationField(
        source="reschedule_cutoff_effective",
        read_only=True,
        help_text="How long before an appointment a patient's reschedule becomes late "
        "(`0m`: never): the doctor's own, else the clinic's `RESCHEDULE_CUTOFF`.",
    )

    class Meta:
        model = Doctor
        fields = [
            "id",
            "first_name",
            "last_name",
            "specialization",
            "specialization_name",
            "license_number",
            "years_of_experience",
            "rating",
            "rating_count",
            "bio",
            "requires_approval",
            "cancel_cutoff",
            "reschedule_cutoff",
        ]
        read_only_fields = fields


class DoctorPrivateSerializer(DoctorSerializer):
    """What the doctor and admins see: the directory entry plus the account and its standing."""

    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    time_zone = serializers.CharField(
        source="user.time_zone",
        read_only=True,
        help_text="The IANA time zone the doctor reads times in.",
    )

    class Meta(DoctorSerializer.Meta):
        fields = [
            *DoctorSerializer.Meta.fields,
            "username",
            "email",
            "time_zone",
            "is_blacklisted",
            "blacklisted_at",
            "blacklist_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def doctor_profile_render(user: User) -> dict | None:
    doctor = Doctor.objects.select_related("user", "specialization").filter(pk=user.pk).first()
    return DoctorPrivateSerializer(doctor).data if doctor else None


class DoctorCreateSerializer(InputSerializer):
    username = UsernameField()
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField()
    first_name = NameField(max_length=150)
    last_name = NameField(max_length=150)
    specialization = serializers.PrimaryKeyRelatedField(queryset=Specialization.objects.all())
    license_number = serializers.CharField(max_length=64)
    years_of_experience = serializers.IntegerField(min_value=0, max_value=80)
    bio = FreeTextField(required=False, allow_blank=True, max_length=4000)
    requires_approval = serializers.BooleanField(required=False, default=True)
    time_zone = TimeZoneField(
        required=False,
        help_text="The IANA time zone the doctor reads times in; the clinic's when not given.",
    )


class DoctorSelfUpdateSerializer(InputSerializer):
    """What a doctor may change about themselves."""

    bio = FreeTextField(required=False, allow_blank=True, max_length=4000)
    requires_approval = serializers.BooleanField(required=False)
    time_zone = TimeZoneField(
        required=False, help_text="The IANA time zone the doctor reads times in."
    )
    cancel_cutoff = ShortDurationField(
        allow_zero=True,
        required=False,
        allow_null=True,
        help_text="How long before an appointment a patient's cancellation becomes late, such "
        "as `24h` (`0h`: never); null for the clinic's `CANCEL_CUTOFF`.",
    )
    reschedule_cutoff = ShortDurationField(
        allow_zero=True,
        required=False,
        allow_null=True,
        help_text="How long before an appointment a patient's reschedule becomes late, such "
        "as `24h` (`0h`: never); null for the clinic's `RESCHEDULE_CUTOFF`.",
    )


class DoctorAdminUpdateSerializer(DoctorSelfUpdateSerializer):
    first_name = NameField(required=False, max_length=150)
    last_name = NameField(required=False, max_length=150)
    email = serializers.EmailField(required=False, max_length=254)
    specialization = serializers.PrimaryKeyRelatedField(
        queryset=Specialization.objects.all(), required=False
    )
    license_number = serializers.CharField(required=False, max_length=64)
    years_of_experience = serializers.IntegerField(required=False, min_value=0, max_value=80)
