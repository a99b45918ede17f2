"""Shared reads about appointments."""

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Concat, Trim

from accounts.models import User
from appointments.models import Appointment, AppointmentStatus, Penalty


def _visible_to(appointments: QuerySet[Appointment], user: User) -> QuerySet[Appointment]:
    if user.is_admin:
        return appointments
    if user.is_doctor:
        return appointments.filter(doctor_id=user.pk)
    if user.is_patient:
        return appointments.filter(patient_id=user.pk)
    return appointments.none()


def _full_name(user_path: str) -> Trim:
    """`User.get_full_name()` computed by the database."""
    return Trim(Concat(F(f"{user_path}__first_name"), Value(" "), F(f"{user_path}__last_name")))


def appointment_list_visible(*, user: User) -> QuerySet[Appointment]:
    """Appointments `user` may see: a patient their own, a doctor their own, admins all."""
    return _visible_to(Appointment.objects.select_related("patient__user", "doctor__user"), user)


def appointment_list_page(*, user: User) -> QuerySet[Appointment]:
    """The appointments `user` may see, shaped for a list page: the patient's and the doctor's
    names come as plain columns (`patient_name`, `doctor_name`) instead of related Patient,
    Doctor and User objects, and the encrypted clinical notes, which a list never shows, are
    not read (decrypting them and building those objects was most of the list's CPU time,
    bench/README.md). One query for the page whatever its size."""
    return (
        _visible_to(Appointment.objects.all(), user)
        .defer("diagnosis", "treatment_notes")
        .annotate(patient_name=_full_name("patient__user"), doctor_name=_full_name("doctor__user"))
    )


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
