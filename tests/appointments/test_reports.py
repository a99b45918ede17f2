"""The reports API and the admin's Reports page, on data crafted to have known answers.

The clinic is in Europe/London: 23:30 UTC on a summer day is already the next clinic day
(BST), on a winter day it is still the same one (GMT). Appointments are written directly
(reports read whatever is stored, past or future).
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from appointments.models import Appointment, AppointmentSeries, Feedback
from core.clinic_time import clinic_today
from scheduling.models import AvailabilityWindow, Slot
from tests.conftest import error_attrs, error_codes
from tests.factories import DoctorFactory, PatientFactory

URL = "/api/v1/reports/"
STATUSES = ["pending", "confirmed", "rejected", "cancelled", "rescheduled", "completed", "no_show"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("clinic_in_london"),
]


@pytest.fixture
def clinic_in_london(settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def appointment(
    doctor, patient, start: datetime, status: str, rating: int | None = None, series=None
):
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    made = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        status=status,
        series=series,
    )
    if rating is not None:
        Feedback.objects.create(appointment=made, doctor=doctor, rating=rating)
    return made


class Clinic:
    """Two doctors (Adams, Baker) and a third with nothing, three patients, and appointments
    around 1-3 July 2030 (summer time) plus a few outside that range."""

    def __init__(self):
        self.adams = DoctorFactory(user__first_name="Ann", user__last_name="Adams")
        self.baker = DoctorFactory(user__first_name="Bob", user__last_name="Baker")
        self.idle = DoctorFactory(user__first_name="Ida", user__last_name="Idle")
        self.pat = PatientFactory(user__first_name="Pat", user__last_name="Jones")
        self.quinn = PatientFactory(user__first_name="Quinn", user__last_name="Smith")
        self.rae = PatientFactory(user__first_name="Rae", user__last_name="Young")
        a, b = self.adams, self.baker
        # 1 July (clinic day): 09:00 BST is 08:00 UTC.
        appointment(a, self.pat, at(2030, 7, 1, 8), "completed", rating=5)
        appointment(a, self.quinn, at(2030, 7, 1, 9), "completed", rating=4)
        appointment(a, self.rae, at(2030, 7, 1, 10), "no_show")
        appointment(b, self.pat, at(2030, 7, 1, 8), "no_show")
        appointment(b, self.quinn, at(2030, 7, 1, 9), "cancelled")
        # 23:30 UTC on 1 July is 00:30 on 2 July in the clinic.
        appointment(b, self.rae, at(2030, 7, 1, 23, 30), "no_show")
        appointment(a, self.pat, at(2030, 7, 2, 9), "pending")
        appointment(b, self.pat, at(2030, 7, 2, 12), "completed", rating=2)
        # 2 July 23:30 UTC is 3 July for the clinic; 3 July has nothing else.
        appointment(a, self.quinn, at(2030, 7, 2, 23, 30), "confirmed")
        appointment(a, self.rae, at(2030, 7, 3, 23, 30), "rejected")  # 4 July: out of range
        # Outside the range: 30 June 22:59 UTC is 23:59 BST on 30 June.
        appointment(a, self.pat, at(2030, 6, 30, 22, 59), "no_show")
        appointment(b, self.quinn, at(2030, 8, 1, 9), "completed", rating=1)


@pytest.fixture
def clinic():
    return Clinic()


JULY = {"date_from": "2030-07-01", "date_to": "2030-07-03"}


def day(date: str, series_visits: int = 0, **counts) -> dict:
    row = {"date": date, **dict.fromkeys(STATUSES, 0), **counts}
    row["total"] = sum(counts.values())
    row["series_visits"] = series_visits
    return row


def test_appointments_per_day_counts_each_status_on_clinic_local_days(admin_client, clinic):
    response = admin_client.get(f"{URL}appointments/", JULY)

    assert response.status_code == 200, response.json()
    assert response.json() == [
        day("2030-07-01", completed=2, no_show=2, cancelled=1),
        day("2030-07-02", no_show=1, pending=1, completed=1),
        day("2030-07-03", confirmed=1),
    ]


def test_appointments_per_day_lists_days_without_appointments_with_zeros(admin_client, clinic):
    response = admin_client.get(
        f"{URL}appointments/", {"date_from": "2030-07-20", "date_to": "2030-07-22"}
    )

    assert response.json() == [day("2030-07-20"), day("2030-07-21"), day("2030-07-22")]


def test_appointments_per_day_without_a_range_runs_from_the_first_to_the_last_appointment(
    admin_client, clinic
):
    days = admin_client.get(f"{URL}appointments/").json()

    assert (days[0]["date"], days[-1]["date"], len(days)) == ("2030-06-30", "2030-08-01", 33)
    assert sum(d["total"] for d in days) == Appointment.objects.count() == 12
    assert days[0] == day("2030-06-30", no_show=1)


def test_visits_of_series_are_counted_per_day_and_per_doctor(admin_client):
    doctor, patient = DoctorFactory(), PatientFactory()
    weekly, other = (
        AppointmentSeries.objects.create(patient=patient, doctor=doctor, every_weeks=1, count=3)
        for _ in range(2)
    )
    for week in range(3):
        appointment(doctor, patient, at(2030, 9, 2 + 7 * week, 9), "confirmed", series=weekly)
    appointment(doctor, patient, at(2030, 9, 2, 11), "cancelled", series=other)
    appointment(doctor, patient, at(2030, 9, 2, 13), "confirmed")
    first_week = {"date_from": "2030-09-02", "date_to": "2030-09-08"}

    days = admin_client.get(f"{URL}appointments/", first_week).json()
    doctors = admin_client.get(f"{URL}doctors/", first_week).json()

    assert days[0] == day("2030-09-02", series_visits=2, confirmed=2, cancelled=1)
    row = next(row for row in doctors if row["doctor"] == str(doctor.pk))
    assert (row["appointments"], row["series_visits"], row["series"]) == (3, 2, 2)
    all_time = admin_client.get(f"{URL}doctors/").json()
    row = next(row for row in all_time if row["doctor"] == str(doctor.pk))
    assert (row["appointments"], row["series_visits"], row["series"]) == (5, 4, 2)


def test_winter_evenings_stay_on_the_same_clinic_day(admin_client):
    doctor, patient = DoctorFactory(), PatientFactory()
    appointment(doctor, patient, at(2030, 12, 1, 23, 30), "confirmed")  # GMT: still 1 December

    response = admin_client.get(
        f"{URL}appointments/", {"date_from": "2030-12-01", "date_to": "2030-12-02"}
    )

    assert response.json() == [day("2030-12-01", confirmed=1), day("2030-12-02")]


def test_no_shows_total_and_per_doctor_and_patient(admin_client, clinic):
    response = admin_client.get(f"{URL}no-shows/", JULY)

    assert response.status_code == 200
    assert response.json() == {
        "total": 3,
        "by_doctor": [
            {"doctor": str(clinic.baker.pk), "doctor_name": "Bob Baker", "count": 2},
            {"doctor": str(clinic.adams.pk), "doctor_name": "Ann Adams", "count": 1},
        ],
        "by_patient": [
            {"patient": str(clinic.rae.pk), "patient_name": "Rae Young", "count": 2},
            {"patient": str(clinic.pat.pk), "patient_name": "Pat Jones", "count": 1},
        ],
    }


def test_no_shows_of_all_time_without_a_range(admin_client, clinic):
    body = admin_client.get(f"{URL}no-shows/").json()

    assert body["total"] == 4
    assert body["by_doctor"][0]["count"] == body["by_doctor"][1]["count"] == 2
    # Ties are broken by name: Adams before Baker.
    assert [row["doctor_name"] for row in body["by_doctor"]] == ["Ann Adams", "Bob Baker"]


def test_doctors_report_counts_and_mean_rating_in_the_range(admin_client, clinic):
    response = admin_client.get(f"{URL}doctors/", JULY)

    assert response.status_code == 200
    assert response.json() == [
        {
            "doctor": str(clinic.adams.pk),
            "doctor_name": "Ann Adams",
            "specialization": clinic.adams.specialization.name,
            "appointments": 5,
            "completed": 2,
            "no_shows": 1,
            "cancellations": 0,
            "series_visits": 0,
            "series": 0,
            "mean_rating": 4.5,
            "rating_count": 2,
        },
        {
            "doctor": str(clinic.baker.pk),
            "doctor_name": "Bob Baker",
            "specialization": clinic.baker.specialization.name,
            "appointments": 4,
            "completed": 1,
            "no_shows": 2,
            "cancellations": 1,
            "series_visits": 0,
            "series": 0,
            "mean_rating": 2.0,
            "rating_count": 1,
        },
        {
            "doctor": str(clinic.idle.pk),
            "doctor_name": "Ida Idle",
            "specialization": clinic.idle.specialization.name,
            "appointments": 0,
            "completed": 0,
            "no_shows": 0,
            "cancellations": 0,
            "series_visits": 0,
            "series": 0,
            "mean_rating": None,
            "rating_count": 0,
        },
    ]


def test_doctors_report_of_all_time(admin_client, clinic):
    rows = {row["doctor_name"]: row for row in admin_client.get(f"{URL}doctors/").json()}

    assert (rows["Ann Adams"]["appointments"], rows["Ann Adams"]["no_shows"]) == (7, 2)
    # Baker's ratings: 2 in July, 1 in August; each rating counts once however many
    # appointments the doctor has (the ratings are not multiplied by the join).
    assert (rows["Bob Baker"]["mean_rating"], rows["Bob Baker"]["rating_count"]) == (1.5, 2)
    assert rows["Ann Adams"]["mean_rating"] == 4.5


@pytest.mark.parametrize("report", ["no-shows", "appointments", "doctors"])
@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"date_from": "2030-07-03", "date_to": "2030-07-01"}, "date_to"),
        ({"date_from": "1 July"}, "date_from"),
        ({"date_to": "2030-02-30"}, "date_to"),
        ({"date_from": "2030-01-01", "date_to": "2031-01-02"}, "date_to"),
    ],
)
def test_a_bad_range_is_a_400_on_the_field(admin_client, report, params, attr):
    response = admin_client.get(f"{URL}{report}/", params)

    assert response.status_code == 400
    assert error_codes(response) == ["invalid"]
    assert error_attrs(response) == [attr]


def test_a_full_year_is_allowed(admin_client, clinic):
    response = admin_client.get(
        f"{URL}appointments/", {"date_from": "2030-01-01", "date_to": "2030-12-31"}
    )

    assert response.status_code == 200
    assert len(response.json()) == 365


def test_per_day_report_asks_for_a_range_when_the_data_spans_more_than_a_year(admin_client):
    doctor, patient = DoctorFactory(), PatientFactory()
    appointment(doctor, patient, at(2030, 1, 1, 9), "completed")
    appointment(doctor, patient, at(2031, 6, 1, 9), "completed")

    response = admin_client.get(f"{URL}appointments/")

    assert response.status_code == 400
    assert error_attrs(response) == ["date_from"]
    bounded = admin_client.get(f"{URL}appointments/", {"date_from": "2031-01-01"})
    assert bounded.status_code == 200
    assert sum(d["total"] for d in bounded.json()) == 1


def _report_queries(client, report) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{URL}{report}/", JULY)
    assert response.status_code == 200
    return len(queries)


# The transaction that gives a report its longer statement timeout (core.db.long_statements):
# inside the test's own transaction, a savepoint, the SET LOCAL and the savepoint's release.
LONG_STATEMENTS_QUERIES = 3


@pytest.mark.parametrize(
    ("report", "expected"), [("no-shows", 3), ("appointments", 2), ("doctors", 2)]
)
def test_reports_take_a_fixed_number_of_queries(admin_client, clinic, report, expected):
    """One query loads the signed-in admin; the rest is the report's own SQL, the same for
    three times as many doctors, patients and appointments."""
    small = _report_queries(admin_client, report)
    for _ in range(2):
        Clinic()
    large = _report_queries(admin_client, report)

    assert small == large == expected + LONG_STATEMENTS_QUERIES


class TestTheAdminReportsPage:
    PAGE = "/admin/reports/"

    def test_it_charts_the_same_figures_as_the_api(self, client, admin_user, admin_client, clinic):
        client.force_login(admin_user)

        response = client.get(self.PAGE, JULY)

        assert response.status_code == 200
        charts = response.context["charts"]
        api = {
            key: admin_client.get(f"{URL}{report}/", JULY).json()
            for key, report in [
                ("per_day", "appointments"),
                ("no_shows", "no-shows"),
                ("doctors", "doctors"),
            ]
        }
        rendered = json.loads(
            re.search(
                r'<script id="report-data" type="application/json">(.*?)</script>',
                response.content.decode(),
                re.S,
            ).group(1)
        )
        for key, figures in api.items():
            assert rendered[key] == figures
        assert [s["key"] for s in charts["statuses"]] == STATUSES
        page = response.content.decode()
        assert "careslot/vendor/chart.umd.min.js" in page
        assert 'id="chart-per-day"' in page
        assert "http://" not in page.replace("http://www.w3.org", "")

    def test_a_reversed_range_is_a_form_error(self, client, admin_user):
        client.force_login(admin_user)

        response = client.get(self.PAGE, {"date_from": "2030-07-03", "date_to": "2030-07-01"})

        assert response.status_code == 200
        assert response.context["form"].errors == {"date_to": ["Must not be before date_from."]}

    def test_without_a_range_it_shows_the_month_around_today(self, client, admin_user):
        client.force_login(admin_user)

        response = client.get(self.PAGE)

        days = response.context["charts"]["per_day"]
        assert len(days) == 61
        assert days[30]["date"] == clinic_today()

    def test_the_admin_index_links_to_it(self, client, admin_user):
        client.force_login(admin_user)

        assert 'href="/admin/reports/"' in client.get("/admin/").content.decode()

    def test_staff_without_the_permission_and_anonymous_visitors_are_kept_out(
        self, client, patient
    ):
        anonymous = client.get(self.PAGE)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/admin/login/")

        User.objects.filter(pk=patient.user.pk).update(is_staff=True)
        client.force_login(patient.user)
        assert client.get(self.PAGE).status_code == 403
        assert 'href="/admin/reports/"' not in client.get("/admin/").content.decode()
