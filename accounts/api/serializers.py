from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.models import Role, User
from accounts.profiles import profile_render
from config.serializers import InputSerializer, RejectUnknownFieldsMixin


class TokenObtainSerializer(RejectUnknownFieldsMixin, jwt_serializers.TokenObtainPairSerializer):
    """`{username, password}` → `{access, refresh}`; both tokens carry the user's `role`."""

    @classmethod
    def get_token(cls, user: User):
        token = super().get_token(user)
        token["role"] = Role.ADMIN if user.is_admin else user.role
        return token


class TokenRefreshSerializer(RejectUnknownFieldsMixin, jwt_serializers.TokenRefreshSerializer):
    """Rotation with the old refresh token blacklisted; a deleted or inactive user gets 401."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return super().validate(attrs)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutSerializer(InputSerializer):
    refresh = serializers.CharField()


class PasswordChangeSerializer(InputSerializer):
    old_password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    new_password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class MeSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    profile = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "profile"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, user: User) -> str:
        return Role.ADMIN if user.is_admin else user.role

    @extend_schema_field(
        serializers.DictField(
            allow_null=True,
            help_text="The doctor's or patient's profile, as `GET /doctors/{id}/` or "
            "`GET /patients/{id}/` shows it to its owner; null for admins.",
        )
    )
    def get_profile(self, user: User):
        return profile_render(user=user)
