"""Reports for clinic administrators: reads over appointments, aggregated by PostgreSQL.

Every report takes an optional range of clinic-local days (`date_from`, `date_to`, both
included) applied to the appointments' start, and answers in a fixed number of queries
however many appointments, doctors or patients there are, each of them allowed
`DB_LONG_STATEMENT_TIMEOUT_MS` (`core.db.long_statements`). "Which day" is the clinic's
(`CLINIC_TIME_ZONE`), as everywhere in the API.
"""

from datetime import date, timedelta
from typing import Any, TypedDict, cast
from uuid import UUID

from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models import Value as V
from django.db.models.functions import Coalesce, Concat, TruncDate

from appointments.models import Appointment, AppointmentStatus, Feedback
from core.clinic_time import clinic_zone, day_bounds
from core.db import long_statements
from core.errors import FieldInvalid
from doctors.models import Doctor

# The per-day report lists every day of its range, so its length is bounded.
REPORT_MAX_DAYS = 366

STATUSES: tuple[str, ...] = tuple(AppointmentStatus.values)


class DoctorCount(TypedDict):
    doctor: UUID
    doctor_name: str
    count: int


class PatientCount(TypedDict):
    patient: UUID
    patient_name: str
    count: int


class NoShowReport(TypedDict):
    total: int
    by_doctor: list[DoctorCount]
    by_patient: list[PatientCount]


class DoctorReportRow(TypedDict):
    doctor: UUID
    doctor_name: str
    specialization: str
    appointments: int
    completed: int
    no_shows: int
    cancellations: int
    series_visits: int
    series: int
    mean_rating: float | None
    rating_count: int


def report_range_check(*, date_from: date | None, date_to: date | None) -> None:
    """The range must run forwards and, with both ends given, span at most
    `REPORT_MAX_DAYS` days (400 on `date_to` otherwise)."""
    if date_from is None or date_to is None:
        return
    if date_to < date_from:
        raise FieldInvalid("Must not be before date_from.", attr="date_to")
    if (date_to - date_from).days + 1 > REPORT_MAX_DAYS:
        raise FieldInvalid(f"A report spans at most {REPORT_MAX_DAYS} days.", attr="date_to")


def _in_range(date_from: date | None, date_to: date | None, prefix: str = "") -> Q:
    """Appointments (through `prefix`) whose start falls on the clinic-local days asked for."""
    lower, upper = day_bounds(date_from, date_to)
    condition = Q()
    if lower is not None:
        condition &= Q(**{f"{prefix}start__gte": lower})
    if upper is not None:
        condition &= Q(**{f"{prefix}start__lt": upper})
    return condition


def _full_name(user_path: str) -> Concat:
    return Concat(F(f"{user_path}__first_name"), V(" "), F(f"{user_path}__last_name"))


@long_statements
def report_no_shows(*, date_from: date | None = None, date_to: date | None = None) -> NoShowReport:
    """No-show appointments in the range: how many, and how many per doctor and per patient,
    most first (ties by name). Two queries."""
    no_shows = Appointment.objects.filter(
        _in_range(date_from, date_to), status=AppointmentStatus.NO_SHOW
    ).order_by()
    # The rows' keys are the TypedDicts' (the values and annotations named here).
    by_doctor = cast(
        list[DoctorCount],
        list(
            no_shows.values("doctor")
            .annotate(doctor_name=_full_name("doctor__user"), count=Count("pk"))
            .order_by("-count", "doctor__user__last_name", "doctor__user__first_name", "doctor")
        ),
    )
    by_patient = cast(
        list[PatientCount],
        list(
            no_shows.values("patient")
            .annotate(patient_name=_full_name("patient__user"), count=Count("pk"))
            .order_by("-count", "patient__user__last_name", "patient__user__first_name", "patient")
        ),
    )
    return {
        "total": sum(row["count"] for row in by_doctor),
        "by_doctor": by_doctor,
        "by_patient": by_patient,
    }


