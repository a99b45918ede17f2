"""The flow a client walks, with the client openapi-python-client generates from openapi.yaml
(package `careslot_client`, on PYTHONPATH): run against a live server by
tests/openapi/test_generated_clients.py, as the TypeScript walk is.

    python walk.py <base URL> <admin username> <admin password> <name suffix>
"""

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from careslot_client import AuthenticatedClient, Client
from careslot_client.api.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_feedback_give,
    appointment_reschedule,
)
from careslot_client.api.auth import auth_logout, auth_me, auth_sign_in, auth_token_refresh
from careslot_client.api.availability import availability_window_create
from careslot_client.api.doctors import doctor_create, specialization_create
from careslot_client.api.patients import patient_register
from careslot_client.api.reports import report_appointments
from careslot_client.api.slots import slot_search
from careslot_client.models import (
    Appointment,
    AppointmentBookError409Code,
    AppointmentBookErrorResponse409,
    AppointmentDetail,
    AppointmentStatusEnum,
    CancelRequest,
    CompleteRequest,
    DoctorCreateRequest,
    DoctorPrivate,
    ErrorResponse,
    Feedback,
    FeedbackCreateRequest,
    LogoutRequest,
    Me,
    PaginatedSlotList,
    Patient,
    PatientRegisterRequest,
    RescheduleRequest,
    RoleEnum,
    SlotBookingRequest,
    Specialization,
    SpecializationRequest,
    TokenObtainRequest,
    TokenPair,
    TokenRefreshRequest,
    Window,
    WindowCreateRequest,
)
from careslot_client.types import Response

PASSWORD = "correct-horse-battery-staple-9"  # noqa: S105 (the walk's own accounts)
T = TypeVar("T")


def parsed(step: str, response: Response, expected: type[T]) -> T:
    """The answer's parsed body if it is the expected type; otherwise the error, read as the one
    envelope every error shares."""
    if isinstance(response.parsed, expected):
        return response.parsed
    error = ErrorResponse.from_dict(json.loads(response.content))
    codes = ", ".join(f"{e.attr or '-'}: {e.code}" for e in error.errors)
    raise AssertionError(f"{step}: {response.status_code} {error.type} ({codes})")


def check(step: str, actual, expected) -> None:
    if actual != expected:
        raise AssertionError(f"{step}: {actual!r} != {expected!r}")


def sign_in(base_url: str, username: str, password: str) -> TokenPair:
    response = auth_sign_in.sync_detailed(
        client=Client(base_url=base_url),
        body=TokenObtainRequest(username=username, password=password),
    )
    return parsed("sign in", response, TokenPair)


def signed_in(base_url: str, access: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=base_url, token=access)


