"""Who may read and write a patient's medical record (`appointments.medical_records`): the
patient reads their own, admins read and write every one, and a doctor reads and writes it
while they have a confirmed or completed appointment with the patient, no other."""

import pytest

from appointments.medical_records import RecordAccess, medical_record_access
from appointments.models import AppointmentStatus
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admins_write_every_record(patient, admin_user):
    assert medical_record_access(user=admin_user, patient_id=patient.pk) is RecordAccess.WRITE
    superuser = UserFactory(is_superuser=True)
    assert medical_record_access(user=superuser, patient_id=patient.pk) is RecordAccess.WRITE


def test_a_patient_reads_their_own_record_only(patient, other_patient):
    assert medical_record_access(user=patient.user, patient_id=patient.pk) is RecordAccess.READ
    assert (
        medical_record_access(user=other_patient.user, patient_id=patient.pk) is RecordAccess.NONE
    )


@pytest.mark.parametrize(
    ("status", "access"),
    [
        (AppointmentStatus.CONFIRMED, RecordAccess.WRITE),
        (AppointmentStatus.COMPLETED, RecordAccess.WRITE),
        (AppointmentStatus.PENDING, RecordAccess.NONE),
        (AppointmentStatus.REJECTED, RecordAccess.NONE),
        (AppointmentStatus.CANCELLED, RecordAccess.NONE),
        (AppointmentStatus.RESCHEDULED, RecordAccess.NONE),
        (AppointmentStatus.NO_SHOW, RecordAccess.NONE),
    ],
)
def test_a_doctor_by_the_status_of_their_appointment_with_the_patient(
    patient, doctor, status, access
):
    AppointmentFactory(patient=patient, doctor=doctor, status=status)
    assert medical_record_access(user=doctor.user, patient_id=patient.pk) is access
    # Another doctor, without an appointment with the patient, gets nothing.
    assert medical_record_access(user=DoctorFactory().user, patient_id=patient.pk) is (
        RecordAccess.NONE
    )
    # Nor does this doctor's treating another patient.
    assert (
        medical_record_access(user=doctor.user, patient_id=PatientFactory().pk) is RecordAccess.NONE
    )
