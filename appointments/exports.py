"""CSV downloads for administrators: each report and the appointment list, from the API
(`?format=csv`, `Accept: text/csv`) and from the admin site's Reports page.

Every download is written to the audit log (who exported what, with which filters) before
it is streamed (`core.spreadsheet`: row by row, formula-like cells escaped). Days and times
are the clinic's (`CLINIC_TIME_ZONE`, named in a column), as everywhere in the API. The
appointment list carries ids, names, statuses and times, never the reason for the visit or
the clinical notes.
"""

from collections.abc import Iterator
from datetime import date

from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse

from appointments import reports
from appointments.models import Appointment
from audit.services import REQUEST_USER, audit_record
from core.clinic_time import clinic_today, clinic_zone, clinic_zone_name
from core.spreadsheet import csv_streaming_response

REPORT_HEADERS = {
    "appointments": ["date", *reports.STATUSES, "total"],
    "no-shows": ["kind", "id", "name", "count"],
    "doctors": list(reports.DoctorReportRow.__annotations__),
}

APPOINTMENT_HEADER = [
    "id",
    "status",
    "date",
    "start_time",
    "end_time",
    "time_zone",
    "patient",
    "patient_name",
    "doctor",
    "doctor_name",
    "specialization",
    "is_override",
    "rescheduled_from",
    "created_at",
]


def _report_rows(report: str, date_from: date | None, date_to: date | None) -> list[list]:
    match report:
        case "appointments":
            days = reports.report_appointments_per_day(date_from=date_from, date_to=date_to)
            return [[day[column] for column in REPORT_HEADERS[report]] for day in days]
        case "no-shows":
            found = reports.report_no_shows(date_from=date_from, date_to=date_to)
            return [
                ["doctor", row["doctor"], row["doctor_name"], row["count"]]
                for row in found["by_doctor"]
            ] + [
                ["patient", row["patient"], row["patient_name"], row["count"]]
                for row in found["by_patient"]
            ]
        case "doctors":
            rows = reports.report_doctors(date_from=date_from, date_to=date_to)
            return [[dict(row)[column] for column in REPORT_HEADERS[report]] for row in rows]
    raise ValueError(f"No report named {report}.")


def _export_record(*, target_type: str, export: str, filters: dict, actor) -> None:
    audit_record(
        action="export",
        target_type=target_type,
        changes={
            "export": export,
            "format": "csv",
            "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")},
        },
        actor=actor,
    )


def report_csv(
    *,
    report: str,
    date_from: date | None = None,
    date_to: date | None = None,
    actor=REQUEST_USER,
) -> StreamingHttpResponse:
    """One report (`appointments` per day, `no-shows`, `doctors`) over a range of
    clinic-local days as a CSV download; audited. The report is computed before anything is
    sent, so a range it refuses is still a 400."""
    rows = _report_rows(report, date_from, date_to)
    _export_record(
        target_type="report",
        export=report,
        filters={"date_from": date_from, "date_to": date_to},
        actor=actor,
    )
    return csv_streaming_response(
        filename=f"careslot-{report}-{clinic_today():%Y-%m-%d}.csv",
        header=REPORT_HEADERS[report],
        rows=rows,
    )


def _appointment_rows(appointments: QuerySet[Appointment]) -> Iterator[list]:
    zone, zone_name = clinic_zone(), clinic_zone_name()
    rows = (
        appointments.annotate(
            patient_first=F("patient__user__first_name"),
            patient_last=F("patient__user__last_name"),
            doctor_first=F("doctor__user__first_name"),
            doctor_last=F("doctor__user__last_name"),
            specialization_name=F("doctor__specialization__name"),
        )
        .values_list(
            "pk",
            "status",
            "start",
            "end",
            "patient_id",
            "patient_first",
            "patient_last",
            "doctor_id",
            "doctor_first",
            "doctor_last",
            "specialization_name",
            "is_override",
            "rescheduled_from_id",
            "created_at",
        )
        .iterator(chunk_size=2000)
    )
    for (
        pk,
        status,
        start,
        end,
        patient,
        patient_first,
        patient_last,
        doctor,
        doctor_first,
        doctor_last,
        specialization,
        is_override,
        rescheduled_from,
        created_at,
    ) in rows:
        start, end = start.astimezone(zone), end.astimezone(zone)
        yield [
            pk,
            status,
            start.date().isoformat(),
            f"{start:%H:%M}",
            f"{end:%H:%M}",
            zone_name,
            patient,
            f"{patient_first} {patient_last}".strip(),
            doctor,
            f"{doctor_first} {doctor_last}".strip(),
            specialization,
            is_override,
            rescheduled_from,
            created_at.astimezone(zone).isoformat(timespec="seconds"),
        ]


def appointments_csv(
    *, appointments: QuerySet[Appointment], filters: dict, actor=REQUEST_USER
) -> StreamingHttpResponse:
    """The appointments asked for (already filtered and ordered by the caller) as a CSV
    download, read from the database in chunks as it is sent; audited with its `filters`."""
    _export_record(target_type="appointment", export="appointments", filters=filters, actor=actor)
    return csv_streaming_response(
        filename=f"careslot-appointment-list-{clinic_today():%Y-%m-%d}.csv",
        header=APPOINTMENT_HEADER,
        rows=_appointment_rows(appointments),
    )
