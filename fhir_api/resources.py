"""CareSlot's records as FHIR R4 resources (plain dicts, serialised as they are).

One builder per resource type, used by the read and search API and by the SMART Scheduling
Links publication alike. Nothing clinical is written: no visit reason, no notes, nothing of a
patient but a reference and a name on the appointments the caller may already see.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings

from accounts.models import full_name
from appointments.models import AppointmentStatus
from doctors.models import Doctor

FHIR_VERSION = "4.0.1"
LOCATION_ID = "clinic"
BOOKING_DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
BOOKING_PHONE = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"

# CareSlot's statuses in FHIR's Appointment.status value set; the called-off ones are all
# `cancelled` in FHIR.
APPOINTMENT_STATUS = {
    AppointmentStatus.PENDING: "pending",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.NO_SHOW: "noshow",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.REJECTED: "cancelled",
    AppointmentStatus.RESCHEDULED: "cancelled",
}
# The doctor's answer to the request, as Appointment.participant.status.
_PRACTITIONER_PARTICIPATION = {
    AppointmentStatus.PENDING: "needs-action",
    AppointmentStatus.REJECTED: "declined",
}


def instant(moment: datetime) -> str:
    """A FHIR `instant` in UTC, to the second (what SMART Scheduling Links requires)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _doctor_name(first_name: str, last_name: str) -> str:
    return f"Dr {full_name(first_name, last_name)}"


def practitioner_resource(doctor: Doctor) -> dict:
    user = doctor.user
    name = {"use": "official", "family": user.last_name, "prefix": ["Dr"]}
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Practitioner",
        "id": str(doctor.pk),
        "active": not doctor.is_blacklisted,
        "identifier": [
            {
                "use": "official",
                "type": {"text": "Medical licence number"},
                "value": doctor.license_number,
            }
        ],
        "name": [name],
        "qualification": [{"code": {"text": doctor.specialization.name}}],
    }


def schedule_resource(
    *,
    doctor_id,
    first_name: str,
    last_name: str,
    specialization: str,
    active: bool,
    with_practitioner: bool = True,
) -> dict:
    """A doctor's one Schedule: all of their slots. SMART Scheduling Links wants its `actor`
    to be exactly the Location (`with_practitioner=False`); the FHIR API names the doctor too."""
    actors = [{"reference": f"Location/{LOCATION_ID}", "display": settings.CLINIC_NAME}]
    if with_practitioner:
        actors.insert(
            0,
            {
                "reference": f"Practitioner/{doctor_id}",
                "display": _doctor_name(first_name, last_name),
            },
        )
    return {
        "resourceType": "Schedule",
        "id": str(doctor_id),
        "active": active,
        "serviceType": [{"text": specialization}],
        "actor": actors,
        "comment": f"Appointments with {_doctor_name(first_name, last_name)}",
    }


class SlotBooking:
    """How a free slot is booked, in SMART Scheduling Links' extensions: a deep link into the
    booking page (`SMART_BOOKING_URL`: `{slot}` replaced by the slot's id, or `slot=<id>` added
    to its query) and the clinic's phone (`CLINIC_PHONE`), each when set. Built once per
    answer: the publication writes it on every one of thousands of slots, and splitting the
    address around the id once keeps each link a concatenation."""

    def __init__(self) -> None:
        template = settings.SMART_BOOKING_URL
        self.link_parts = None
        if template and "{slot}" in template:
            self.link_parts = tuple(template.split("{slot}", 1))
        elif template:
            parts = urlsplit(template)
            query = f"{parts.query}&" if parts.query else ""
            marked = urlunsplit(parts._replace(query=f"{query}{urlencode({'slot': ''})}\0"))
            self.link_parts = tuple(marked.split("\0", 1))
        self.phone = settings.CLINIC_PHONE

    def extensions(self, slot_id) -> list[dict]:
        extensions = []
        if self.link_parts:
            prefix, suffix = self.link_parts
            extensions.append({"url": BOOKING_DEEP_LINK, "valueUrl": f"{prefix}{slot_id}{suffix}"})
        if self.phone:
            extensions.append({"url": BOOKING_PHONE, "valueString": self.phone})
        return extensions


