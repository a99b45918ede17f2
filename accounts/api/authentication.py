"""JWT authentication that also refuses tokens revoked since they were issued.

Each token carries the token generation of its user at issue (claim `gen`; tokens from before
the claim existed count as generation 0). `user_tokens_revoke` raises the user's generation on
a blacklisting, a password change or a deactivation, so every token issued before it is
refused from then on, whatever happens to the account or the token's blacklisting later. A
counter rather than an instant compared with `iat`: `iat` has one-second resolution, which
would make a token issued just after a revocation, in the same second, indistinguishable
from one issued just before it.
"""

from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token

from accounts.models import User

GENERATION_CLAIM = "gen"


def token_generation_claim_set(*, token: Token, user: User) -> None:
    token[GENERATION_CLAIM] = user.token_generation


def token_revoked_check(*, token: Token, user: User) -> None:
    """Refuse `token` (401 `token_not_valid`) if `user`'s tokens were revoked after it was
    issued."""
    if token.get(GENERATION_CLAIM, 0) != user.token_generation:
        raise InvalidToken("Token has been revoked.")


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication (an inactive user is refused), refusing revoked tokens too."""

    # simplejwt types the user as a TypeVar (AuthUser) that no override can name.
    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        # simplejwt reads the account from AUTH_USER_MODEL: a User.
        user = cast(User, super().get_user(validated_token))
        token_revoked_check(token=validated_token, user=user)
        return user


class JWTScheme(SimpleJWTScheme):
    """The schema's `jwtAuth` security scheme, as drf-spectacular describes simplejwt's."""

    target_class = "accounts.api.authentication.JWTAuthentication"


def signed_in_user(request: Request | HttpRequest) -> User:
    """The user of a request that the view lets in only signed in (its permission classes
    have refused anyone else by the time it reads the user)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
