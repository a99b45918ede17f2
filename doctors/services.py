"""Writes about specializations and doctors."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.models import Role
from accounts.services import (
    user_and_profile_update,
    user_create,
    user_identity_unique_check,
    user_tokens_revoke,
)
from audit.services import (
    audit_model_create,
    audit_model_delete,
    audit_model_update,
    model_values,
)
from core.locks import locking_transaction
from doctors.exceptions import (
    LicenseNumberTaken,
    SpecializationInUse,
    SpecializationNameTaken,
)
from doctors.locks import doctor_lock
from doctors.models import Doctor, Specialization
from doctors.signals import doctor_unblacklisted


def _name_unique_check(*, name: str, exclude: Specialization | None = None) -> None:
    taken = Specialization.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise SpecializationNameTaken()


def specialization_create(*, name: str) -> Specialization:
    """Create a specialization; names are unique ignoring case (a 400 on `name`)."""
    _name_unique_check(name=name)
    try:
        with transaction.atomic():
            specialization = Specialization.objects.create(name=name)
            audit_model_create(instance=specialization, fields=["name"])
            return specialization
    except IntegrityError as error:  # a concurrent create of the same name won the race
        raise SpecializationNameTaken() from error


def specialization_update(
    *, specialization: Specialization, name: str | None = None
) -> Specialization:
    """Rename a specialization (names unique ignoring case, as on create). As a PATCH asks, a
    name left out changes nothing and writes nothing."""
    if name is None:
        return specialization
    _name_unique_check(name=name, exclude=specialization)
    try:
        with transaction.atomic():
            before = model_values(specialization, ["name"])
            specialization.name = name
            specialization.save(update_fields=["name"])
            audit_model_update(instance=specialization, before=before)
    except IntegrityError as error:
        raise SpecializationNameTaken() from error
    return specialization


def specialization_delete(*, specialization: Specialization) -> None:
    """Delete a specialization no doctor holds; otherwise 409 `specialization_in_use`."""
    try:
        with transaction.atomic():
            audit_model_delete(instance=specialization, fields=["name"])
            specialization.delete()
    except ProtectedError as error:
        raise SpecializationInUse() from error


def doctor_create(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    specialization: Specialization,
    license_number: str,
    years_of_experience: int,
    bio: str = "",
    requires_approval: bool = True,
    time_zone: str | None = None,
) -> Doctor:
    """Create a doctor's account and profile in one transaction (admin only, by the view).
    Without a `time_zone` the doctor reads times in the clinic's."""
    if Doctor.objects.filter(license_number=license_number).exists():
        raise LicenseNumberTaken()
    try:
        with transaction.atomic():
            user = user_create(
                role=Role.DOCTOR,
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                time_zone=time_zone,
            )
            doctor = Doctor.objects.create(
                user=user,
                specialization=specialization,
                license_number=license_number,
                years_of_experience=years_of_experience,
                bio=bio,
                requires_approval=requires_approval,
            )
            audit_model_create(
                instance=doctor,
                fields=[
                    "specialization",
                    "license_number",
                    "years_of_experience",
                    "bio",
                    "requires_approval",
                ],
            )
            return doctor
    except IntegrityError:
        # A concurrent create took the username, email or license number first.
        user_identity_unique_check(username=username, email=email)
        if Doctor.objects.filter(license_number=license_number).exists():
            raise LicenseNumberTaken() from None
        raise


DOCTOR_PROFILE_FIELDS = frozenset(
    {
        "specialization",
        "license_number",
        "years_of_experience",
        "bio",
        "requires_approval",
        "cancel_cutoff",
        "reschedule_cutoff",
    }
)


def doctor_update(*, doctor: Doctor, **changes: Any) -> Doctor:
    """Update a doctor's profile and name fields; the view decides which fields a caller may
    send (admins: all of these; the doctor: `bio`, `requires_approval`, `time_zone` and the
    cutoffs, None for the clinic's)."""
    license_number = changes.get("license_number")
    if license_number and (
        Doctor.objects.filter(license_number=license_number).exclude(pk=doctor.pk).exists()
    ):
        raise LicenseNumberTaken()
    user_and_profile_update(profile=doctor, profile_fields=DOCTOR_PROFILE_FIELDS, changes=changes)
    return doctor


def doctor_blacklist(*, doctor: Doctor, reason: str) -> Doctor:
    """Bar a doctor: no sign-in, no live token, no bookable slot.

    Locks the doctor's row (`core.locks`), marks it blacklisted and deactivates the account
    (simplejwt refuses an inactive user on every request, so live access tokens fail at once),
    then revokes every token the doctor holds (`user_tokens_revoke`): none of them works again,
    not even after an unblacklisting. Blacklisting a blacklisted doctor again only updates the
    reason.
    """
    with locking_transaction():
        doctor = doctor_lock(doctor_id=doctor.pk)
        before = model_values(doctor, ["is_blacklisted", "blacklist_reason"])
        if not doctor.is_blacklisted:
            doctor.blacklisted_at = timezone.now()
        doctor.is_blacklisted = True
        doctor.blacklist_reason = reason
        doctor.save(
            update_fields=["is_blacklisted", "blacklisted_at", "blacklist_reason", "updated_at"]
        )
        doctor.user.is_active = False
        doctor.user.save(update_fields=["is_active", "updated_at"])
        revoked = user_tokens_revoke(user=doctor.user)
        audit_model_update(
            instance=doctor, before=before, action="blacklist", refresh_tokens_revoked=revoked
        )
    return doctor


def doctor_unblacklist(*, doctor: Doctor) -> Doctor:
    """Undo `doctor_blacklist`: the doctor may sign in again and their free slots are offered
    again (and announced: `doctors.signals.doctor_unblacklisted`). Appointments cancelled by
    the blacklisting stay cancelled, and tokens issued before it stay revoked."""
    with locking_transaction():
        doctor = doctor_lock(doctor_id=doctor.pk)
        before = model_values(doctor, ["is_blacklisted", "blacklist_reason"])
        doctor.is_blacklisted = False
        doctor.blacklisted_at = None
        doctor.blacklist_reason = ""
        doctor.save(
            update_fields=["is_blacklisted", "blacklisted_at", "blacklist_reason", "updated_at"]
        )
        doctor.user.is_active = True
        doctor.user.save(update_fields=["is_active", "updated_at"])
        audit_model_update(instance=doctor, before=before, action="unblacklist")
        doctor_unblacklisted.send(sender=Doctor, doctor=doctor)
    return doctor
