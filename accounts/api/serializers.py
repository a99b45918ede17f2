from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.api.authentication import token_generation_claim_set, token_revoked_check
from accounts.exceptions import SignInLockedOut
from accounts.models import Role, User
from accounts.profiles import profile_render
from accounts.services import login_lockout_remaining, refresh_token_rotate
from core.api.fields import NewPasswordField
from core.api.input_serializers import InputSerializer, StrictInputMixin
from core.request import client_ip

# Bounds on what the auth endpoints read: a username as long as the model allows; a password
# being checked up to Django's old hashing-DoS bound (an account made outside the API may have
# a longer one than a new password may be); a token far longer than any this API issues.
USERNAME_MAX_LENGTH = 150
PASSWORD_MAX_LENGTH = 4096
TOKEN_MAX_LENGTH = 2000
# Not: controls, space and !"#$%&'()*, comma, slash, :;<=>?, [\]^, backtick, {|}~ and DEL.
USERNAME_PORTABLE_PATTERN = (
    r"^[^\u0000-\u002a\u002c\u002f\u003a-\u003f\u005b-\u005e\u0060\u007b-\u007f]+$"
)


@extend_schema_field(
    {
        "type": "string",
        # User.username_validator's `\w` is Unicode's, which only `\p{L}\p{N}` could state, and
        # neither Python's `re` nor JavaScript without the `u` flag reads that: the pattern
        # refuses the ASCII characters the validator refuses, the description says the rest.
        "pattern": USERNAME_PORTABLE_PATTERN,
        "maxLength": USERNAME_MAX_LENGTH,
        "description": "Letters and digits (any script's), `_`, `.`, `@`, `+` and `-`; no other "
        "character.",
    }
)
class UsernameField(serializers.CharField):
    """A new account's username: letters, digits and @/./+/-/_ only, taken as typed but in
    NFKC form (`alice` in fullwidth letters becomes `alice`), as Django's own forms take it.
    Unique however cased or written (`accounts.models.username_fold`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        kwargs.setdefault("validators", [User.username_validator])
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return User.normalize_username(super().to_internal_value(data))


class TokenObtainSerializer(StrictInputMixin, jwt_serializers.TokenObtainPairSerializer):
    """`{username, password}` → `{access, refresh}`; both tokens carry the user's `role`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = serializers.CharField(
            write_only=True, max_length=USERNAME_MAX_LENGTH
        )
        self.fields["password"] = jwt_serializers.PasswordField(max_length=PASSWORD_MAX_LENGTH)

    def validate(self, attrs):
        # After the fields (a NUL or a number never reaches a query), before the password: a
        # locked-out username or address is refused whatever the password (429, Retry-After).
        remaining = login_lockout_remaining(
            username=attrs[self.username_field], ip=client_ip(self.context["request"])
        )
        if remaining is not None:
            raise SignInLockedOut(wait=max(1, int(remaining.total_seconds())))
        return super().validate(attrs)

    @classmethod
    # simplejwt types the user as a TypeVar (AuthUser) of the whole class; this one is a User.
    def get_token(cls, user: User) -> Token:  # type: ignore[override]
        token = super().get_token(user)
        token["role"] = Role.ADMIN if user.is_admin else user.role
        token_generation_claim_set(token=token, user=user)
        return token


class TokenRefreshSerializer(StrictInputMixin, jwt_serializers.TokenRefreshSerializer):
    """Rotation: the refresh token is spent (blacklisted) and a new pair issued. A token is
    spent once: of concurrent requests with it, one gets the new pair and the others 401. A
    deleted or inactive user, or a token revoked since it was issued (by a password change, a
    blacklisting or a deactivation), gets 401."""

    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)

    def validate(self, attrs):
        # Signature, expiry and type; a token already spent is refused here without a write.
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(
                str(self.error_messages["no_active_account"]), "no_active_account"
            )
        token_revoked_check(token=refresh, user=user)
        successor = refresh_token_rotate(refresh=refresh, user=user)
        return {"access": str(successor.access_token), "refresh": str(successor)}


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class PasswordChangeSerializer(InputSerializer):
    old_password = serializers.CharField(
        style={"input_type": "password"}, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH
    )
    new_password = NewPasswordField()


class MeSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    profile = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "time_zone",
            "profile",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, user: User) -> str:
        return Role.ADMIN if user.is_admin else user.role

    @extend_schema_field(
        # By reference: `accounts` cannot import the serializers of `patients` and `doctors`
        # (accounts.profiles), whose endpoints put these components in the schema.
        {
            # No `type` beside `nullable`: with one, openapi-python-client drops the null.
            "oneOf": [
                {"$ref": "#/components/schemas/Patient"},
                {"$ref": "#/components/schemas/DoctorPrivate"},
            ],
            "nullable": True,
            "description": "The patient's or the doctor's profile, as `GET /patients/{id}/` or "
            "`GET /doctors/{id}/` shows it to its owner; null for admins.",
        }
    )
    def get_profile(self, user: User):
        return profile_render(user=user)
