"""CSV downloads of the reports and the admin's appointment list: asked for by `?format=csv`
or `Accept: text/csv`, streamed, days and times in the clinic's zone, formula-like cells
escaped, each download audited; errors stay JSON, and only admins download."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.http import StreamingHttpResponse

from appointments.models import Appointment
from audit.models import AuditLog
from core.spreadsheet import cell_safe
from scheduling.models import AvailabilityWindow, Slot
from tests.conftest import client_for, error_attrs
from tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_in_london")]

REPORTS = "/api/v1/reports/"
APPOINTMENTS = "/api/v1/appointments/"
DONE = ["completed", "no_show", "total"]
DOCTOR_COUNTS = ["appointments", "completed", "no_shows", "cancellations", "series_visits"]
DOCTOR_RATINGS = ["series", "mean_rating", "rating_count"]
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture
def clinic_in_london(settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"


def booked(doctor, patient, start: datetime, status="confirmed") -> Appointment:
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(minutes=30)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        status=status,
        reason="Chest pain, private",
    )


def table(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_is_escaped(value):
    assert cell_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann", "O'Neil", "", 3, -2, 4.5, None])
def test_other_cells_are_left_as_they_are(value):
    assert cell_safe(value) == ("" if value is None else value)


@pytest.fixture
def world():
    doctor = DoctorFactory(user__first_name="=cmd|' /C calc'!A0", user__last_name="Adams")
    patient = PatientFactory(user__first_name="@Eve", user__last_name="-Smith")
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (summer time).
    late = booked(doctor, patient, datetime(2030, 7, 1, 23, 30, tzinfo=UTC))
    noon = booked(doctor, patient, datetime(2030, 7, 3, 11, 0, tzinfo=UTC), status="no_show")
    return doctor, patient, late, noon


def test_the_admins_appointment_list_as_csv(admin_client, world):
    _, _, late, noon = world

    response = admin_client.get(APPOINTMENTS, {"format": "csv", "date_from": "2030-07-02"})

    header, *rows = table(response)
    assert header[:6] == ["id", "status", "date", "start_time", "end_time", "time_zone"]
    assert [row[0] for row in rows] == [str(late.pk), str(noon.pk)]
    first = dict(zip(header, rows[0], strict=True))
    assert (first["date"], first["start_time"], first["end_time"]) == (
        "2030-07-02",
        "00:30",
        "01:00",
    )
    assert first["time_zone"] == "Europe/London"
    assert first["doctor_name"] == "'=cmd|' /C calc'!A0 Adams"
    assert first["patient_name"] == "'@Eve -Smith"
    entry = AuditLog.objects.get(action="export")
    assert entry.target_type == "appointment"
    assert entry.changes["filters"] == {"date_from": "2030-07-02"}


def test_accept_text_csv_asks_for_it_too_and_nothing_clinical_is_in_it(admin_client, world):
    response = admin_client.get(APPOINTMENTS, HTTP_ACCEPT="text/csv")
    text = "\n".join(",".join(row) for row in table(response))
    assert "Chest pain" not in text
    assert len(text.splitlines()) == 3


@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_only_admins_download_the_list(world, role):
    doctor, patient, *_ = world
    user = patient.user if role == "patient" else doctor.user
    response = client_for(user).get(APPOINTMENTS, {"format": "csv"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert not AuditLog.objects.filter(action="export").exists()
    # Their own list in JSON is unchanged.
    assert client_for(user).get(APPOINTMENTS).status_code == 200


@pytest.mark.parametrize(
    ("report", "header"),
    [
        (
            "appointments",
            ["date", "pending", "confirmed", "rejected", "cancelled", "rescheduled", *DONE],
        ),
        ("no-shows", ["kind", "id", "name", "count"]),
        (
            "doctors",
            ["doctor", "doctor_name", "specialization", *DOCTOR_COUNTS, *DOCTOR_RATINGS],
        ),
    ],
)
def test_each_report_as_csv(admin_client, world, report, header):
    doctor, patient, *_ = world
    params = {"date_from": "2030-07-01", "date_to": "2030-07-03"}

    got = table(admin_client.get(f"{REPORTS}{report}/", {**params, "format": "csv"}))
    json_answer = admin_client.get(f"{REPORTS}{report}/", params).json()

    assert got[0] == header
    if report == "appointments":
        # Clinic-local days: the 23:30 UTC appointment counts on 2 July.
        assert [row[0] for row in got[1:]] == ["2030-07-01", "2030-07-02", "2030-07-03"]
        assert [row[-1] for row in got[1:]] == ["0", "1", "1"]
        assert len(got) - 1 == len(json_answer)
    elif report == "no-shows":
        assert got[1:] == [
            ["doctor", str(doctor.pk), "'=cmd|' /C calc'!A0 Adams", "1"],
            ["patient", str(patient.pk), "'@Eve -Smith", "1"],
        ]
    else:
        row = dict(zip(header, next(r for r in got[1:] if r[0] == str(doctor.pk)), strict=True))
        assert (row["appointments"], row["no_shows"]) == ("2", "1")
    entry = AuditLog.objects.get(action="export")
    assert (entry.target_type, entry.changes["export"]) == ("report", report)
    assert entry.changes["filters"] == params


def test_a_bad_range_is_a_json_400_and_nothing_is_audited(admin_client):
    response = admin_client.get(
        f"{REPORTS}doctors/", {"format": "csv", "date_from": "2030-07-03", "date_to": "2030-07-01"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert error_attrs(response) == ["date_to"]
    assert not AuditLog.objects.filter(action="export").exists()


def test_reports_stay_admin_only_in_csv(world):
    doctor, *_ = world
    response = client_for(doctor.user).get(f"{REPORTS}doctors/", {"format": "csv"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


class TestTheReportsPage:
    PAGE = "/admin/reports/"

    @pytest.fixture
    def staff(self, client, admin_user):
        client.force_login(admin_user)
        return client

    def test_the_page_links_each_download_for_its_range(self, staff):
        page = staff.get(self.PAGE, {"date_from": "2030-07-01", "date_to": "2030-07-03"})
        html = page.content.decode()
        for export in ("appointments", "no-shows", "doctors", "appointment-list"):
            assert (
                f'href="/admin/reports/csv/{export}/?date_from=2030-07-01&amp;date_to=2030-07-03"'
                in html
            )

    @pytest.mark.parametrize("export", ["appointments", "no-shows", "doctors"])
    def test_each_report_downloads_as_the_api_writes_it(self, staff, admin_client, world, export):
        params = {"date_from": "2030-07-01", "date_to": "2030-07-03"}
        from_site = table(staff.get(f"{self.PAGE}csv/{export}/", params))
        from_api = table(admin_client.get(f"{REPORTS}{export}/", {**params, "format": "csv"}))
        assert from_site == from_api
        assert AuditLog.objects.filter(action="export", target_type="report").count() == 2

    def test_the_appointment_list_of_the_range(self, staff, world):
        *_, noon = world
        got = table(
            staff.get(
                f"{self.PAGE}csv/appointment-list/",
                {"date_from": "2030-07-03", "date_to": "2030-07-03"},
            )
        )
        assert [row[0] for row in got[1:]] == [str(noon.pk)]
        assert AuditLog.objects.get(action="export").target_type == "appointment"

    def test_a_bad_range_goes_back_to_the_page(self, staff):
        response = staff.get(
            f"{self.PAGE}csv/doctors/", {"date_from": "2030-07-03", "date_to": "2030-07-01"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(self.PAGE + "?")
        assert not AuditLog.objects.filter(action="export").exists()

    def test_an_unknown_download_is_a_404_and_others_may_not(self, staff, client, world):
        assert staff.get(f"{self.PAGE}csv/patients/").status_code == 404
        doctor, *_ = world
        client.force_login(doctor.user)
        assert client.get(f"{self.PAGE}csv/doctors/").status_code in (302, 403)
