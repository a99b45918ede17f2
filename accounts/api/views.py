from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.api.serializers import (
    LogoutSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    TokenPairSerializer,
)
from accounts.services import user_password_change
from audit.services import audit_record
from core.api.throttling import AnonThrottle, ScopedThrottle
from core.openapi.error_envelopes import error_responses


@extend_schema(
    tags=["auth"],
    summary="Sign in",
    description=(
        "Exchange a username and password for an access and a refresh token. The access token "
        "carries the user's `role`. Inactive or blacklisted accounts get 401. After "
        "`LOGIN_FAILURE_LIMIT` failures for one username or address within "
        "`LOGIN_FAILURE_WINDOW`, the endpoint answers 429 with `Retry-After`, even for the "
        "right password."
    ),
    # No authentication class runs here, but wrong credentials are a 401 all the same.
    responses={200: TokenPairSerializer, **error_responses(InvalidToken)},
)
class TokenObtainView(jwt_views.TokenObtainPairView):
    throttle_classes = [AnonThrottle, ScopedThrottle]
    throttle_scope = "sign_in"

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        # simplejwt's sign-in serializer keeps the user it authenticated.
        user = serializer.user  # type: ignore[attr-defined]
        audit_record(action="sign_in", target_type="user", target_id=user.pk, actor=user)
        return Response(serializer.validated_data)


@extend_schema(
    tags=["auth"],
    summary="Refresh the token pair",
    description="Rotates the refresh token: the old one is blacklisted and cannot be used again.",
    responses={200: TokenPairSerializer, **error_responses(InvalidToken)},
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    throttle_classes = [AnonThrottle, ScopedThrottle]
    throttle_scope = "sign_in"


@extend_schema(tags=["auth"])
class LogoutView(GenericAPIView):
    serializer_class = LogoutSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Sign out", responses={204: OpenApiResponse(description="Signed out")})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
                raise InvalidToken("The refresh token belongs to another user.")
            token.blacklist()
        except TokenError as error:
            raise InvalidToken(str(error)) from error
        audit_record(action="logout", target_type="user", target_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeView(GenericAPIView):
    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="The signed-in user")
    def get(self, request):
        return Response(self.get_serializer(request.user).data)


@extend_schema(tags=["auth"])
class PasswordChangeView(GenericAPIView):
    serializer_class = PasswordChangeSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change the password",
        description="Every outstanding refresh token of the user is blacklisted, and live access "
        "tokens stop working.",
        responses={204: OpenApiResponse(description="Password changed")},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_change(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
