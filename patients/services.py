"""Writes about patients."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import Role
from accounts.services import user_and_profile_update, user_create, user_identity_unique_check
from audit.services import audit_model_create, audit_record
from core.durations import duration_format
from patients.exceptions import LeadTimeNotOffered
from patients.models import Patient

PATIENT_PROFILE_FIELDS = frozenset(
    {
        "date_of_birth",
        "gender",
        "contact_number",
        "insurance_provider",
        "insurance_policy_number",
        "reminder_lead_times",
    }
)


def patient_register(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    gender: str = "",
    contact_number: str = "",
    insurance_provider: str = "",
    insurance_policy_number: str = "",
    time_zone: str | None = None,
) -> Patient:
    """Self-registration: a patient account and profile in one transaction.

    A taken username or email is a 400 on that field, also when a concurrent registration
    takes it between the check and the insert. Without a `time_zone` the patient reads times
    in the clinic's.
    """
    try:
        with transaction.atomic():
            user = user_create(
                role=Role.PATIENT,
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                time_zone=time_zone,
            )
            patient = Patient.objects.create(
                user=user,
                date_of_birth=date_of_birth,
                gender=gender,
                contact_number=contact_number,
                insurance_provider=insurance_provider,
                insurance_policy_number=insurance_policy_number,
            )
            audit_model_create(
                instance=patient,
                fields=[
                    "date_of_birth",
                    "gender",
                    "contact_number",
                    "insurance_provider",
                    "insurance_policy_number",
                ],
            )
            return patient
    except IntegrityError:
        user_identity_unique_check(username=username, email=email)
        raise


def patient_update(*, patient: Patient, **changes: Any) -> Patient:
    """Update a patient's contact, personal and insurance details, time zone and reminder
    choice (never role, activity or ids: the serializers offer no such field).

    `reminder_lead_times` is a subset of the clinic's `REMINDER_LEAD_TIMES` (`[]` for none,
    None for all of them, including any the clinic adds later); anything else is a 400 on
    that field naming the lead times offered.
    """
    lead_times = changes.get("reminder_lead_times")
    if lead_times is not None:
        changes["reminder_lead_times"] = _lead_times_offered(lead_times)
    user_and_profile_update(profile=patient, profile_fields=PATIENT_PROFILE_FIELDS, changes=changes)
    return patient


def _lead_times_offered(lead_times: list[timedelta]) -> list[timedelta]:
    offered = settings.REMINDER_LEAD_TIMES
    if any(lead not in offered for lead in lead_times):
        raise LeadTimeNotOffered(
            "Choose among the clinic's reminder lead times: "
            + ", ".join(duration_format(lead) for lead in offered)
            + "."
        )
    return sorted(set(lead_times), reverse=True)


MEDICAL_RECORD_FIELDS = frozenset(
    {"allergies", "medical_history", "insurance_provider", "insurance_policy_number"}
)


def patient_medical_record_update(*, patient: Patient, **changes: Any) -> Patient:
    """Update the encrypted parts of a patient's record. Who may is decided above this app,
    where appointments are known (`appointments.medical_records.medical_record_access`)."""
    user_and_profile_update(profile=patient, profile_fields=MEDICAL_RECORD_FIELDS, changes=changes)
    return patient


def medical_record_read_record(*, patient: Patient) -> None:
    """Showing a patient's decrypted record (API or admin site) is written to the audit log."""
    audit_record(action="read", target_type="medical_record", target_id=patient.pk)