def slot_resource(
    *, slot_id, doctor_id, start: datetime, end: datetime, status: str, booking: SlotBooking | None
) -> dict:
    """A Slot; `booking` (for a free one) adds the extensions saying where to book it."""
    resource: dict[str, object] = {
        "resourceType": "Slot",
        "id": str(slot_id),
        "schedule": {"reference": f"Schedule/{doctor_id}"},
        "status": status,
        "start": instant(start),
        "end": instant(end),
    }
    extensions = booking.extensions(slot_id) if booking else None
    if extensions:
        resource["extension"] = extensions
    return resource


def location_resource(*, identifier_system: str) -> dict:
    """The clinic (settings `CLINIC_*`), the one Location every Schedule is at."""
    telecom = []
    if settings.CLINIC_PHONE:
        telecom.append({"system": "phone", "value": settings.CLINIC_PHONE})
    if settings.CLINIC_WEBSITE:
        telecom.append({"system": "url", "value": settings.CLINIC_WEBSITE})
    address = {
        key: value
        for key, value in (
            ("line", settings.CLINIC_ADDRESS_LINES),
            ("city", settings.CLINIC_CITY),
            ("state", settings.CLINIC_STATE),
            ("postalCode", settings.CLINIC_POSTAL_CODE),
            ("country", settings.CLINIC_COUNTRY),
        )
        if value
    }
    resource = {
        "resourceType": "Location",
        "id": LOCATION_ID,
        "identifier": [{"system": identifier_system, "value": LOCATION_ID}],
        "name": settings.CLINIC_NAME,
    }
    if telecom:
        resource["telecom"] = telecom
    if address:
        resource["address"] = address
    return resource


def appointment_resource(appointment) -> dict:
    """An appointment from `appointments.selectors.appointment_list_page` (names as columns)."""
    status = appointment.status
    resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "status": APPOINTMENT_STATUS[status],
        "start": instant(appointment.start),
        "end": instant(appointment.end),
        "created": instant(appointment.created_at),
        "participant": [
            {
                "actor": {
                    "reference": f"Patient/{appointment.patient_id}",
                    "display": full_name(
                        appointment.patient_first_name, appointment.patient_last_name
                    ),
                },
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{appointment.doctor_id}",
                    "display": _doctor_name(
                        appointment.doctor_first_name, appointment.doctor_last_name
                    ),
                },
                "required": "required",
                "status": _PRACTITIONER_PARTICIPATION.get(status, "accepted"),
            },
        ],
    }
    if appointment.slot_id:
        resource["slot"] = [{"reference": f"Slot/{appointment.slot_id}"}]
    return resource


def operation_outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}


def searchset(*, resources: list[dict], self_url: str, next_url: str | None) -> dict:
    """A page of search results. No `total`: counting a large slot search would cost more
    than the page; `next` says whether there is more."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    base = self_url.split("?", 1)[0]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


# What the server offers: (resource type, its search parameters with their FHIR types).
_SERVED = [
    ("Practitioner", []),
    ("Schedule", [("actor", "reference")]),
    ("Slot", [("schedule", "reference"), ("start", "date"), ("status", "token")]),
    (
        "Appointment",
        [
            ("date", "date"),
            ("patient", "reference"),
            ("practitioner", "reference"),
            ("status", "token"),
        ],
    ),
    ("Location", []),
]


# When this statement last changed: move it with `_SERVED`.
CAPABILITY_DATE = "2026-12-03"


def capability_statement(*, base: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITY_DATE,
        "publisher": settings.CLINIC_NAME,
        "kind": "instance",
        "software": {"name": "CareSlot"},
        "implementation": {"description": "CareSlot's read-only FHIR API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Practitioner, Schedule, Slot and Location are public; "
                "Appointment needs a bearer token (JWT) and shows what /appointments/ shows. "
                "Free slots are also published per SMART Scheduling Links at $bulk-publish.",
                "resource": [
                    {
                        "type": resource_type,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [{"name": name, "type": kind} for name, kind in parameters]
                        + [{"name": "_count", "type": "number"}],
                    }
                    for resource_type, parameters in _SERVED
                ],
            }
        ],
    }
