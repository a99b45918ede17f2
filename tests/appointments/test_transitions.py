"""The whole transition table, walked through the HTTP API: every status by every action
by every role, for an appointment in the future and one that has ended."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_transition
from appointments.transitions import Action
from scheduling.models import AvailabilityWindow, Slot
from tests.concurrency import run_at_once
from tests.conftest import client_for
from tests.factories import AdminUserFactory, AppointmentFactory, DoctorFactory, PatientFactory
from tests.schedule import slot_published

# Written out independently of appointments.transitions, from docs/api.md
# ("The appointment lifecycle").
MAY_ACT = {
    "confirm": {"doctor", "admin"},
    "reject": {"doctor", "admin"},
    "cancel": {"patient", "doctor", "admin"},
    "reschedule": {"patient", "admin"},
    "complete": {"doctor", "admin"},
    "no-show": {"doctor", "admin"},
}
FROM = {
    "confirm": {"pending"},
    "reject": {"pending"},
    "cancel": {"pending", "confirmed"},
    "reschedule": {"pending", "confirmed"},
    "complete": {"confirmed"},
    "no-show": {"confirmed"},
}
TO = {
    "confirm": "confirmed",
    "reject": "rejected",
    "cancel": "cancelled",
    "reschedule": "rescheduled",
    "complete": "completed",
    "no-show": "no_show",
}
BODIES = {
    "reject": {"reason": "Not my field"},
    "cancel": {"reason": "Feeling better"},
    "complete": {"diagnosis": "Viral pharyngitis", "treatment_notes": "Rest and fluids"},
}


def expected_status(status: str, action: str, role: str, ended: bool) -> int:
    if role not in MAY_ACT[action]:
        return 403
    if status not in FROM[action]:
        return 409
    if role == "patient" and action in ("cancel", "reschedule") and ended:
        return 409
    if action in ("complete", "no-show") and not ended:
        return 409
    return 201 if action == "reschedule" else 200


def appointment_at(status: str, ended: bool, doctor, patient) -> Appointment:
    start = timezone.now().replace(microsecond=0) + (
        timedelta(hours=-3) if ended else timedelta(days=2)
    )
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory(doctor=doctor, patient=patient, slot=slot, status=status)


@pytest.mark.django_db
@pytest.mark.parametrize("ended", [False, True], ids=["upcoming", "ended"])
def test_every_status_action_and_role(ended):
    doctor, patient, admin = DoctorFactory(), PatientFactory(), AdminUserFactory()
    clients = {
        "patient": client_for(patient.user),
        "doctor": client_for(doctor.user),
        "admin": client_for(admin),
    }
    mismatches = []
    for status in AppointmentStatus.values:
        for action in MAY_ACT:
            for role, client in clients.items():
                appointment = appointment_at(status, ended, doctor, patient)
                body = dict(BODIES.get(action, {}))
                if action == "reschedule":
                    body["slot"] = str(slot_published(DoctorFactory()).pk)
                response = client.post(f"/api/v1/appointments/{appointment.pk}/{action}/", body)
                want = expected_status(status, action, role, ended)
                appointment.refresh_from_db()
                moved_to = appointment.status
                want_status = TO[action] if want in (200, 201) else status
                if response.status_code != want or moved_to != want_status:
                    mismatches.append((status, action, role, response.status_code, want, moved_to))
                if want == 409 and response.status_code == 409:
                    assert response.json()["errors"][0]["code"] == "invalid_transition"
                Appointment.objects.all().delete()
                AvailabilityWindow.objects.filter(doctor=doctor).delete()
    assert mismatches == []


@pytest.mark.django_db
def test_a_doctor_cannot_act_on_another_doctors_appointment():
    appointment = AppointmentFactory(status="pending")
    response = client_for(DoctorFactory().user).post(
        f"/api/v1/appointments/{appointment.pk}/confirm/"
    )
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("ended", [False, True])
def test_the_system_may_only_cancel_and_mark_no_shows(ended):
    doctor, patient = DoctorFactory(), PatientFactory()
    for status in AppointmentStatus.values:
        for action in Action:
            if action == Action.RESCHEDULE:
                continue
            appointment = appointment_at(status, ended, doctor, patient)
            allowed = (action == Action.CANCEL and status in FROM["cancel"]) or (
                action == Action.NO_SHOW and status == "confirmed" and ended
            )
            try:
                appointment_transition(appointment_id=appointment.pk, action=action, actor=None)
                happened = True
            except Exception:  # any refusal (403, 409) counts as not happened
                happened = False
            assert happened == allowed, (status, action, ended)
            Appointment.objects.all().delete()
            AvailabilityWindow.objects.filter(doctor=doctor).delete()


@pytest.mark.django_db(transaction=True)
def test_confirm_and_cancel_at_the_same_moment_exactly_one_wins(monkeypatch):
    """Both requests read the pending appointment and pass the table's check before either
    writes (a barrier holds each right after its check), then race to update it."""
    doctor, patient = DoctorFactory(), PatientFactory()
    both_checked = threading.Barrier(2)
    real_check = services.transition_check

    def check_then_wait(**kwargs):
        move = real_check(**kwargs)
        both_checked.wait(timeout=10)
        return move

    monkeypatch.setattr(services, "transition_check", check_then_wait)
    for _ in range(5):
        both_checked.reset()
        appointment = AppointmentFactory(
            doctor=doctor, patient=patient, status="pending", slot=slot_published(doctor)
        )
        url = f"/api/v1/appointments/{appointment.pk}"

        def call(user, path, url=url):
            def run():
                response = client_for(user).post(f"{url}/{path}/")
                return response.status_code, response.json()

            return run

        results = run_at_once([call(doctor.user, "confirm"), call(patient.user, "cancel")])
        assert sorted(status for status, _ in results) == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["errors"][0]["code"] == "invalid_transition"
        appointment.refresh_from_db()
        assert appointment.status in ("confirmed", "cancelled")
        assert appointment.history.count() == 1
        Appointment.objects.all().delete()
        AvailabilityWindow.objects.filter(doctor=doctor).delete()
