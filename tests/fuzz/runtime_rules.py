"""What a positive example must also follow to be accepted: the rules a schema cannot state.

Schemathesis' "schema-valid request rejected" check expects a positive (schema-valid) example to
be accepted, or refused with 401, 403, 404, 409 or 429. Some of the API's 400s are for rules
JSON Schema has no words for, and docs/api.md makes them 400s: an id that names no record (DRF's
`does_not_exist`), one field against another (`end` after `start`, `date_to` not before
`date_from`), the clock (a holiday that has passed, a birth date to come, a window that has
started), the caller's current password, which of the optional fields an admin must give, and
a username's letters beyond ASCII (no portable pattern can state them).
Refusing those is the API working, not the schema and the validation disagreeing.

So, as schemathesis advises (seed known ids; extend the generators to the runtime rules), a
positive example is brought in line with those rules before it is sent: it names the records
the test seeded, puts times in the bookable future and in order, and so on. Every value put in
is one the schema admits, which `satisfy_runtime_rules` asserts, so a positive example stays
positive; negative examples go out exactly as generated. Beyond keeping the check honest, this
lets positive examples reach the code behind validation (201s, their bodies, their audit).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from core.clinic_time import time_zone_validate

STRONG_PASSWORD = "Fuzzing-horse-staple-93"


@dataclass(frozen=True)
class World:
    """The records the fuzz test seeds, that positive examples refer to."""

    specialization: int
    doctor: str
    patient: str
    password: str  # every seeded user's


def satisfy_runtime_rules(case, world: World) -> None:
    """Bring the schema-valid parts of `case` in line with the runtime rules. Whether a case is
    positive is judged from what is sent (schemathesis re-validates a case whose containers
    change, or whose generated negation could not be sent), so the rules look at the data: a
    body is rewritten only when it is schema-valid, a query value only when it is of its type."""
    if isinstance(case.query, dict):
        _query_rules(case.query, world)
    alternative = next(iter(case.operation.body), None)
    if isinstance(case.body, dict) and alternative is not None and alternative.is_valid(case.body):
        properties = _shape_properties(alternative.optimized_schema, case.body)
        _body_rules(case.body, properties, world)
        assert alternative.is_valid(case.body), f"no longer schema-valid: {case.body}"


def _shape_properties(schema: dict, body: dict) -> dict:
    """The properties of the body's schema; for a body of several shapes (a booking: a oneOf of
    a slot booking and an override), those of the shape `body` has. Schemathesis bundles the
    shapes by reference."""
    bundled = schema.get("x-bundled", {})

    def resolved(node: dict) -> dict:
        while "$ref" in node:
            node = bundled[node["$ref"].rsplit("/", 1)[-1]]
        return node

    root = resolved(schema)
    for shape in map(resolved, root.get("oneOf", [])):
        properties = shape.get("properties", {})
        if set(shape.get("required", [])) <= set(body) <= set(properties) and all(
            body[n] in p["enum"] for n, p in properties.items() if n in body and "enum" in p
        ):
            return properties
    return root.get("properties", {})


def _query_rules(query: dict, world: World) -> None:
    specialization = query.get("specialization")
    if (isinstance(specialization, int) and not isinstance(specialization, bool)) or (
        isinstance(specialization, str) and specialization.isascii() and specialization.isdigit()
    ):
        # An unknown specialization is a 400 (tests/doctors: test_an_unknown_..._is_400).
        query["specialization"] = world.specialization
    day_from, day_to = (_date_or_none(query.get(name)) for name in ("date_from", "date_to"))
    if day_from and day_to:
        # Forwards, and within a report's longest range.
        first, last = sorted((day_from, day_to))
        query["date_from"] = first.isoformat()
        query["date_to"] = min(last, first + timedelta(days=30)).isoformat()


def _date_or_none(value) -> date | None:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    # Only a day the schema admits, written as it writes them.
    return day if 1900 <= day.year <= 2199 and day.isoformat() == value else None


def _body_rules(body: dict, properties: dict, world: World) -> None:
    # Records a body names must exist; an admin must name the doctor or patient it acts for.
    for name, known in (
        ("specialization", world.specialization),
        ("doctor", world.doctor),
        ("patient", world.patient),
    ):
        if name in properties:
            body[name] = known
    today = timezone.localdate()
    if "start" in properties and "end" in properties:
        # A window, a time off, an override booking: ahead, in order, a couple of slots long
        # (the seeded doctor's published slot is on another day).
        start = datetime.combine(today + timedelta(days=2), datetime.min.time(), UTC) + timedelta(
            hours=9
        )
        body["start"] = start.isoformat().replace("+00:00", "Z")
        body["end"] = (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    if "start_time" in properties and "end_time" in properties:
        body["start_time"], body["end_time"] = "09:00", "11:00"
    if "effective_from" in properties:
        body["effective_from"] = (today + timedelta(days=1)).isoformat()
        if body.get("effective_until") is not None:
            body["effective_until"] = (today + timedelta(days=90)).isoformat()
    if "date" in properties:  # a holiday: one to come
        body["date"] = (today + timedelta(days=30)).isoformat()
    if isinstance(body.get("username"), str) and not _username_valid(body["username"]):
        # The schema's pattern refuses the ASCII characters Django's validator refuses; that
        # other characters must be letters or digits is in words, as no pattern both Python's
        # `re` and JavaScript read can say it (accounts.api.serializers).
        body["username"] = "fuzz.user"
    if isinstance(body.get("time_zone"), str) and not _time_zone_valid(body["time_zone"]):
        # The schema states the shape of an IANA name; which names exist is the tz database's.
        body["time_zone"] = "America/New_York"
    if isinstance(body.get("reminder_lead_times"), list):
        # Which lead times are offered is the clinic's setting (REMINDER_LEAD_TIMES).
        body["reminder_lead_times"] = ["2h"]
    if "date_from" in properties and "date_to" in properties:
        # A waitlist entry: days to come, in order, and an expiry before the last of them ends.
        body["date_from"] = (today + timedelta(days=1)).isoformat()
        body["date_to"] = (today + timedelta(days=7)).isoformat()
        if body.get("expires_at") is not None:
            expiry = datetime.combine(today + timedelta(days=3), datetime.min.time(), UTC)
            body["expires_at"] = expiry.isoformat().replace("+00:00", "Z")
        if body.get("earliest_time") is not None or body.get("latest_time") is not None:
            body.update(
                {
                    k: v
                    for k, v in (("earliest_time", "09:00"), ("latest_time", "17:00"))
                    if k in body
                }
            )
    if body.get("date_of_birth") and date.fromisoformat(body["date_of_birth"]) > today:
        body["date_of_birth"] = "1990-01-01"
    if "url" in properties and "events" in properties:
        # A webhook endpoint: which addresses may be called is the server's setting
        # (WEBHOOK_ALLOWED_NETWORKS), not the schema's.
        body["url"] = "https://ehr.example.org/hooks"
    if "old_password" in properties:
        body["old_password"] = world.password
    for name in ("password", "new_password"):
        if name in body and not _strong(body[name], body):
            body[name] = STRONG_PASSWORD


def _time_zone_valid(name: str) -> bool:
    try:
        time_zone_validate(name)
    except ValidationError:
        return False
    return True


def _username_valid(username: str) -> bool:
    try:
        User.username_validator(User.normalize_username(username))
    except ValidationError:
        return False
    return True


def _strong(password: str, body: dict) -> bool:
    """Whether Django's password validators take it for a user like the one in the body (the
    schema states the length and "not all digits", not "common" or "like the username")."""
    user = User(
        **{f: body[f] for f in ("username", "email", "first_name", "last_name") if f in body}
    )
    try:
        validate_password(password, user=user)
    except ValidationError:
        return False
    return True
