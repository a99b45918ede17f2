"""Every list page of the admin site, with rows enough to show an N+1: the number of queries
is bounded and does not grow when the rows do. Encrypted fields never reach a list, and no
search looks into one."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import LoginFailure, User
from appointments.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    Feedback,
    IdempotencyRecord,
    Penalty,
)
from audit.models import AuditLog
from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import window_published
from tests.webhooks.receiver import SECRET
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

MODELS = [
    User,
    LoginFailure,
    Specialization,
    Doctor,
    Patient,
    WeeklyRule,
    AvailabilityWindow,
    Slot,
    TimeOff,
    Holiday,
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    Feedback,
    Penalty,
    IdempotencyRecord,
    AuditLog,
    WebhookEndpoint,
    WebhookDelivery,
]
# The most any list page may take: session, user, the page's rows and count, its filters'
# choices and the date hierarchy. An N+1 on 20 rows would pass it.
MAX_QUERIES = 12


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


_batch = iter(range(1000))


def rows(admin_user, count: int) -> None:
    """`count` rows of every model, each with the related rows its list shows."""
    for _ in range(count):
        n = next(_batch)
        doctor, patient = DoctorFactory.create(), PatientFactory.create()
        WeeklyRule.objects.create(
            doctor=doctor,
            day_of_week=n % 7,
            start_time=time(9),
            end_time=time(12),
            effective_from=timezone.localdate(),
        )
        window = window_published(doctor, start=in_future(days=3 + n).replace(hour=9))
        first, second, _ = window.slots.order_by("start")
        TimeOff.objects.create(
            doctor=doctor, start=in_future(days=200 + n), end=in_future(days=201 + n)
        )
        Holiday.objects.create(date=timezone.localdate() + timedelta(days=100 + n), name=f"H{n}")
        series = AppointmentSeries.objects.create(
            patient=patient, doctor=doctor, every_weeks=1, count=2, created_by=admin_user
        )
        booked = AppointmentFactory.create(
            doctor=doctor, patient=patient, slot=first, series=series
        )
        missed = AppointmentFactory.create(
            doctor=doctor, patient=patient, slot=second, status="no_show"
        )
        for appointment in (booked, missed):
            AppointmentStatusChange.objects.create(
                appointment=appointment, to_status="confirmed", actor=admin_user, at=timezone.now()
            )
        Feedback.objects.create(appointment=missed, doctor=doctor, rating=4)
        Penalty.objects.create(patient=patient, appointment=missed, resolved_by=admin_user)
        IdempotencyRecord.objects.create(
            user=patient.user, key=f"key-{n}", request_hash="0" * 64, created_at=timezone.now()
        )
        LoginFailure.objects.create(username=f"intruder{n}", ip="192.0.2.1")
        endpoint = WebhookEndpoint.objects.create(
            url=f"https://ehr{n}.example.org/", events=["appointment.booked"], secret=SECRET
        )
        WebhookDelivery.objects.create(
            event=WebhookEvent.objects.create(type="appointment.booked", data={}),
            endpoint=endpoint,
        )


def list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_list_page_takes_a_bounded_number_of_queries_whatever_its_rows(
    client, admin_user, model, django_assert_max_num_queries
):
    client.force_login(admin_user)
    url = changelist(model)
    rows(admin_user, 3)
    few = list_queries(client, url)
    rows(admin_user, 7)

    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 10
    assert len(captured) == few, "the list page's queries grow with its rows (N+1)"


@pytest.mark.django_db
def test_the_appointment_list_filters_by_status_doctor_specialization_and_date(client, admin_user):
    client.force_login(admin_user)
    doctor = DoctorFactory.create()
    mine = AppointmentFactory.create(doctor=doctor, status="pending")
    AppointmentFactory.create(status="pending")
    AppointmentFactory.create(
        doctor=doctor, status="cancelled", slot__window__start=in_future(days=40)
    )
    url = changelist(Appointment)

    def listed(**params):
        return set(client.get(url, params).context["cl"].result_list)

    assert listed(status__exact="pending", doctor=str(doctor.pk)) == {mine}
    assert listed(
        doctor__specialization__id__exact=doctor.specialization_id, status__exact="pending"
    ) == {mine}
    start = mine.start.astimezone(timezone.get_default_timezone())
    assert mine in listed(start__year=start.year, start__month=start.month)
    assert listed(q=mine.patient.user.last_name) >= {mine}


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_list_page_is_searched_on_plain_columns_only(client, admin_user, model):
    """An encrypted column cannot be searched (its text is not in the database): a search
    field naming one would make every search of the page a 500."""
    client.force_login(admin_user)
    rows(admin_user, 1)

    response = client.get(changelist(model), {"q": "Smith"})

    assert response.status_code == 200


@pytest.mark.django_db
def test_feedback_is_searched_by_its_doctor(client, admin_user):
    client.force_login(admin_user)
    doctor = DoctorFactory.create(user__last_name="Okonkwo")
    visit = AppointmentFactory.create(doctor=doctor, status="completed")
    feedback = Feedback.objects.create(appointment=visit, doctor=doctor, rating=5, comments="Kind")
    Feedback.objects.create(
        appointment=AppointmentFactory.create(status="completed"),
        doctor=DoctorFactory.create(),
        rating=1,
    )

    listed = client.get(changelist(Feedback), {"q": "Okonkwo"}).context["cl"].result_list

    assert list(listed) == [feedback]


@pytest.mark.django_db
def test_encrypted_fields_never_reach_the_patient_list(client, admin_user):
    client.force_login(admin_user)
    PatientFactory.create(insurance_policy_number="POL-SECRET-1", allergies="Shellfish")

    page = client.get(changelist(Patient)).content.decode()

    assert "POL-SECRET-1" not in page
    assert "Shellfish" not in page


@pytest.mark.django_db
def test_a_malformed_doctor_filter_is_the_admins_error_page_not_a_500(client, admin_user):
    client.force_login(admin_user)
    AppointmentFactory.create()

    response = client.get(changelist(Appointment), {"doctor": "not-a-uuid"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
