"""Shared reads about doctors."""

from django.db.models import QuerySet

from accounts.models import User
from doctors.models import Doctor


def doctor_list_visible(*, user: User) -> QuerySet[Doctor]:
    """The directory as `user` may see it: blacklisted doctors are listed to admins only."""
    doctors = Doctor.objects.select_related("user", "specialization")
    if user.is_authenticated and user.is_admin:
        return doctors
    return doctors.filter(is_blacklisted=False)
