import unicodedata
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

from core.clinic_time import clinic_zone_name, time_zone_validate
from core.validators import NameCharactersValidator


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    DOCTOR = "doctor", "Doctor"
    ADMIN = "admin", "Admin"


def username_fold(username: str) -> str:
    """What makes usernames the same: equal after compatibility normalisation and case folding
    (Unicode's NFKC_Casefold, but for removing ignorable characters, which no username holds),
    so `ALICE.MORGAN` and `alice.morgan` in fullwidth letters (U+FF41...) are `alice.morgan`."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


class CareSlotUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        """The account a username names, however it is cased or written (sign-in goes through
        here, by Django's ModelBackend)."""
        if username is None:
            raise self.model.DoesNotExist("No username given.")
        return self.get(username_folded=username_fold(username))

    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra_fields: Any,
    ) -> "User":
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


def full_name(first_name: str, last_name: str) -> str:
    """A person's name as `User.get_full_name` writes it, from the two columns."""
    return f"{first_name} {last_name}".strip()


class User(AbstractUser):
    """A person who signs in: a patient, a doctor or a clinic administrator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # `username` (AbstractUser's) is kept as written, after NFKC; what must be unique, and what
    # sign-in and its lockout look up, is its folded form.
    username_folded = models.TextField(
        unique=True,
        editable=False,
        help_text="The username after NFKC and case folding (`username_fold`), kept by `save`.",
    )
    first_name = models.CharField(
        "first name", max_length=150, blank=True, validators=[NameCharactersValidator()]
    )
    last_name = models.CharField(
        "last name", max_length=150, blank=True, validators=[NameCharactersValidator()]
    )
    email = models.EmailField("email address")  # unique, ignoring case: see Meta
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    time_zone = models.CharField(
        max_length=64,
        default=clinic_zone_name,
        validators=[time_zone_validate],
        help_text="The IANA time zone this person reads times in (emails, in-app messages); "
        "the clinic's by default.",
    )
    token_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised each time every token of the user is revoked (a blacklisting, a "
        "password change, a deactivation); tokens carry the generation they were issued in "
        "and an older one is refused for good (accounts.api.authentication).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[CareSlotUserManager] = CareSlotUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Derived from the username, so written whenever the username is.
        self.username_folded = username_fold(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_folded"}
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def is_admin(self) -> bool:
        """A Django superuser counts as an admin whatever its role (docs/api.md, "Roles and who
        sees what")."""
        return self.role == Role.ADMIN or self.is_superuser

    def has_perm(self, perm, obj=None) -> bool:
        """Clinic administrators hold every permission of the admin site, as superusers do;
        what the site lets anyone change by hand is limited by the ModelAdmins themselves."""
        if self.is_active and self.role == Role.ADMIN:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        if self.is_active and self.role == Role.ADMIN:
            return True
        return super().has_module_perms(app_label)

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT and not self.is_superuser

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR and not self.is_superuser


class LoginFailure(models.Model):
    """One failed sign-in, kept for the lockout window (see `accounts.services`)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"]),
            models.Index(fields=["ip", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.username or '-'} from {self.ip or '?'} at {self.at:%Y-%m-%d %H:%M}"
