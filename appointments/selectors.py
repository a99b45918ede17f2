"""Shared reads about appointments."""

from django.db.models import F, QuerySet

from accounts.models import User
from appointments.models import Appointment, Penalty
from doctors.selectors import doctor_cutoffs_annotate


def _visible_to(appointments: QuerySet[Appointment], user: User) -> QuerySet[Appointment]:
    if user.is_admin:
        return appointments
    if user.is_doctor:
        return appointments.filter(doctor_id=user.pk)
    if user.is_patient:
        return appointments.filter(patient_id=user.pk)
    return appointments.none()


def appointment_list_visible(*, user: User) -> QuerySet[Appointment]:
    """Appointments `user` may see: a patient their own, a doctor their own, admins all."""
    return _visible_to(Appointment.objects.select_related("patient__user", "doctor__user"), user)


# What a list page shows: the appointment without its encrypted clinical notes (and who
# created it), and of the patient and the doctor only their names.
_LIST_FIELDS = [
    f.name
    for f in Appointment._meta.concrete_fields
    if f.name not in ("diagnosis", "treatment_notes", "created_by")
]


def appointment_list_page(*, user: User) -> QuerySet[Appointment]:
    """The appointments `user` may see, shaped for a list page: the encrypted clinical notes,
    which a list never shows, are not read, and the patient's and the doctor's names come as
    columns of the row (`patient_first_name`, `patient_last_name`, `doctor_first_name`,
    `doctor_last_name`) rather than as four related objects per row (why: bench/README.md,
    "`GET /appointments/`"), and so do the doctor's cutoffs (`cancel_by`, `reschedule_by`).
    One query for the page whatever its size, which also counts the rows
    (`core.api.pagination.CountingPaginator`)."""
    return _visible_to(
        doctor_cutoffs_annotate(
            Appointment.objects.only(*_LIST_FIELDS).annotate(
                patient_first_name=F("patient__user__first_name"),
                patient_last_name=F("patient__user__last_name"),
                doctor_first_name=F("doctor__user__first_name"),
                doctor_last_name=F("doctor__user__last_name"),
            )
        ),
        user,
    )


def penalty_list_visible(*, user: User) -> QuerySet[Penalty]:
    """Penalties: admins all, a patient their own, nobody else any."""
    penalties = Penalty.objects.all()
    if user.is_admin:
        return penalties
    if user.is_patient:
        return penalties.filter(patient_id=user.pk)
    return penalties.none()
