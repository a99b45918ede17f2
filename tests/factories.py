"""factory-boy factories for every model the tests build."""

from datetime import date, datetime, timedelta

import factory
from django.utils import timezone

from accounts.models import Role, User
from appointments.models import Appointment, AppointmentStatus
from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.models import AvailabilityWindow, Slot

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.PATIENT
    password = factory.django.Password(PASSWORD)


class AdminUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = Role.ADMIN
    is_staff = True


class SpecializationFactory(factory.django.DjangoModelFactory[Specialization]):
    class Meta:
        model = Specialization
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Specialty {n}")


class DoctorFactory(factory.django.DjangoModelFactory[Doctor]):
    class Meta:
        model = Doctor

    user = factory.SubFactory(
        UserFactory, role=Role.DOCTOR, username=factory.Sequence(lambda n: f"doctor{n}")
    )
    specialization = factory.SubFactory(SpecializationFactory)
    license_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
    years_of_experience = 10
    bio = "General practice."
    requires_approval = True


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    user = factory.SubFactory(
        UserFactory, role=Role.PATIENT, username=factory.Sequence(lambda n: f"patient{n}")
    )
    date_of_birth = date(1985, 4, 12)
    gender = "female"
    contact_number = "+44 20 7946 0000"
    insurance_provider = "Acme Health"
    insurance_policy_number = factory.Sequence(lambda n: f"POL-{n:08d}")


def in_future(**delta: float) -> datetime:
    """An aware UTC time `delta` from now, on the hour."""
    return (timezone.now() + timedelta(**delta)).replace(minute=0, second=0, microsecond=0)


class AvailabilityWindowFactory(factory.django.DjangoModelFactory[AvailabilityWindow]):
    """A window of one slot's length, each a day after the previous one, so that windows of
    one doctor never overlap."""

    class Meta:
        model = AvailabilityWindow

    doctor = factory.SubFactory(DoctorFactory)
    start = factory.Sequence(lambda n: in_future(days=n + 1, hours=9))
    end = factory.LazyAttribute(lambda w: w.start + timedelta(hours=1))


class SlotFactory(factory.django.DjangoModelFactory[Slot]):
    """A slot filling its window (a window of the slot's doctor is made for it unless given)."""

    class Meta:
        model = Slot

    doctor = factory.SubFactory(DoctorFactory)
    window = factory.SubFactory(AvailabilityWindowFactory, doctor=factory.SelfAttribute("..doctor"))
    start = factory.LazyAttribute(lambda s: s.window.start)
    end = factory.LazyAttribute(lambda s: s.window.end)


class AppointmentFactory(factory.django.DjangoModelFactory[Appointment]):
    """An appointment written straight to the database, bypassing the booking service: doctor,
    start and end copy the slot's, as booking does."""

    class Meta:
        model = Appointment
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory)
    slot = factory.SubFactory(SlotFactory, doctor=factory.SelfAttribute("..doctor"))
    start = factory.LazyAttribute(lambda a: a.slot.start)
    end = factory.LazyAttribute(lambda a: a.slot.end)
    status = AppointmentStatus.CONFIRMED

    @factory.post_generation
    def mark_slot(appointment, create, extracted, **kwargs):
        """Keep the invariant the services keep: a slot is booked while an active
        appointment holds it."""
        if create and appointment.slot_id and appointment.is_active:
            Slot.objects.filter(pk=appointment.slot_id).update(is_booked=True)
            appointment.slot.is_booked = True
