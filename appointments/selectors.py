"""Shared reads about appointments."""

from django.db.models import QuerySet

from accounts.models import User
from appointments.models import Appointment


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