def main(base_url: str, admin_username: str, admin_password: str, suffix: str) -> None:
    admin = signed_in(base_url, sign_in(base_url, admin_username, admin_password).access)

    # An admin adds a specialization and a doctor who approves bookings.
    specialty = parsed(
        "specialization",
        specialization_create.sync_detailed(
            client=admin, body=SpecializationRequest(name=f"Cardiology {suffix}")
        ),
        Specialization,
    )
    doctor_profile = parsed(
        "doctor",
        doctor_create.sync_detailed(
            client=admin,
            body=DoctorCreateRequest(
                username=f"dr.{suffix}",
                email=f"dr.{suffix}@clinic.test",
                password=PASSWORD,
                first_name="Grace",
                last_name="Hopper",
                specialization=specialty.id,
                license_number=f"LIC-{suffix}",
                years_of_experience=12,
                requires_approval=True,
            ),
        ),
        DoctorPrivate,
    )

    # A patient registers, signs in and refreshes their tokens.
    anonymous = Client(base_url=base_url)
    registered = parsed(
        "register",
        patient_register.sync_detailed(
            client=anonymous,
            body=PatientRegisterRequest(
                username=f"pat.{suffix}",
                email=f"pat.{suffix}@mail.test",
                password=PASSWORD,
                first_name="Ada",
                last_name="Lovelace",
                date_of_birth=date(1990, 12, 10),
            ),
        ),
        Patient,
    )
    tokens = sign_in(base_url, f"pat.{suffix}", PASSWORD)
    refreshed = parsed(
        "refresh",
        auth_token_refresh.sync_detailed(
            client=anonymous, body=TokenRefreshRequest(refresh=tokens.refresh)
        ),
        TokenPair,
    )
    patient = signed_in(base_url, refreshed.access)
    me = parsed("me", auth_me.sync_detailed(client=patient), Me)
    check("me: role", me.role, RoleEnum.PATIENT)
    assert isinstance(me.profile, Patient), "me: a patient's profile is the patient"
    check("me: profile", me.profile.id, registered.id)

    # The doctor publishes three hours, the first starting in a few seconds.
    doctor = signed_in(base_url, sign_in(base_url, f"dr.{suffix}", PASSWORD).access)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=7)
    parsed(
        "availability",
        availability_window_create.sync_detailed(
            client=doctor, body=WindowCreateRequest(start=start, end=start + timedelta(hours=3))
        ),
        Window,
    )

    # The patient searches, and books the first slot with an Idempotency-Key, twice.
    found = parsed(
        "search",
        slot_search.sync_detailed(client=patient, doctor=doctor_profile.id, page_size=10),
        PaginatedSlotList,
    )
    check("search: slots", found.count, 3)
    check("search: one page", found.next_, None)
    first, second, third = found.results

    def book_first():
        return appointment_book.sync_detailed(
            client=patient,
            body=SlotBookingRequest(slot=first.id, reason="Check-up"),
            idempotency_key=f"walk-{suffix}",
        )

    booked = parsed("book", book_first(), Appointment)
    check("book: status", booked.status, AppointmentStatusEnum.PENDING)
    replayed = parsed("book again", book_first(), Appointment)
    check("book again: the same appointment", replayed.id, booked.id)

    # The doctor confirms it.
    confirmed = parsed(
        "confirm",
        appointment_confirm.sync_detailed(booked.id, client=doctor),
        AppointmentDetail,
    )
    check("confirm: status", confirmed.status, AppointmentStatusEnum.CONFIRMED)

    # A second booking, moved to the third slot and then cancelled (its reason left out).
    later = parsed(
        "book later",
        appointment_book.sync_detailed(client=patient, body=SlotBookingRequest(slot=second.id)),
        Appointment,
    )
    moved = parsed(
        "reschedule",
        appointment_reschedule.sync_detailed(
            later.id, client=patient, body=RescheduleRequest(slot=third.id)
        ),
        Appointment,
    )
    check("reschedule: from", moved.rescheduled_from, later.id)
    # A refused call parses as the operation's own error, its code an enum member: the third
    # slot is held now.
    taken = appointment_book.sync_detailed(client=patient, body=SlotBookingRequest(slot=third.id))
    assert isinstance(taken.parsed, AppointmentBookErrorResponse409), taken.content
    check(
        "book a held slot: code",
        taken.parsed.errors[0].code,
        AppointmentBookError409Code.SLOT_UNAVAILABLE,
    )
    cancelled = parsed(
        "cancel",
        appointment_cancel.sync_detailed(moved.id, client=patient, body=CancelRequest()),
        AppointmentDetail,
    )
    check("cancel: status", cancelled.status, AppointmentStatusEnum.CANCELLED)

    # Once the visit has started the doctor completes it, and the patient rates it.
    time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds() + 0.5))
    completed = parsed(
        "complete",
        appointment_complete.sync_detailed(
            booked.id,
            client=doctor,
            body=CompleteRequest(diagnosis="Healthy", treatment_notes="None needed"),
        ),
        AppointmentDetail,
    )
    check("complete: status", completed.status, AppointmentStatusEnum.COMPLETED)
    rated = parsed(
        "feedback",
        appointment_feedback_give.sync_detailed(
            booked.id, client=patient, body=FeedbackCreateRequest(rating=5)
        ),
        Feedback,
    )
    check("feedback: rating", rated.rating, 5)

    # The admin's report counts the visit.
    today = datetime.now(UTC).date()
    report = report_appointments.sync_detailed(
        client=admin, date_from=today - timedelta(days=1), date_to=today + timedelta(days=1)
    )
    assert isinstance(report.parsed, list), report.content
    assert sum(day.completed for day in report.parsed) >= 1, "report: the visit is counted"

    # The patient signs out: their refresh token no longer works.
    out = auth_logout.sync_detailed(client=patient, body=LogoutRequest(refresh=refreshed.refresh))
    check("logout: status", out.status_code, 204)
    after = auth_token_refresh.sync_detailed(
        client=anonymous, body=TokenRefreshRequest(refresh=refreshed.refresh)
    )
    check("refresh after logout: status", after.status_code, 401)
    print("walk done")


if __name__ == "__main__":
    main(*sys.argv[1:5])
