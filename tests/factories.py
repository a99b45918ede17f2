"""factory-boy factories for every model the tests build."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from accounts.models import Role, User
from doctors.models import Doctor, Specialization
from patients.models import Patient

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
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


class SpecializationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialization
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Specialty {n}")


class DoctorFactory(factory.django.DjangoModelFactory):
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


class PatientFactory(factory.django.DjangoModelFactory):
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


def in_future(**delta) -> "timezone.datetime":
    """An aware UTC time `delta` from now, on the hour."""
    return (timezone.now() + timedelta(**delta)).replace(minute=0, second=0, microsecond=0)
