"""What a person sees, in a real browser: headless Chromium (Debian's `chromium` package,
driven by Playwright) against the app served by gunicorn with DEBUG off, as deployed.

It signs in to the admin site, opens the Reports page for a range of days with known figures
and checks that the three charts were drawn with them, then opens the Swagger UI and Redoc
and checks that the operations are listed; and it books a walk-in patient from the Day
board. Every request the pages make must stay on the app's own host: the pages work without
internet access. Screenshots go to `test-artifacts/`.

Skipped, saying why, where Chromium is not installed (`.ci/run` installs it).
"""

import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from appointments.models import Appointment, Feedback
from appointments.services import appointment_book
from core.clinic_time import clinic_zone
from scheduling.models import AvailabilityWindow, Slot
from scheduling.services import window_create
from tests.factories import PASSWORD, AdminUserFactory, DoctorFactory, PatientFactory
from tests.servers import BASE_DIR, gunicorn_serving, manage, production_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = BASE_DIR / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = ["chart-per-day", "chart-no-shows", "chart-ratings"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found: install Debian's chromium package (apt-get install chromium)",
)


def _appointment(doctor, patient, start: datetime, status: str, rating: int | None = None):
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    made = Appointment.objects.create(
        patient=patient, doctor=doctor, slot=slot, start=slot.start, end=slot.end, status=status
    )
    if rating is not None:
        Feedback.objects.create(appointment=made, doctor=doctor, rating=rating)


def _clinic() -> None:
    """On 1-2 July 2030 (clinic days): Adams 2 completed (rated 5 and 4) and 1 no-show; Baker
    2 no-shows, 1 cancelled and 1 pending."""
    adams = DoctorFactory(user__first_name="Ann", user__last_name="Adams")
    baker = DoctorFactory(user__first_name="Bob", user__last_name="Baker")
    patients = [PatientFactory() for _ in range(3)]
    july = [datetime(2030, 7, 1, hour, tzinfo=UTC) for hour in range(8, 12)]
    _appointment(adams, patients[0], july[0], "completed", rating=5)
    _appointment(adams, patients[1], july[1], "completed", rating=4)
    _appointment(adams, patients[2], july[2], "no_show")
    _appointment(baker, patients[0], july[1], "no_show")
    _appointment(baker, patients[1], july[2], "cancelled")
    _appointment(baker, patients[2], july[0] + timedelta(days=1), "no_show")
    _appointment(baker, patients[0], july[3] + timedelta(days=1), "pending")