@long_statements
def report_appointments_per_day(
    *, date_from: date | None = None, date_to: date | None = None
) -> list[dict]:
    """Appointments per clinic-local day of their start, counted per status (every status is
    a key, with 0 where none), in all (`total`) and those that are visits of a recurring
    series (`series_visits`), oldest day first. Every day from
    `date_from` to `date_to` is listed, those without appointments with zeros; an end left
    out is the first or last day that has an appointment. One query.

    A range that comes out longer than `REPORT_MAX_DAYS` (an end left out on years of data)
    is a 400 asking for both ends.
    """
    rows = (
        Appointment.objects.filter(_in_range(date_from, date_to))
        .annotate(day=TruncDate("start", tzinfo=clinic_zone()))
        .values("day")
        .annotate(
            **{status: Count("pk", filter=Q(status=status)) for status in STATUSES},
            total=Count("pk"),
            series_visits=Count("pk", filter=Q(series__isnull=False)),
        )
        .order_by("day")
    )
    counts = {row.pop("day"): row for row in rows}
    first = date_from or min(counts, default=None)
    last = date_to or max(counts, default=None)
    if first is None or last is None or last < first:
        return []
    span = (last - first).days + 1
    if span > REPORT_MAX_DAYS:
        raise FieldInvalid(
            f"The appointments span {span} days; give date_from and date_to "
            f"at most {REPORT_MAX_DAYS} days apart.",
            attr="date_from",
        )
    empty = dict.fromkeys((*STATUSES, "total", "series_visits"), 0)
    days = (first + timedelta(days=n) for n in range(span))
    return [{"date": day, **counts.get(day, empty)} for day in days]


def _doctor_feedback(date_from: date | None, date_to: date | None) -> QuerySet[Feedback, Any]:
    """Feedback on one doctor's appointments in the range (for a scalar subquery)."""
    return (
        Feedback.objects.filter(_in_range(date_from, date_to, "appointment__"))
        .filter(doctor=OuterRef("pk"))
        .order_by()
        .values("doctor")
    )


@long_statements
def report_doctors(
    *, date_from: date | None = None, date_to: date | None = None
) -> list[DoctorReportRow]:
    """Every doctor (blacklisted ones too), by name, with their appointments in the range:
    how many in all, completed, no-shows and cancellations, how many of them were visits of a
    recurring series and of how many series, and the mean (2 decimals) and number of the
    ratings given to those appointments (`mean_rating` null when none). One query: the counts
    aggregate one join, the ratings are subqueries so that the two one-to-many joins never
    multiply each other's rows."""
    in_range = _in_range(date_from, date_to, "appointments__")

    def appointments(status: str | None = None) -> Count:
        condition = in_range & Q(appointments__status=status) if status else in_range
        return Count("appointments", filter=condition or None)

    feedback = _doctor_feedback(date_from, date_to)
    rows = (
        Doctor.objects.annotate(
            appointment_count=appointments(),
            completed_count=appointments(AppointmentStatus.COMPLETED),
            no_show_count=appointments(AppointmentStatus.NO_SHOW),
            cancellation_count=appointments(AppointmentStatus.CANCELLED),
            series_visit_count=Count(
                "appointments", filter=in_range & Q(appointments__series__isnull=False)
            ),
            series_count=Count("appointments__series", filter=in_range or None, distinct=True),
            period_mean_rating=Subquery(
                feedback.annotate(mean=Avg("rating")).values("mean"), output_field=FloatField()
            ),
            period_rating_count=Coalesce(
                Subquery(feedback.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
        )
        .values(
            "pk",
            "appointment_count",
            "completed_count",
            "no_show_count",
            "cancellation_count",
            "series_visit_count",
            "series_count",
            "period_mean_rating",
            "period_rating_count",
            doctor_name=_full_name("user"),
            specialization_name=F("specialization__name"),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return [
        {
            "doctor": row["pk"],
            "doctor_name": row["doctor_name"],
            "specialization": row["specialization_name"],
            "appointments": row["appointment_count"],
            "completed": row["completed_count"],
            "no_shows": row["no_show_count"],
            "cancellations": row["cancellation_count"],
            "series_visits": row["series_visit_count"],
            "series": row["series_count"],
            "mean_rating": (
                None
                if row["period_mean_rating"] is None
                else round(float(row["period_mean_rating"]), 2)
            ),
            "rating_count": row["period_rating_count"],
        }
        for row in rows
    ]
