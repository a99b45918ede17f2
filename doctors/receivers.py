"""What doctors does when other apps report something (connected in `apps.ready`)."""

from accounts.models import User
from doctors.models import Doctor
from doctors.services import doctor_unblacklist


def doctor_account_reactivated(*, user: User, **kwargs) -> None:
    """Staff re-activated a blacklisted doctor's account in the admin site: that lifts the
    blacklisting, so it goes through `doctor_unblacklist` (the doctor's standing and slots,
    audited), in the transaction of the re-activation. Accounts cannot call it itself: doctors
    sits above accounts."""
    doctor = Doctor.objects.filter(user=user, is_blacklisted=True).first()
    if doctor is not None:
        doctor_unblacklist(doctor=doctor)