@pytest.fixture
def server(tmp_path):
    """The app under gunicorn with DEBUG off, on the test database, its static files
    collected and served by whitenoise.

    With the suite's settings rather than production's: the same app, but static files kept
    uncompressed, which collects in a second instead of the best part of a minute (the
    compressed, hashed files are test_deployment.py's subject), and the suite's password
    hasher."""
    env = {**production_env(tmp_path / "static"), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    collected = manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    with gunicorn_serving(env, workers=2) as base:
        yield base


def _drawn(page, canvas_id: str) -> dict:
    """What Chart.js holds for a canvas, and how many of its pixels were painted."""
    return page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const chart = Chart.getChart(canvas);
            const pixels = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return {
                width: canvas.width,
                height: canvas.height,
                painted,
                labels: chart.data.labels,
                datasets: chart.data.datasets.map((d) => ({label: d.label, data: d.data})),
            };
        }""",
        canvas_id,
    )


def _elsewhere(request) -> list[str]:
    """The request's URL if it goes to another host than the app's."""
    url = urlsplit(request.url)
    return [request.url] if url.scheme.startswith("http") and url.hostname != "127.0.0.1" else []


def _shot(page, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.mark.django_db(transaction=True)
def test_admin_reports_and_api_docs_render_in_chromium(server):
    # All database work first: Playwright's sync API runs an event loop in this thread, inside
    # which Django refuses synchronous queries.
    admin = AdminUserFactory()
    _clinic()
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(20_000)
            # A request to another host is a leak, unless the page's own Content Security
            # Policy stopped it before it was sent.
            page.on("requestfinished", lambda request: outside.extend(_elsewhere(request)))
            page.on(
                "requestfailed",
                lambda request: request.failure != "csp" and outside.extend(_elsewhere(request)),
            )
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(f"{server}/admin/login/?next=/admin/")
            page.fill("#id_username", admin.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{server}/admin/")
            page.click("#careslot-reports-module a")
            page.wait_for_url(f"{server}/admin/reports/")

            page.fill("#id_date_from", "2030-07-01")
            page.fill("#id_date_to", "2030-07-02")
            page.click("#report-range input[type=submit]")
            page.wait_for_url("**/admin/reports/?date_from=2030-07-01&date_to=2030-07-02")
            page.wait_for_function(
                "ids => window.Chart && ids.every(id => Chart.getChart(id))", arg=CHARTS
            )
            charts = {canvas: _drawn(page, canvas) for canvas in CHARTS}
            _shot(page, "admin-reports", full_page=True)

            for drawn in charts.values():
                assert min(drawn["width"], drawn["height"]) > 0
                assert drawn["painted"] > 1000, "the canvas is blank"
            per_day = charts["chart-per-day"]
            assert per_day["labels"] == ["2030-07-01", "2030-07-02"]
            by_status = {d["label"]: d["data"] for d in per_day["datasets"]}
            assert by_status["Completed"] == [2, 0]
            assert by_status["No-show"] == [2, 1]
            assert by_status["Cancelled"] == [1, 0]
            assert by_status["Pending"] == [0, 1]
            no_shows = charts["chart-no-shows"]
            assert no_shows["labels"] == ["Bob Baker", "Ann Adams"]
            assert no_shows["datasets"][0]["data"] == [2, 1]
            ratings = charts["chart-ratings"]
            assert ratings["labels"] == ["Ann Adams"]
            assert ratings["datasets"][0]["data"] == [4.5]
            assert page.inner_text("#no-show-total") == "3"

            page.goto(f"{server}/api/docs/")
            page.get_by_text("Book an appointment").first.wait_for()
            assert page.locator(".opblock").count() > 40
            _shot(page, "api-docs-swagger")

            page.goto(f"{server}/api/redoc/")
            operations = page.locator("[data-section-id^='operation/']")
            operations.first.wait_for()
            assert operations.count() > 40
            titles = page.locator("[data-section-id^='operation/'] h2")
            assert "Book an appointment" in titles.all_inner_texts()
            _shot(page, "api-docs-redoc")
        finally:
            browser.close()

    assert outside == [], "the pages fetched something from outside the app"
    assert errors == [], "the pages raised JavaScript errors"


@pytest.mark.django_db(transaction=True)
def test_reception_books_a_free_slot_from_the_day_board_in_chromium(server):
    admin = AdminUserFactory()
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    start = datetime.combine(day, time(9), tzinfo=clinic_zone())
    adams = DoctorFactory(user__first_name="Ann", user__last_name="Adams", requires_approval=False)
    baker = DoctorFactory(user__first_name="Bob", user__last_name="Baker")
    for doctor in (adams, baker):
        window_create(doctor=doctor, start=start, end=start + timedelta(hours=3))
    booked = PatientFactory(user__first_name="Cora", user__last_name="Cole")
    appointment_book(actor=booked.user, patient=booked, slot_id=baker.slots.earliest("start").pk)
    walk_in = PatientFactory(
        user__username="dan.dale", user__first_name="Dan", user__last_name="Dale"
    )
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{server}/admin/login/?next=/admin/")
            page.fill("#id_username", admin.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{server}/admin/")
            page.click("#careslot-day-board-link")
            page.fill("#id_date", day.isoformat())
            page.click("#board-day input[type=submit]")
            page.wait_for_url(f"**/admin/day/?date={day.isoformat()}")

            headers = page.locator("#day-board thead th").all_text_contents()
            assert headers == ["Time", "Dr Ann Adams", "Dr Bob Baker"]
            assert page.locator("#day-board tbody tr").count() == 3
            assert "Cora Cole" in page.inner_text("#day-board td.pending")

            first_free = page.locator("#day-board td.free").first
            first_free.locator("input[name=patient]").fill("dan.dale")
            first_free.locator("button").click()
            page.wait_for_url(f"**/admin/day/?date={day.isoformat()}")
            page.locator("#day-board td.confirmed").wait_for()
            assert "Dan Dale" in page.inner_text("#day-board td.confirmed")
            assert "Booked for Dan Dale" in page.inner_text(".messagelist")
            _shot(page, "admin-day-board", full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert walk_in.appointments.get().doctor == adams
