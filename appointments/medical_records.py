"""A patient's medical record, as far as appointments decide it: who may read and write it,
and its encounters.

The record itself (its encrypted fields, the audited read and the write) belongs to the
patients app (`patients.models.Patient`, `patients.services`). Who may see it depends on
appointments: a doctor may while they have a confirmed or completed appointment with the
patient. The patients app sits below appointments and imports nothing from it, so the rule
lives here, in the lowest app that knows both, and only here: the API
(`appointments.api.medical_records`) asks `medical_record_access` and nothing else.
"""

import enum

from django.db.models import QuerySet

from accounts.models import User
from appointments.models import Appointment, AppointmentStatus

# The appointments that make a doctor one of the patient's treating doctors.
TREATING_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED)


class RecordAccess(enum.Enum):
    NONE = "none"
    READ = "read"
    WRITE = "write"


def medical_record_access(*, user: User, patient_id) -> RecordAccess:
    """What `user` may do with the medical record of the patient `patient_id`:

    - an admin reads and writes every record;
    - a patient reads their own record, and no other;
    - a doctor reads and writes the record of a patient while they have a confirmed or
      completed appointment with them (a pending, cancelled or rejected one is not enough);
    - nobody else reads or writes it (the API answers 404, as for a record that does not
      exist, so that patient ids leak nothing).

    One query, for a doctor only.
    """
    if user.is_admin:
        return RecordAccess.WRITE
    if user.is_patient:
        return RecordAccess.READ if user.pk == patient_id else RecordAccess.NONE
    if (
        user.is_doctor
        and Appointment.objects.filter(
            patient_id=patient_id, doctor_id=user.pk, status__in=TREATING_STATUSES
        ).exists()
    ):
        return RecordAccess.WRITE
    return RecordAccess.NONE


def medical_record_encounters(*, patient_id) -> QuerySet[Appointment]:
    """The patient's completed appointments, newest first: the encounters of their record."""
    return (
        Appointment.objects.filter(patient_id=patient_id, status=AppointmentStatus.COMPLETED)
        .select_related("doctor__user")
        .order_by("-start")
    )
