"""Shared reads about appointments."""

from django.db.models import QuerySet

from accounts.models import User
from appointments.models import Appointment, AppointmentStatus, Penalty


def appointment_list_visible(*, user: User) -> QuerySet[Appointment]:
    """Appointments `user` may see: a patient their own, a doctor their own, admins all."""
    appointments = Appointment.objects.select_related("patient__user", "doctor__user")
    if user.is_admin:
        return appointments
    if user.is_doctor:
        return appointments.filter(doctor_id=user.pk)
    if user.is_patient:
        return appointments.filter(patient_id=user.pk)
    return appointments.none()


def patient_record_readable(*, user: User, patient_id) -> bool:
    """Who may read a patient's medical record: the patient, admins, and a doctor while they
    have a confirmed or completed appointment with the patient."""
    if user.is_admin or (user.is_patient and user.pk == patient_id):
        return True
    return (
        user.is_doctor
        and Appointment.objects.filter(
            patient_id=patient_id,
            doctor_id=user.pk,
            status__in=(AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED),
        ).exists()
    )


def patient_encounters(*, patient_id) -> QuerySet[Appointment]:
    """The patient's completed appointments, newest first: the encounters of their record."""
    return (
        Appointment.objects.filter(patient_id=patient_id, status=AppointmentStatus.COMPLETED)
        .select_related("doctor__user")
        .order_by("-start")
    )


def penalty_list_visible(*, user: User) -> QuerySet[Penalty]:
    """Penalties: admins all, a patient their own, nobody else any."""
    penalties = Penalty.objects.all()
    if user.is_admin:
        return penalties
    if user.is_patient:
        return penalties.filter(patient_id=user.pk)
    return penalties.none()


def unresolved_penalty_count(*, patient_id) -> int:
    return Penalty.objects.filter(patient_id=patient_id, resolved=False).count()
