"""`manage.py seed_demo`: a believable clinic to try the API and the admin site on.

Specializations, doctors with weekly rules (and so slots through the booking horizon), a clinic
holiday and a doctor's leave, patients, and appointments in every status: past ones completed
(many rated), missed (with penalties, some resolved), cancelled and rejected; upcoming ones
pending, confirmed, cancelled, rejected and rescheduled. It prints the sign-in names and
passwords it made.

Idempotent: accounts are looked up by username, specializations by name, a doctor's schedule
and the appointments are made only if that doctor has none yet, so a second run creates
nothing. Everything is made in one transaction: a run that fails leaves nothing behind.
Repeatable: a fixed random seed, so a run on a given day makes the same clinic.

Writes go through the same services as the API (registration, weekly rules, time off,
holidays, booking, every status change, feedback, penalty resolution), so their rules hold
and the history, audit log and notifications are made as in real use. The one exception is
the booking of past appointments, which the booking service refuses (a slot that has
started cannot be booked): their window, slot and booking are written directly, then they
move on through the services. The services stamp each change "now"; for past appointments
the booking and history times are then moved back to when they would have happened.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count

from appointments import services as appointment_services
from appointments.models import Appointment, AppointmentStatus, AppointmentStatusChange, Penalty
from appointments.transitions import Action
from core.clinic_time import clinic_today, day_start, wall_time_occurrence
from core.errors import DomainError
from doctors import services as doctor_services
from doctors.models import Doctor, Specialization
from patients import services as patient_services
from patients.models import Patient
from scheduling import services as schedule_services
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule
from scheduling.selectors import slot_list_free

SEED = 20261201
EMAIL_DOMAIN = "demo.careslot.example"
ADMIN_USERNAME = "admin"
# Demo accounts' passwords, printed by design: never seed a production database.
ADMIN_PASSWORD = "CareSlot-admin-demo-1"  # noqa: S105
DOCTOR_PASSWORD = "CareSlot-doctor-demo-1"  # noqa: S105
PATIENT_PASSWORD = "CareSlot-patient-demo-1"  # noqa: S105

SPECIALIZATIONS = [
    "General practice",
    "Cardiology",
    "Dermatology",
    "Paediatrics",
    "Orthopaedics",
    "Psychiatry",
]


@dataclass(frozen=True)
class DemoDoctor:
    first_name: str
    last_name: str
    specialization: str
    years: int
    requires_approval: bool
    weekdays: tuple[int, ...]  # Monday is 0
    hours: tuple[int, int]  # clinic-local start and end hour

    @property
    def username(self) -> str:
        return f"dr.{self.last_name.lower()}"


DOCTORS = [
    DemoDoctor("Amara", "Okafor", "General practice", 12, False, (0, 1, 2, 3, 4), (9, 13)),
    DemoDoctor("Tomás", "Ferreira", "General practice", 6, True, (0, 2, 4), (13, 17)),
    DemoDoctor("Helen", "Marsh", "Cardiology", 21, True, (1, 3), (9, 12)),
    DemoDoctor("Rajesh", "Iyer", "Dermatology", 9, True, (0, 1, 3), (10, 14)),
    DemoDoctor("Sofia", "Lindqvist", "Paediatrics", 15, False, (0, 1, 2, 3), (8, 12)),
    DemoDoctor("Kwame", "Mensah", "Orthopaedics", 18, True, (2, 4), (9, 13)),
    DemoDoctor("Claire", "Dubois", "Psychiatry", 11, True, (0, 2, 3), (14, 18)),
    DemoDoctor("Yusuf", "Demir", "Cardiology", 4, False, (1, 4), (12, 16)),
]

PATIENTS = [
    ("Alice", "Morgan"),
    ("Ben", "Carter"),
    ("Chloe", "Nguyen"),
    ("Daniel", "Hughes"),
    ("Ella", "Fischer"),
    ("Farid", "Haddad"),
    ("Grace", "O'Neill"),
    ("Hiro", "Tanaka"),
    ("Isla", "McKenzie"),
    ("Jonas", "Berg"),
    ("Kemi", "Adeyemi"),
    ("Liam", "Walsh"),
    ("Maya", "Patel"),
    ("Noah", "Kowalski"),
    ("Olivia", "Rossi"),
    ("Pedro", "Alvarez"),
    ("Quinn", "Harper"),
    ("Rosa", "Jimenez"),
    ("Samir", "Khan"),
    ("Tess", "Lambert"),
    ("Uma", "Reddy"),
    ("Victor", "Novak"),
    ("Wen", "Zhao"),
    ("Zara", "Ahmed"),
]
INSURERS = ["Acme Health", "BlueCross Mutual", "Meridian Care", "NHS (no private cover)"]
ALLERGIES = ["", "", "Penicillin", "Peanuts", "Latex", "Pollen"]
REASONS = [
    "Annual check-up",
    "Follow-up visit",
    "Persistent cough",
    "Back pain",
    "Skin rash",
    "Blood pressure review",
    "Prescription renewal",
    "Sleep problems",
    "Knee injury",
    "Chest discomfort",
]
COMMENTS = [
    "Very thorough and kind.",
    "Listened carefully and explained everything.",
    "Had to wait a while, but the consultation was good.",
    "Clear advice, I feel much better.",
    "A bit rushed.",
    "",
]

PAST_DAYS = 60  # past appointments over the last two months
PAST_SHARE = 0.35  # of a doctor's past working hours that held an appointment
UPCOMING_BOOKINGS = 60


def _username(first: str, last: str) -> str:
    return f"{first}.{last}".lower().replace("'", "").replace(" ", "")


class ProgressBar:
    """A progress bar on stdout: redrawn in place on a terminal, one line when done
    elsewhere (a log, a pipe)."""

    WIDTH = 30

    def __init__(self, out, label: str, total: int):
        self.out, self.label, self.total, self.done = out, label, total, 0
        self.live = out.isatty()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.live:
            self._draw("\r")

    def close(self) -> None:
        self._draw("\r" if self.live else "")
        self.out.write("")

    def _draw(self, start: str) -> None:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.out.write(f"{start}{self.label:<22} [{bar}] {self.done}/{self.total}", ending="")
        self.out.flush()


class Command(BaseCommand):
    help = "Fill the database with a demo clinic (idempotent) and print the sign-in names."

    def handle(self, *args, **options):
        self.random = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
        self.credentials: list[tuple[str, str, str]] = []
        with transaction.atomic():
            admin = self._admin()
            specializations = self._specializations()
            doctors = self._doctors(specializations)
            patients = self._patients()
            self._schedules(doctors)
            self._appointments(admin, doctors, patients)
        self._credentials_print()

    # People ------------------------------------------------------------------------------------

    def _note(self, username: str, password: str, what: str, created: bool) -> None:
        self.credentials.append(
            (username, password if created else "(existed: password unchanged)", what)
        )

    def _admin(self):
        User = get_user_model()
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        created = admin is None
        if created:
            admin = User.objects.create_superuser(
                ADMIN_USERNAME, f"{ADMIN_USERNAME}@{EMAIL_DOMAIN}", ADMIN_PASSWORD
            )
        self._note(ADMIN_USERNAME, ADMIN_PASSWORD, "clinic administrator (superuser)", created)
        return admin

    def _specializations(self) -> dict[str, Specialization]:
        found = {s.name: s for s in Specialization.objects.filter(name__in=SPECIALIZATIONS)}
        for name in SPECIALIZATIONS:
            if name not in found:
                found[name] = doctor_services.specialization_create(name=name)
        return found

    def _doctors(self, specializations) -> list[tuple[DemoDoctor, Doctor]]:
        existing = {
            d.user.username: d
            for d in Doctor.objects.select_related("user").filter(
                user__username__in=[spec.username for spec in DOCTORS]
            )
        }
        progress = ProgressBar(self.stdout, "Doctors", len(DOCTORS))
        doctors = []
        for n, spec in enumerate(DOCTORS):
            doctor = existing.get(spec.username)
            if doctor is None:
                doctor = doctor_services.doctor_create(
                    username=spec.username,
                    email=f"{spec.username}@{EMAIL_DOMAIN}",
                    password=DOCTOR_PASSWORD,
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    specialization=specializations[spec.specialization],
                    license_number=f"GMC-{7100000 + n * 137:07d}",
                    years_of_experience=spec.years,
                    bio=f"{spec.specialization}, {spec.years} years in practice.",
                    requires_approval=spec.requires_approval,
                )
            created = spec.username not in existing
            self._note(spec.username, DOCTOR_PASSWORD, f"doctor, {spec.specialization}", created)
            doctors.append((spec, doctor))
            progress.advance()
        progress.close()
        return doctors

    def _patients(self) -> list[Patient]:
        usernames = [_username(first, last) for first, last in PATIENTS]
        existing = {
            p.user.username: p
            for p in Patient.objects.select_related("user").filter(user__username__in=usernames)
        }
        progress = ProgressBar(self.stdout, "Patients", len(PATIENTS))
        patients = []
        for n, ((first, last), username) in enumerate(zip(PATIENTS, usernames, strict=True)):
            patient = existing.get(username)
            if patient is None:
                patient = patient_services.patient_register(
                    username=username,
                    email=f"{username}@{EMAIL_DOMAIN}",
                    password=PATIENT_PASSWORD,
                    first_name=first,
                    last_name=last,
                    date_of_birth=date(1950 + (n * 7) % 55, 1 + n % 12, 1 + (n * 5) % 28),
                    gender=("female", "male", "other", "undisclosed")[n % 4],
                    contact_number=f"+44 7700 900{n:03d}",
                    insurance_provider=INSURERS[n % len(INSURERS)],
                    insurance_policy_number=f"POL-{40000 + n * 113}",
                )
                allergies = ALLERGIES[n % len(ALLERGIES)]
                if allergies:
                    patient_services.patient_medical_record_update(
                        patient=patient, allergies=allergies
                    )
            self._note(username, PATIENT_PASSWORD, "patient", username not in existing)
            patients.append(patient)
            progress.advance()
        progress.close()
        return patients

    # Schedules ---------------------------------------------------------------------------------

    def _schedules(self, doctors) -> None:
        """Weekly rules from today (their slots are generated through the horizon), a clinic
        holiday three weeks ahead and one doctor's week of leave, before any booking."""
        with_rules = set(
            WeeklyRule.objects.filter(doctor__in=[d for _, d in doctors]).values_list(
                "doctor_id", flat=True
            )
        )
        todo = [(spec, doctor) for spec, doctor in doctors if doctor.pk not in with_rules]
        progress = ProgressBar(self.stdout, "Weekly rules and slots", len(todo))
        today = clinic_today()
        for spec, doctor in todo:
            for weekday in spec.weekdays:
                schedule_services.weekly_rule_create(
                    doctor=doctor,
                    day_of_week=weekday,
                    start_time=time(spec.hours[0]),
                    end_time=time(spec.hours[1]),
                    effective_from=today,
                )
            progress.advance()
        progress.close()
        if not todo:
            return
        if not Holiday.objects.filter(name="Staff training day").exists():
            schedule_services.holiday_create(
                day=today + timedelta(days=21), name="Staff training day"
            )
        _, on_leave = doctors[2]
        if TimeOff.objects.filter(doctor=on_leave).exists():
            return
        # A week of clinic days, from the start of the first (which on a day the clocks go
        # forward at midnight is 01:00) to the start of the eighth.
        leave_first_day = today + timedelta(days=35)
        schedule_services.time_off_create(
            doctor=on_leave,
            start=day_start(leave_first_day),
            end=day_start(leave_first_day + timedelta(days=7)),
            reason="Annual leave",
        )

    # Appointments ------------------------------------------------------------------------------

    def _appointments(self, admin, doctors, patients) -> None:
        demo_doctors = [doctor for _, doctor in doctors]
        if Appointment.objects.filter(doctor__in=demo_doctors).exists():
            self.stdout.write("Appointments: already there, none added.")
            return
        self._past_appointments(admin, doctors, patients)
        self._upcoming_appointments(doctors, patients)

    def _past_hours(self, doctors) -> list[tuple[Doctor, datetime]]:
        """The hours the doctors worked over the last `PAST_DAYS` days, a share of them
        drawn to have held an appointment."""
        today = clinic_today()
        hours = []
        for day in (today - timedelta(days=n) for n in range(PAST_DAYS, 0, -1)):
            for spec, doctor in doctors:
                if day.weekday() not in spec.weekdays:
                    continue
                for hour in range(*spec.hours):
                    start = wall_time_occurrence(day, time(hour))
                    if start is not None and self.random.random() < PAST_SHARE:
                        hours.append((doctor, start))
        return hours

    def _past_appointments(self, admin, doctors, patients) -> None:
        hours = self._past_hours(doctors)
        progress = ProgressBar(self.stdout, "Past appointments", len(hours))
        busy: set[tuple[int, datetime]] = set()
        for doctor, start in hours:
            patient = self.random.choice(patients)
            if (patient.pk, start) in busy:
                progress.advance()
                continue
            busy.add((patient.pk, start))
            self._past_appointment(admin, doctor, patient, start)
            progress.advance()
        progress.close()

    def _past_appointment(self, admin, doctor: Doctor, patient: Patient, start: datetime) -> None:
        end = start + schedule_services.slot_length()
        booked_at = start - timedelta(days=self.random.randint(2, 20), hours=3)
        outcome = self.random.choices(
            ["completed", "no_show", "cancelled", "rejected"], weights=[64, 16, 14, 6]
        )[0]
        # The booking service refuses a slot that has started, so a past booking is written
        # directly (window, slot, appointment, first history row), as it stood then.
        window = AvailabilityWindow.objects.create(doctor=doctor, start=start, end=end)
        slot = Slot.objects.create(
            doctor=doctor, window=window, start=start, end=end, is_booked=True
        )
        appointment = Appointment.objects.create(
            patient=patient,
            doctor=doctor,
            slot=slot,
            start=start,
            end=end,
            status=AppointmentStatus.PENDING
            if outcome == "rejected"
            else AppointmentStatus.CONFIRMED,
            reason=self.random.choice(REASONS),
            created_by=patient.user,
        )
        appointment_services.status_change_record(
            appointment=appointment, from_status="", actor=patient.user
        )
        move = appointment_services.appointment_transition
        if outcome == "completed":
            move(
                appointment_id=appointment.pk,
                action=Action.COMPLETE,
                actor=doctor.user,
                diagnosis=f"{appointment.reason}: assessed, no serious findings.",
                treatment_notes="Advice given; review in three months if needed.",
            )
            if self.random.random() < 0.7:
                appointment_services.feedback_submit(
                    appointment_id=appointment.pk,
                    actor=patient.user,
                    rating=self.random.choices([2, 3, 4, 5], weights=[1, 3, 8, 10])[0],
                    comments=self.random.choice(COMMENTS),
                )
        elif outcome == "no_show":
            move(appointment_id=appointment.pk, action=Action.NO_SHOW, actor=doctor.user)
            if self.random.random() < 0.5:
                penalty = Penalty.objects.get(appointment=appointment)
                appointment_services.penalty_resolve(penalty_id=penalty.pk, actor=admin)
        else:
            # A cancellation or a rejection happens before the visit, and the service allows
            # neither once it has ended: written directly, as it stood then, like the booking.
            status, note = {
                "cancelled": (AppointmentStatus.CANCELLED, "The doctor was called away."),
                "rejected": (AppointmentStatus.REJECTED, "Please see a specialist instead."),
            }[outcome]
            self._past_move_write(appointment, status, doctor.user, note)
            self._backdate(appointment, booked_at, moved_at=booked_at + timedelta(days=1))
            return
        self._backdate(appointment, booked_at, moved_at=appointment.end)

    def _past_move_write(self, appointment: Appointment, status: str, actor, note: str) -> None:
        from_status = appointment.status
        appointment.status = status
        appointment.save(update_fields=["status", "updated_at"])
        Slot.objects.filter(appointments=appointment).update(is_booked=False)
        appointment_services.status_change_record(
            appointment=appointment, from_status=from_status, actor=actor, note=note
        )

    def _backdate(self, appointment: Appointment, booked_at: datetime, moved_at: datetime):
        """Move a past appointment's booking and history times to when they would have
        happened: booked at `booked_at`, each later move at `moved_at`."""
        Appointment.objects.filter(pk=appointment.pk).update(
            created_at=booked_at, updated_at=moved_at
        )
        history = list(AppointmentStatusChange.objects.filter(appointment=appointment))
        for change in history:
            change.at = booked_at if not change.from_status else moved_at
        AppointmentStatusChange.objects.bulk_update(history, ["at"])

    def _upcoming_appointments(self, doctors, patients) -> None:
        free = list(slot_list_free().filter(doctor__in=[d for _, d in doctors]))
        picks = self.random.sample(free, min(UPCOMING_BOOKINGS, len(free) // 2))
        spare = [slot for slot in free if slot not in picks]
        progress = ProgressBar(self.stdout, "Upcoming appointments", len(picks))
        for slot in sorted(picks, key=lambda s: s.start):
            patient = self.random.choice(patients)
            try:
                appointment = appointment_services.appointment_book(
                    actor=patient.user,
                    patient=patient,
                    slot_id=slot.pk,
                    reason=self.random.choice(REASONS),
                )
                self._upcoming_move(appointment, patient, spare)
            except DomainError:
                # The draw clashed with the patient's own diary or their penalties: a real
                # patient would have been refused too. Leave the slot free.
                pass
            progress.advance()
        progress.close()

    def _upcoming_move(self, appointment: Appointment, patient: Patient, spare: list[Slot]):
        doctor_user = appointment.doctor.user
        move = appointment_services.appointment_transition
        draw = self.random.random()
        if draw < 0.15:
            move(
                appointment_id=appointment.pk,
                action=Action.CANCEL,
                actor=patient.user,
                note="Cannot make it any more.",
            )
        elif draw < 0.25 and spare:
            appointment_services.appointment_reschedule(
                appointment_id=appointment.pk, actor=patient.user, slot_id=spare.pop().pk
            )
        elif appointment.status == AppointmentStatus.PENDING:
            if draw < 0.32:
                move(
                    appointment_id=appointment.pk,
                    action=Action.REJECT,
                    actor=doctor_user,
                    note="Fully booked that week, please choose another day.",
                )
            elif draw < 0.7:
                move(appointment_id=appointment.pk, action=Action.CONFIRM, actor=doctor_user)

    # Output ------------------------------------------------------------------------------------

    def _credentials_print(self) -> None:
        counts = dict.fromkeys(AppointmentStatus.values, 0) | dict(
            Appointment.objects.values_list("status").annotate(Count("pk")).order_by()
        )
        self.stdout.write("")
        self.stdout.write(
            "Appointments by status: "
            + ", ".join(f"{status} {count}" for status, count in counts.items())
        )
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS("Sign in at /admin/ (admin) or POST /api/v1/auth/token/ (all):")
        )
        width = max(len(username) for username, _, _ in self.credentials)
        for username, password, what in self.credentials:
            self.stdout.write(f"  {username:<{width}}  {password:<30}  {what}")
