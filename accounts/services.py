"""Writes about accounts: sign-in failures, passwords, refresh-token revocation."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.exceptions import EmailTaken, UsernameTaken, WrongPassword
from accounts.models import LoginFailure, User, username_fold
from accounts.signals import account_reactivated
from audit.services import (
    REQUEST_USER,
    audit_model_create,
    audit_model_delete,
    audit_model_update,
    audit_record,
    encrypted_fields,
    field_changes,
    model_values,
)
from core.errors import FieldInvalid, FieldsInvalid
from core.locks import locking_transaction


def password_validate(*, password: str, user: User, attr: str = "password") -> None:
    """Django's password validators, reported as a 400 on the field `attr`."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise FieldsInvalid(
            FieldInvalid(message, attr=attr) for message in error.messages
        ) from error


def _lockout_username(username: str) -> str:
    """The username a failure counts against: its folded form, so `ALICE` and `alice` are one
    (cut to the column's length)."""
    return username_fold(username)[: LoginFailure._meta.get_field("username").max_length]


def login_lockout_remaining(*, username: str | None, ip: str | None) -> timedelta | None:
    """How long this username or address stays locked out, or None when it may try.

    Locked: `LOGIN_FAILURE_LIMIT` failures for the username (however cased or written), or for
    the address, within the last `LOGIN_FAILURE_WINDOW`; the lock lasts until the oldest of
    those failures ages out.
    """
    if not settings.RATE_LIMITS_ENABLED:
        return None
    now = timezone.now()
    since = now - settings.LOGIN_FAILURE_WINDOW
    limit = settings.LOGIN_FAILURE_LIMIT
    for key in (
        Q(username=_lockout_username(username)) if username else None,
        Q(ip=ip) if ip else None,
    ):
        if key is None:
            continue
        recent = list(
            LoginFailure.objects.filter(key, at__gte=since)
            .order_by("-at")
            .values_list("at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            return recent[-1] + settings.LOGIN_FAILURE_WINDOW - now
    return None


def login_failure_record(*, username: str | None, ip: str | None) -> None:
    """Remember one failed sign-in (and audit it, with the username as typed), and forget
    those older than the window."""
    LoginFailure.objects.create(username=_lockout_username(username or ""), ip=ip)
    user = (
        User.objects.filter(username_folded=username_fold(username)).first() if username else None
    )
    audit_record(
        action="sign_in_failed",
        target_type="user",
        target_id=user.pk if user else "",
        changes={"username": (username or "")[:150]},
        actor=None,
    )
    LoginFailure.objects.filter(at__lt=timezone.now() - settings.LOGIN_FAILURE_WINDOW).delete()


def user_tokens_revoke(*, user: User) -> int:
    """End every token `user` holds, for good; returns how many refresh tokens were blacklisted.

    Raises the user's token generation: tokens carry the generation they were issued in, and
    the API refuses an older one (accounts.api.authentication), access and refresh tokens
    alike, whatever later happens to the account or to a token's blacklisting. A token issued
    after this, even within the same second, carries the new generation and works. Every
    outstanding refresh token is blacklisted as well. Runs in the caller's transaction; the
    increment is one UPDATE, so concurrent revocations each count.
    """
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.refresh_from_db(fields=["token_generation"])
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def refresh_token_rotate(*, refresh: RefreshToken, user: User) -> RefreshToken:
    """Spend `user`'s verified refresh token and return its successor: the same claims under a
    new id, issue time and expiry, outstanding from now on.

    A refresh token is spent once. Spending it inserts its blacklist row, which the row's
    one-to-one unique constraint admits once: of any number of concurrent rotations of one
    token, one inserts and the others wait for it to commit, then meet the constraint and are
    refused as the token's reuse would be (TokenError "Token is blacklisted", a 401). The
    successor is recorded in the same transaction, so a failure leaves the old token unspent.
    """
    with transaction.atomic():
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=refresh[jwt_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "token": str(refresh),
                "created_at": datetime_from_epoch(refresh["iat"]),
                "expires_at": datetime_from_epoch(refresh["exp"]),
            },
        )
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError as error:
            raise TokenError("Token is blacklisted") from error
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
    return refresh


def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Change a password after checking the old one and Django's validators.

    Every token issued before the change stops working for good (`user_password_save`).
    """
    if not user.check_password(old_password):
        raise WrongPassword()
    password_validate(password=new_password, user=user, attr="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user_password_save(user=user, actor=user)


def user_password_save(*, user: User, actor: Any = REQUEST_USER) -> None:
    """Save the password just set on `user` (`set_password`, or `set_unusable_password` in the
    admin site), revoke every token the account holds (`user_tokens_revoke`) and audit it."""
    with transaction.atomic():
        user.save(update_fields=["password", "updated_at"])
        revoked = user_tokens_revoke(user=user)
        audit_record(
            action="password_change",
            target_type="user",
            target_id=user.pk,
            changes={"refresh_tokens_revoked": revoked},
            actor=actor,
        )


def user_identity_unique_check(
    *, username: str | None = None, email: str | None = None, exclude: User | None = None
) -> None:
    """A taken username or email (ignoring case; for usernames, Unicode compatibility forms
    too) is a 400 on that field."""
    errors: list[FieldInvalid] = []
    users = User.objects.exclude(pk=exclude.pk) if exclude else User.objects.all()
    if username is not None and users.filter(username_folded=username_fold(username)).exists():
        errors.append(UsernameTaken())
    if email is not None and users.filter(email__iexact=email).exists():
        errors.append(EmailTaken())
    if errors:
        raise FieldsInvalid(errors)


def user_create(
    *,
    role: str,
    username: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    time_zone: str | None = None,
) -> User:
    """Create an account of `role`, for the caller to give a profile in its own transaction.

    The username is kept in NFKC form. Username (however cased or written) and email are
    checked for a clear 400 on the field, the password by Django's validators. Two
    registrations of one name racing past the check meet the database's unique constraints;
    callers turn that IntegrityError into the same 400 with `user_identity_unique_check` once
    the winner has committed.
    """
    username = User.normalize_username(username)
    user_identity_unique_check(username=username, email=email)
    user = User(
        role=role, username=username, email=email, first_name=first_name, last_name=last_name
    )
    if time_zone is not None:
        user.time_zone = time_zone
    password_validate(password=password, user=user)
    user.set_password(password)
    user.save()
    audit_model_create(
        instance=user,
        fields=["username", "email", "role", "first_name", "last_name", "time_zone"],
    )
    return user


# What a profile update may change on the account itself; the rest goes to the profile.
USER_FIELDS = frozenset({"first_name", "last_name", "email", "time_zone"})


def user_and_profile_update(
    *, profile: Model, profile_fields: frozenset[str], changes: dict[str, Any]
) -> None:
    """Apply `changes` to a role profile (`profile.user` is its account) in one transaction.

    Name, email and time zone changes go to the account, the rest to the profile; any other key is a
    programming error. A taken email is a 400 on `email`, also when a concurrent change
    takes it first. No changes (an empty PATCH) write nothing, not even `updated_at`.
    """
    unknown = set(changes) - USER_FIELDS - profile_fields
    if unknown:
        raise ValueError(f"not fields of {type(profile).__name__}: {sorted(unknown)}")
    if not changes:
        return
    # A role profile (a doctor's or a patient's), whose app this one may not import.
    user: User = profile.user  # type: ignore[attr-defined]
    if "email" in changes:
        user_identity_unique_check(email=changes["email"], exclude=user)
    user_changes = {k: v for k, v in changes.items() if k in USER_FIELDS}
    profile_changes = {k: v for k, v in changes.items() if k in profile_fields}
    before = {**model_values(user, user_changes), **model_values(profile, profile_changes)}
    try:
        # The profile's row before its user's: the order every service locks in (core.locks).
        with locking_transaction():
            for field, value in profile_changes.items():
                setattr(profile, field, value)
            profile.save(update_fields=[*profile_changes, "updated_at"])
            for field, value in user_changes.items():
                setattr(user, field, value)
            if user_changes:
                user.save(update_fields=[*user_changes, "updated_at"])
            after = {**model_values(user, user_changes), **model_values(profile, profile_changes)}
            changed = field_changes(
                before=before, after=after, secret=encrypted_fields(type(profile))
            )
            if changed:
                audit_record(
                    action="update",
                    target_type=type(profile).__name__.lower(),
                    target_id=profile.pk,
                    changes=changed,
                )
    except IntegrityError:
        user_identity_unique_check(email=changes.get("email"), exclude=user)
        raise


USER_AUDITED_FIELDS = [
    "username",
    "email",
    "first_name",
    "last_name",
    "time_zone",
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
]


def user_save(*, user: User) -> User:
    """Save an account as staff edited it in the admin site, auditing what changed (the API
    changes accounts only through the patient and doctor services).

    An existing account is written in the fields the admin's form edits and no others, so a
    password or token generation changed meanwhile is not put back. Deactivating it revokes
    every token it holds (`user_tokens_revoke`). Re-activating it sends `account_reactivated`
    in this transaction, before the account's row is written and locked, for the apps whose
    records bar the account (a blacklisted doctor) to lift that bar through their own services,
    which take their own rows' locks before the account's (as `doctor_blacklist` does).
    """
    with transaction.atomic():
        if user._state.adding:
            user.save()
            audit_model_create(instance=user, fields=USER_AUDITED_FIELDS)
            return user
        stored = User.objects.get(pk=user.pk)
        before = model_values(stored, USER_AUDITED_FIELDS)
        if user.is_active and not stored.is_active:
            account_reactivated.send(sender=User, user=user)
        user.save(update_fields=[*USER_AUDITED_FIELDS, "updated_at"])
        revoked: dict[str, Any] = {}
        if stored.is_active and not user.is_active:
            revoked = {"refresh_tokens_revoked": user_tokens_revoke(user=user)}
        audit_model_update(instance=user, before=before, **revoked)
    return user


def user_delete(*, user: User) -> None:
    """Delete an account from the admin site (deactivating is the usual way), audited."""
    with transaction.atomic():
        audit_model_delete(instance=user, fields=USER_AUDITED_FIELDS)
        user.delete()
