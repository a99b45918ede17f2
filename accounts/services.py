"""Writes about accounts: sign-in failures, passwords, refresh-token revocation."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.exceptions import EmailTaken, UsernameTaken, WrongPassword
from accounts.models import LoginFailure, User
from audit.services import (
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


def login_lockout_remaining(*, username: str | None, ip: str | None) -> timedelta | None:
    """How long this username or address stays locked out, or None when it may try.

    Locked: `LOGIN_FAILURE_LIMIT` failures for the username, or for the address, within the
    last `LOGIN_FAILURE_WINDOW`; the lock lasts until the oldest of those failures ages out.
    """
    if not settings.RATE_LIMITS_ENABLED:
        return None
    now = timezone.now()
    since = now - settings.LOGIN_FAILURE_WINDOW
    limit = settings.LOGIN_FAILURE_LIMIT
    for key in (Q(username=username) if username else None, Q(ip=ip) if ip else None):
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
    """Remember one failed sign-in (and audit it), and forget those older than the window."""
    LoginFailure.objects.create(username=(username or "")[:150], ip=ip)
    user = User.objects.filter(username=username).first() if username else None
    audit_record(
        action="sign_in_failed",
        target_type="user",
        target_id=user.pk if user else "",
        changes={"username": (username or "")[:150]},
        actor=None,
    )
    LoginFailure.objects.filter(at__lt=timezone.now() - settings.LOGIN_FAILURE_WINDOW).delete()


def user_refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token of `user` that is not yet blacklisted; returns how many."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Change a password after checking the old one and Django's validators.

    Every outstanding refresh token is blacklisted, and because access tokens carry a hash of
    the password (`CHECK_REVOKE_TOKEN`), live access tokens stop working too.
    """
    if not user.check_password(old_password):
        raise WrongPassword()
    password_validate(password=new_password, user=user, attr="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        revoked = user_refresh_tokens_revoke(user=user)
        audit_record(
            action="password_change",
            target_type="user",
            target_id=user.pk,
            changes={"refresh_tokens_revoked": revoked},
            actor=user,
        )


def user_identity_unique_check(
    *, username: str | None = None, email: str | None = None, exclude: User | None = None
) -> None:
    """A taken username or email (ignoring case) is a 400 on that field."""
    errors: list[FieldInvalid] = []
    users = User.objects.exclude(pk=exclude.pk) if exclude else User.objects.all()
    if username is not None and users.filter(username=username).exists():
        errors.append(UsernameTaken())
    if email is not None and users.filter(email__iexact=email).exists():
        errors.append(EmailTaken())
    if errors:
        raise FieldsInvalid(errors)


def user_create(
    *, role: str, username: str, email: str, password: str, first_name: str, last_name: str
) -> User:
    """Create an account of `role`, for the caller to give a profile in its own transaction.

    Username and email are checked for a clear 400 on the field, the password by Django's
    validators. Two registrations of one name racing past the check meet the database's
    unique constraints; callers turn that IntegrityError into the same 400 with
    `user_identity_unique_check` once the winner has committed.
    """
    user_identity_unique_check(username=username, email=email)
    user = User(
        role=role, username=username, email=email, first_name=first_name, last_name=last_name
    )
    password_validate(password=password, user=user)
    user.set_password(password)
    user.save()
    audit_model_create(
        instance=user, fields=["username", "email", "role", "first_name", "last_name"]
    )
    return user


USER_NAME_FIELDS = frozenset({"first_name", "last_name", "email"})


def user_and_profile_update(*, profile, profile_fields: frozenset[str], changes: dict) -> None:
    """Apply `changes` to a role profile (`profile.user` is its account) in one transaction.

    Name and email changes go to the account, the rest to the profile; any other key is a
    programming error. A taken email is a 400 on `email`, also when a concurrent change
    takes it first.
    """
    unknown = set(changes) - USER_NAME_FIELDS - profile_fields
    if unknown:
        raise ValueError(f"not fields of {type(profile).__name__}: {sorted(unknown)}")
    user = profile.user
    if "email" in changes:
        user_identity_unique_check(email=changes["email"], exclude=user)
    user_changes = {k: v for k, v in changes.items() if k in USER_NAME_FIELDS}
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
                    target_type=type(profile)._meta.model_name,
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
    "role",
    "is_active",
    "is_staff",
    "is_superuser",
]


def user_save(*, user: User) -> User:
    """Save an account as staff edited it in the admin site, auditing what changed (the API
    changes accounts only through the patient and doctor services)."""
    with transaction.atomic():
        if user._state.adding:
            user.save()
            audit_model_create(instance=user, fields=USER_AUDITED_FIELDS)
        else:
            before = model_values(User.objects.get(pk=user.pk), USER_AUDITED_FIELDS)
            user.save()
            audit_model_update(instance=user, before=before)
    return user


def user_delete(*, user: User) -> None:
    """Delete an account from the admin site (deactivating is the usual way), audited."""
    with transaction.atomic():
        audit_model_delete(instance=user, fields=USER_AUDITED_FIELDS)
        user.delete()
