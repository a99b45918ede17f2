"""The whole transition table, walked through the HTTP API: every status by every action
by every role, for an appointment in the future, one under way and one that has ended; what
the system may do; and moves racing each other."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from appointments import services
from appointments.exceptions import InvalidTransition
from appointments.models import Appointment, AppointmentStatus, Penalty
from appointments.services import appointment_transition
from appointments.transitions import Action
from core.errors import Forbidden
from doctors.services import doctor_blacklist
from scheduling.models import AvailabilityWindow, Slot
from tests.concurrency import InThread, RunAfter, run_at_once, run_to_completion
from tests.conftest import client_for, error_codes
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


TIMES = ["upcoming", "started", "ended"]


def expected_status(status: str, action: str, role: str, when: str) -> int:
    if role not in MAY_ACT[action]:
        return 403
    if status not in FROM[action]:
        return 409
    started, ended = when in ("started", "ended"), when == "ended"
    if role == "patient" and action in ("cancel", "reschedule") and started:
        return 409
    # Once it has ended, only completion or a no-show says what happened.
    if action in ("confirm", "reject", "cancel", "reschedule") and ended:
        return 409
    if (action == "complete" and not started) or (action == "no-show" and not ended):
        return 409
    return 201 if action == "reschedule" else 200


def appointment_at(status: str, when: str | bool, doctor, patient) -> Appointment:
    """A one-hour appointment in two days ("upcoming"), half an hour in ("started"), or
    ended two hours ago ("ended"; also True, and False for "upcoming")."""
    if isinstance(when, bool):
        when = "ended" if when else "upcoming"
    offset = {
        "upcoming": timedelta(days=2),
        "started": timedelta(minutes=-30),
        "ended": timedelta(hours=-3),
    }[when]
    start = timezone.now().replace(microsecond=0) + offset
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory.create(doctor=doctor, patient=patient, slot=slot, status=status)


def _clear(doctor) -> None:
    Appointment.objects.all().delete()
    AvailabilityWindow.objects.filter(doctor=doctor).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("when", TIMES)
def test_every_status_action_and_role(when):
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
                appointment = appointment_at(status, when, doctor, patient)
                body = dict(BODIES.get(action, {}))
                if action == "reschedule":
                    body["slot"] = str(slot_published(DoctorFactory()).pk)
                response = client.post(f"/api/v1/appointments/{appointment.pk}/{action}/", body)
                want = expected_status(status, action, role, when)
                appointment.refresh_from_db()
                moved_to = appointment.status
                want_status = TO[action] if want in (200, 201) else status
                if response.status_code != want or moved_to != want_status:
                    mismatches.append((status, action, role, response.status_code, want, moved_to))
                if want == 409 and response.status_code == 409:
                    assert response.json()["errors"][0]["code"] == "invalid_transition"
                _clear(doctor)
    assert mismatches == []


@pytest.mark.django_db
class TestAfterTheEnd:
    """Once an appointment's hour is over, only completion or a no-show describes it."""

    def test_a_pending_request_cannot_be_confirmed_and_so_never_becomes_a_no_show(
        self, doctor, patient, doctor_client
    ):
        appointment = appointment_at("pending", "ended", doctor, patient)
        response = doctor_client.post(f"/api/v1/appointments/{appointment.pk}/confirm/")
        assert response.status_code == 409
        assert error_codes(response) == ["invalid_transition"]
        no_show = doctor_client.post(f"/api/v1/appointments/{appointment.pk}/no-show/")
        assert no_show.status_code == 409
        assert not Penalty.objects.exists()

    def test_a_pending_request_can_still_be_confirmed_during_its_hour(
        self, doctor, patient, doctor_client
    ):
        appointment = appointment_at("pending", "started", doctor, patient)
        response = doctor_client.post(f"/api/v1/appointments/{appointment.pk}/confirm/")
        assert response.status_code == 200

    @pytest.mark.parametrize("role", ["doctor", "admin"])
    def test_nobody_relabels_a_visit_cancelled(self, role, doctor, patient, admin_user):
        appointment = appointment_at("confirmed", "ended", doctor, patient)
        client = client_for(doctor.user if role == "doctor" else admin_user)
        response = client.post(f"/api/v1/appointments/{appointment.pk}/cancel/")
        assert response.status_code == 409
        assert error_codes(response) == ["invalid_transition"]
        appointment.refresh_from_db()
        assert appointment.status == "confirmed"
        assert client.post(f"/api/v1/appointments/{appointment.pk}/no-show/").status_code == 200


@pytest.mark.django_db
def test_a_doctor_cannot_act_on_another_doctors_appointment():
    appointment = AppointmentFactory(status="pending")
    response = client_for(DoctorFactory().user).post(
        f"/api/v1/appointments/{appointment.pk}/confirm/"
    )
    assert response.status_code == 404


def _system_may(action: Action, status: str, when: str, barred: bool) -> bool:
    """API.md's background work: the sweep marks ended confirmed visits no-shows (never a
    barred doctor's: those it cancels) and cancels pending requests whose start has passed."""
    return {
        Action.NO_SHOW: status == "confirmed" and when == "ended" and not barred,
        Action.WITHDRAW: status == "confirmed" and when == "ended" and barred,
        Action.EXPIRE: status == "pending" and when != "upcoming",
    }.get(action, False)


