"""Changes made in the admin site go through the services, as from the API: the same rules,
history rows and audit entries; a refused change is an error message and changes nothing."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from appointments.models import Appointment, AppointmentSeries, Penalty
from appointments.services import appointment_book, series_book
from audit.models import AuditLog
from core.clinic_time import clinic_zone
from doctors.models import Doctor
from patients.models import Patient
from scheduling.models import AvailabilityWindow, Holiday, Slot
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    PatientFactory,
    SpecializationFactory,
    in_future,
)
from tests.schedule import slot_published, window_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def url(model, view: str = "changelist", *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def act(client, model, action: str, rows) -> list[tuple[str, str]]:
    response = client.post(
        url(model),
        {"action": action, "_selected_action": [str(row.pk) for row in rows]},
    )
    assert response.status_code == 302, response.content[:500]
    return messages_of(response)


def booked(patient, doctor, **kwargs) -> Appointment:
    return appointment_book(
        actor=patient.user, patient=patient, slot_id=slot_published(doctor, **kwargs).pk
    )


def ended(doctor, patient, status="confirmed") -> Appointment:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory.create(doctor=doctor, patient=patient, slot=slot, status=status)


def local_fields(name: str, moment: datetime) -> dict:
    """The admin's split date and time inputs, in the clinic's time zone."""
    local = moment.astimezone(clinic_zone())
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M")}


class TestSeriesAdmin:
    def test_the_series_page_shows_its_visits_and_the_action_cancels_those_to_come(
        self, staff, admin_user, patient, doctor
    ):
        first = in_future(days=3).replace(hour=10)
        slots = [slot_published(doctor, start=first + timedelta(weeks=n)) for n in range(3)]
        series = series_book(
            actor=patient.user, patient=patient, slot_id=slots[0].pk, every_weeks=1, count=3
        )
        page = staff.get(url(AppointmentSeries, "change", series.pk)).content.decode()
        assert page.count("Pending") >= 3

        messages = act(staff, AppointmentSeries, "cancel_remaining", [series])

        assert messages == [("success", "Cancelled the remaining visits of 1 series.")]
        series.refresh_from_db()
        assert series.status == "cancelled"
        for visit in series.appointments.all():
            last = visit.history.order_by("at", "id").last()
            assert (visit.status, last.actor, last.note) == (
                "cancelled",
                admin_user,
                "Cancelled in the admin site.",
            )
        assert not Slot.objects.filter(pk__in=[s.pk for s in slots], is_booked=True).exists()


class TestAppointmentActions:
    def test_confirm_goes_through_the_transition_function(self, staff, admin_user, patient, doctor):
        appointment = booked(patient, doctor)

        messages = act(staff, Appointment, "confirm", [appointment])

        appointment.refresh_from_db()
        assert appointment.status == "confirmed"
        last = appointment.history.order_by("at", "id").last()
        assert (last.from_status, last.to_status, last.actor) == (
            "pending",
            "confirmed",
            admin_user,
        )
        assert messages == [("success", "Confirmed 1 appointment(s).")]

    def test_a_refused_move_is_reported_and_changes_nothing_while_the_others_go_through(
        self, staff, patient, doctor
    ):
        pending = booked(patient, doctor)
        completed = ended(doctor, PatientFactory(), status="completed")

        messages = act(staff, Appointment, "confirm", [pending, completed])

        completed.refresh_from_db()
        pending.refresh_from_db()
        assert (pending.status, completed.status) == ("confirmed", "completed")
        assert completed.history.count() == 0
        assert ("success", "Confirmed 1 appointment(s).") in messages
        errors = [text for level, text in messages if level == "error"]
        assert len(errors) == 1
        assert "A completed appointment cannot be moved to confirmed" in errors[0]

    def test_cancel_frees_the_slot_and_records_the_note(self, staff, patient, doctor):
        appointment = booked(patient, doctor)

        act(staff, Appointment, "cancel", [appointment])

        appointment.refresh_from_db()
        assert appointment.status == "cancelled"
        assert not Slot.objects.get(pk=appointment.slot_id).is_booked
        assert appointment.history.last().note == "Cancelled in the admin site."

    def test_reject_a_pending_appointment(self, staff, patient, doctor):
        appointment = booked(patient, doctor)

        act(staff, Appointment, "reject", [appointment])

        appointment.refresh_from_db()
        assert appointment.status == "rejected"

    def test_no_show_once_ended_creates_the_penalty_and_not_before(self, staff, patient, doctor):
        missed = ended(doctor, patient)
        upcoming = AppointmentFactory(doctor=doctor, patient=PatientFactory())

        messages = act(staff, Appointment, "no_show", [missed, upcoming])

        missed.refresh_from_db()
        upcoming.refresh_from_db()
        assert missed.status == "no_show"
        assert Penalty.objects.filter(appointment=missed, patient=patient).exists()
        assert upcoming.status == "confirmed"
        assert not Penalty.objects.filter(appointment=upcoming).exists()
        assert any(
            level == "error" and "allowed once ended only" in text for level, text in messages
        )

    def test_the_appointment_page_is_read_only(self, staff, patient, doctor):
        appointment = booked(patient, doctor)
        page = url(Appointment, "change", appointment.pk)

        assert staff.get(page).status_code == 200
        assert staff.post(page, {"status": "completed"}).status_code == 403
        appointment.refresh_from_db()
        assert appointment.status == "pending"

    def test_the_appointment_page_shows_its_history(self, staff, patient, doctor):
        appointment = booked(patient, doctor)
        act(staff, Appointment, "confirm", [appointment])

        page = staff.get(url(Appointment, "change", appointment.pk)).content.decode()

        assert "Appointment status changes" in page
        assert page.count("Confirmed") >= 1

    def test_showing_clinical_notes_is_audited(self, staff, admin_user, patient, doctor):
        appointment = ended(doctor, patient)
        Appointment.objects.filter(pk=appointment.pk).update(diagnosis="Migraine")

        page = staff.get(url(Appointment, "change", appointment.pk)).content.decode()

        assert "Migraine" in page
        entry = AuditLog.objects.get(action="read", target_id=str(appointment.pk))
        assert (entry.target_type, entry.actor_id) == ("appointment", admin_user.pk)


class TestBookingInTheAdmin:
    def test_booking_a_free_slot_uses_the_booking_service(self, staff, admin_user, patient, doctor):
        slot = slot_published(doctor)

        response = staff.post(
            url(Appointment, "add"),
            {"patient": str(patient.pk), "slot": str(slot.pk), "reason": "Check-up"},
        )

        assert response.status_code == 302
        appointment = Appointment.objects.get(slot=slot)
        assert (appointment.status, appointment.created_by, appointment.reason) == (
            "pending",
            admin_user,
            "Check-up",
        )
        assert Slot.objects.get(pk=slot.pk).is_booked
        assert appointment.history.get().to_status == "pending"

    def test_a_held_slot_is_refused_with_a_message(self, staff, patient, doctor):
        held = booked(PatientFactory(), doctor)

        response = staff.post(
            url(Appointment, "add"),
            {"patient": str(patient.pk), "slot": str(held.slot_id), "reason": ""},
        )

        assert response.status_code == 302
        assert Appointment.objects.count() == 1
        assert messages_of(response) == [("error", "That slot is not free.")]

    def test_the_slot_search_offers_free_slots_only(self, staff, doctor):
        free = slot_published(doctor)
        held = booked(PatientFactory(), doctor, start=free.start + timedelta(days=1))

        response = staff.get(
            reverse("admin:autocomplete"),
            {"app_label": "appointments", "model_name": "appointment", "field_name": "slot"},
        )

        offered = {result["id"] for result in response.json()["results"]}
        assert str(free.pk) in offered
        assert str(held.slot_id) not in offered


class TestPenaltiesAndDoctors:
    def test_resolve_penalty_records_who(self, staff, admin_user, patient, doctor):
        penalty = Penalty.objects.create(patient=patient, appointment=ended(doctor, patient))

        messages = act(staff, Penalty, "resolve", [penalty])

        penalty.refresh_from_db()
        assert (penalty.resolved, penalty.resolved_by) == (True, admin_user)
        assert penalty.resolved_at is not None
        assert messages == [("success", "Resolved 1 penalt(y/ies).")]

    def test_blacklist_and_unblacklist_through_the_services(self, staff, doctor):
        act(staff, Doctor, "blacklist", [doctor])

        doctor.refresh_from_db()
        doctor.user.refresh_from_db()
        assert doctor.is_blacklisted
        assert not doctor.user.is_active
        assert AuditLog.objects.filter(action="blacklist", target_id=str(doctor.pk)).exists()

        act(staff, Doctor, "unblacklist", [doctor])

        doctor.refresh_from_db()
        doctor.user.refresh_from_db()
        assert (doctor.is_blacklisted, doctor.user.is_active) == (False, True)

    def test_adding_a_doctor_makes_the_account_with_the_service(self, staff):
        specialization = SpecializationFactory()

        response = staff.post(
            url(Doctor, "add"),
            {
                "username": "dr.new",
                "email": "dr.new@example.test",
                "password": PASSWORD,
                "first_name": "Nia",
                "last_name": "New",
                "specialization": specialization.pk,
                "license_number": "LIC-NEW-1",
                "years_of_experience": 7,
                "bio": "",
                "requires_approval": "on",
            },
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        doctor = Doctor.objects.get(license_number="LIC-NEW-1")
        assert (doctor.user.username, doctor.user.role) == ("dr.new", Role.DOCTOR)
        assert doctor.user.check_password(PASSWORD)
        assert AuditLog.objects.filter(action="create", target_type="doctor").exists()

    def test_a_weak_password_or_a_taken_username_is_a_form_error(self, staff, doctor):
        response = staff.post(
            url(Doctor, "add"),
            {
                "username": doctor.user.username,
                "email": "someone@example.test",
                "password": "123",
                "first_name": "A",
                "last_name": "B",
                "specialization": doctor.specialization_id,
                "license_number": "LIC-X",
                "years_of_experience": 1,
            },
        )

        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert set(errors) == {"username", "password"}
        assert Doctor.objects.count() == 1

    def test_editing_a_doctor_uses_the_update_service_and_ratings_stay_read_only(
        self, staff, doctor
    ):
        Doctor.objects.filter(pk=doctor.pk).update(rating=4, rating_count=1)

        response = staff.post(
            url(Doctor, "change", doctor.pk),
            {
                "specialization": doctor.specialization_id,
                "license_number": doctor.license_number,
                "years_of_experience": 25,
                "bio": doctor.bio,
                "requires_approval": "on",
                "rating": "1.00",
                "rating_count": 9,
            },
        )

        assert response.status_code == 302
        doctor.refresh_from_db()
        assert (doctor.years_of_experience, doctor.rating, doctor.rating_count) == (25, 4, 1)
        entry = AuditLog.objects.get(action="update", target_type="doctor")
        assert entry.changes == {"years_of_experience": [10, 25]}


class TestPatientsInTheAdmin:
    def test_the_change_page_shows_the_record_decrypted_and_audits_the_read(
        self, staff, admin_user
    ):
        patient = PatientFactory(allergies="Shellfish", insurance_policy_number="POL-77")

        page = staff.get(url(Patient, "change", patient.pk)).content.decode()

        assert "Shellfish" in page
        assert "POL-77" in page
        entry = AuditLog.objects.get(action="read", target_type="medical_record")
        assert (entry.target_id, entry.actor_id) == (str(patient.pk), admin_user.pk)

    def test_editing_the_record_goes_through_the_medical_record_service(self, staff):
        patient = PatientFactory(allergies="")

        response = staff.post(
            url(Patient, "change", patient.pk),
            {
                "date_of_birth": "1985-04-12",
                "gender": patient.gender,
                "contact_number": patient.contact_number,
                "insurance_provider": patient.insurance_provider,
                "insurance_policy_number": patient.insurance_policy_number,
                "allergies": "Penicillin",
                "medical_history": "",
            },
        )

        assert response.status_code == 302
        patient.refresh_from_db()
        assert patient.allergies == "Penicillin"
        entry = AuditLog.objects.get(action="update", target_type="patient")
        assert entry.changes == {"allergies": "(changed)"}

    def test_adding_a_patient_registers_them(self, staff):
        response = staff.post(
            url(Patient, "add"),
            {
                "username": "pat.new",
                "email": "pat.new@example.test",
                "password": PASSWORD,
                "first_name": "Pat",
                "last_name": "New",
                "date_of_birth": "1990-02-03",
                "gender": "female",
                "contact_number": "",
                "insurance_provider": "Acme",
                "insurance_policy_number": "POL-1",
            },
        )

        assert response.status_code == 302
        patient = Patient.objects.get(user__username="pat.new")
        assert (patient.user.role, patient.insurance_policy_number) == (Role.PATIENT, "POL-1")


class TestSchedulesInTheAdmin:
    def test_a_window_is_entered_in_clinic_time_and_split_into_slots(self, staff, doctor):
        # 09:00-12:00 in the clinic on a summer day (BST) is 08:00-11:00 UTC.
        day = date(timezone.now().year + 1, 7, 1)
        start = datetime(day.year, 7, 1, 9, tzinfo=clinic_zone())

        response = staff.post(
            url(AvailabilityWindow, "add"),
            {
                "doctor": str(doctor.pk),
                **local_fields("start", start),
                **local_fields("end", start + timedelta(hours=3)),
            },
        )

        assert response.status_code == 302
        window = AvailabilityWindow.objects.get(doctor=doctor)
        assert (window.start.astimezone(clinic_zone()).hour, window.start.hour) == (9, 8)
        assert window.slots.count() == 3

    def test_an_overlapping_window_is_refused(self, staff, doctor):
        window = window_published(doctor)

        response = staff.post(
            url(AvailabilityWindow, "add"),
            {
                "doctor": str(doctor.pk),
                **local_fields("start", window.start + timedelta(hours=1)),
                **local_fields("end", window.end + timedelta(hours=1)),
            },
        )

        assert AvailabilityWindow.objects.count() == 1
        text = response.content.decode() + str(messages_of(response))
        assert "overlap" in text.lower()

    def test_a_window_holding_an_appointment_is_not_deleted(self, staff, patient, doctor):
        appointment = booked(patient, doctor)
        window = appointment.slot.window

        response = staff.post(url(AvailabilityWindow, "delete", window.pk), {"post": "yes"})

        assert response.status_code == 302
        assert AvailabilityWindow.objects.filter(pk=window.pk).exists()
        assert messages_of(response)[0][0] == "error"

    def test_bulk_delete_is_all_or_nothing(self, staff, patient, doctor):
        free = window_published(doctor, start=in_future(days=10).replace(hour=9))
        held = booked(patient, doctor).slot.window

        response = staff.post(
            url(AvailabilityWindow),
            {
                "action": "delete_selected",
                "post": "yes",
                "_selected_action": [str(free.pk), str(held.pk)],
            },
        )

        assert response.status_code == 302
        assert AvailabilityWindow.objects.filter(pk__in=[free.pk, held.pk]).count() == 2
        [(level, text)] = messages_of(response)
        assert level == "error"
        assert text.startswith("Nothing was deleted.")

    def test_a_free_window_is_deleted_with_its_slots(self, staff, doctor):
        window = window_published(doctor)

        staff.post(url(AvailabilityWindow, "delete", window.pk), {"post": "yes"})

        assert not AvailabilityWindow.objects.exists()
        assert not Slot.objects.exists()

    def test_a_holiday_in_the_past_is_refused(self, staff):
        response = staff.post(url(Holiday, "add"), {"date": "2020-01-01", "name": "Too late"})

        assert not Holiday.objects.exists()
        assert messages_of(response) == [("error", "date: The day has already passed.")]

    def test_windows_and_slots_cannot_be_edited_by_hand(self, staff, doctor):
        window = window_published(doctor)
        slot = window.slots.first()

        assert staff.post(url(AvailabilityWindow, "change", window.pk), {}).status_code == 403
        assert staff.post(url(Slot, "change", slot.pk), {"is_booked": "on"}).status_code == 403
        assert staff.get(url(Slot, "add")).status_code == 403


def test_the_role_of_an_existing_account_is_read_only(staff, patient):
    page = staff.get(url(User, "change", patient.user.pk))

    assert "role" not in page.context["adminform"].form.fields
