"""Shared reads about doctors."""

from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import DurationField, F, Model, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from doctors.models import Doctor

M = TypeVar("M", bound=Model)


def doctor_list_visible(*, user: User | AnonymousUser) -> QuerySet[Doctor]:
    """The directory as `user` may see it: blacklisted doctors are listed to admins only."""
    doctors = Doctor.objects.select_related("user", "specialization")
    if isinstance(user, User) and user.is_admin:
        return doctors
    return doctors.filter(is_blacklisted=False)


def doctor_cutoffs_annotate(rows: QuerySet[M], *, doctor: str = "doctor") -> QuerySet[M]:
    """`rows` (slots, appointments) with their doctor's effective cutoffs as columns
    (`doctor_cancel_cutoff`, `doctor_reschedule_cutoff`), which `CutoffInstants` reads: the
    doctor's own, else the clinic's."""
    annotated: QuerySet[M] = rows.annotate(
        doctor_cancel_cutoff=Coalesce(
            F(f"{doctor}__cancel_cutoff"),
            Value(settings.CANCEL_CUTOFF),
            output_field=DurationField(),
        ),
        doctor_reschedule_cutoff=Coalesce(
            F(f"{doctor}__reschedule_cutoff"),
            Value(settings.RESCHEDULE_CUTOFF),
            output_field=DurationField(),
        ),
    )
    return annotated