@pytest.mark.django_db
@pytest.mark.parametrize("when", TIMES)
@pytest.mark.parametrize("barred", [False, True], ids=["doctor in standing", "doctor barred"])
def test_what_the_system_may_do(when, barred):
    doctor, patient = DoctorFactory(), PatientFactory()
    if barred:  # a day ago: before any of the appointments below ended
        with time_machine.travel(timezone.now() - timedelta(days=1)):
            doctor_blacklist(doctor=doctor, reason="Licence suspended")
    for status in AppointmentStatus.values:
        for action in Action:
            if action == Action.RESCHEDULE:
                continue
            appointment = appointment_at(status, when, doctor, patient)
            try:
                appointment_transition(appointment_id=appointment.pk, action=action, actor=None)
                happened = True
            except (Forbidden, InvalidTransition):
                happened = False
            assert happened == _system_may(action, status, when, barred), (status, action)
            _clear(doctor)


def _move(user, appointment, action: str, body: dict | None = None):
    """A request making one move, to run on a thread of its own."""

    def run():
        response = client_for(user).post(
            f"/api/v1/appointments/{appointment.pk}/{action}/", body or {}
        )
        return response.status_code, response.json()

    return run


def _codes(body) -> list[str]:
    return [error["code"] for error in body.get("errors", [])]


def _moves_of(appointment) -> list[str]:
    return list(
        appointment.history.exclude(from_status="")
        .order_by("at", "id")
        .values_list("to_status", flat=True)
    )


# Injected races are deterministic; free-running ones are repeated more.
ROUNDS = 5


@pytest.mark.django_db(transaction=True)
class TestMovesRacingEachOther:
    """Two moves of one appointment at once, on real threads. In the injected races the
    competing move commits at an exact point: after the first has read the appointment and
    checked its rule, before it writes (`RunAfter` on the table's checker)."""

    def _raced(self, move, competing):
        """`move`'s answer, with `competing` made to commit right after `move`'s first check;
        and `competing`'s answer."""
        with RunAfter(services, "transition_check", lambda: run_to_completion(competing)) as race:
            answer = InThread(move).join()
        return answer, race.result

    def test_a_cancel_whose_rule_still_holds_after_a_confirm_succeeds(self):
        doctor, patient = DoctorFactory(), PatientFactory()
        for _ in range(ROUNDS):
            appointment = appointment_at("pending", False, doctor, patient)
            cancelled, confirmed = self._raced(
                _move(patient.user, appointment, "cancel"),
                _move(doctor.user, appointment, "confirm"),
            )
            assert confirmed[0] == 200, confirmed
            assert cancelled[0] == 200, cancelled
            appointment.refresh_from_db()
            assert appointment.status == "cancelled"
            assert _moves_of(appointment) == ["confirmed", "cancelled"]
            assert not Slot.objects.get(pk=appointment.slot_id).is_booked
            _clear(doctor)

    def test_a_confirm_after_a_cancel_is_refused_and_the_cancel_stands(self):
        doctor, patient = DoctorFactory(), PatientFactory()
        for _ in range(ROUNDS):
            appointment = appointment_at("pending", False, doctor, patient)
            confirmed, cancelled = self._raced(
                _move(doctor.user, appointment, "confirm"),
                _move(patient.user, appointment, "cancel"),
            )
            assert cancelled[0] == 200, cancelled
            assert confirmed[0] == 409
            assert _codes(confirmed[1]) == ["invalid_transition"]
            appointment.refresh_from_db()
            assert appointment.status == "cancelled"
            assert _moves_of(appointment) == ["cancelled"]
            _clear(doctor)

    def test_confirm_and_cancel_released_together_always_end_cancelled(self):
        doctor, patient = DoctorFactory(), PatientFactory()
        for _ in range(4 * ROUNDS):
            appointment = appointment_at("pending", False, doctor, patient)
            confirmed, cancelled = run_at_once(
                [
                    _move(doctor.user, appointment, "confirm"),
                    _move(patient.user, appointment, "cancel"),
                ]
            )
            assert cancelled[0] == 200, cancelled
            assert confirmed[0] in (200, 409), confirmed
            appointment.refresh_from_db()
            assert appointment.status == "cancelled"
            _clear(doctor)

    @pytest.mark.parametrize(
        ("first", "second", "status", "ended"),
        [
            ("confirm", "reject", "pending", False),
            ("reject", "confirm", "pending", False),
            ("complete", "no-show", "confirmed", True),
            ("no-show", "complete", "confirmed", True),
        ],
    )
    def test_moves_that_exclude_each_other_have_exactly_one_winner(
        self, first, second, status, ended
    ):
        """Injected: `second` commits right after `first` has checked its rule, and `first`
        answers 409. Released together: exactly one of them wins, whichever it is."""
        doctor, patient = DoctorFactory(), PatientFactory()
        for round_number in range(3 * ROUNDS):
            appointment = appointment_at(status, ended, doctor, patient)
            calls = [
                _move(doctor.user, appointment, action, BODIES.get(action))
                for action in (first, second)
            ]
            if round_number < ROUNDS:
                results = self._raced(*calls)
                assert [code for code, _ in results] == [409, 200], results
                assert _codes(results[0][1]) == ["invalid_transition"]
            else:
                results = run_at_once(calls)
                assert sorted(code for code, _ in results) == [200, 409], results
            winner = [first, second][[code for code, _ in results].index(200)]
            appointment.refresh_from_db()
            assert _moves_of(appointment) == [TO[winner]]
            assert Penalty.objects.filter(appointment=appointment).count() == (winner == "no-show")
            _clear(doctor)
