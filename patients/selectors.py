"""Shared reads about patients."""

from uuid import UUID

from django.db.models import QuerySet

from accounts.models import User, username_fold
from patients.models import Patient


def patient_list_visible(*, user: User) -> QuerySet[Patient]:
    """Patients `user` may see: admins all, a doctor those they have or had an appointment
    with (any status), a patient only themselves."""
    patients = Patient.objects.select_related("user")
    if user.is_admin:
        return patients
    if user.is_doctor:
        # The reverse relation is named by `appointments`; following it by name keeps this
        # app free of an import from the app above it.
        return patients.filter(pk__in=_patient_ids_with_doctor(user))
    if user.is_patient:
        return patients.filter(pk=user.pk)
    return patients.none()


def _patient_ids_with_doctor(doctor_user: User) -> QuerySet[Patient, UUID]:
    return Patient.objects.filter(appointments__doctor_id=doctor_user.pk).values_list(
        "pk", flat=True
    )


def patient_find(*, username_or_email: str) -> Patient | None:
    """The patient whose username (however cased or written) or email (ignoring case) this is,
    as reception types it."""
    text = username_or_email.strip()
    patients = Patient.objects.select_related("user")
    return (
        patients.filter(user__username_folded=username_fold(text)).first()
        or patients.filter(user__email__iexact=text).first()
    )
