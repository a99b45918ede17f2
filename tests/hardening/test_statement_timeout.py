"""No statement of a request runs for ever: past `DB_STATEMENT_TIMEOUT_MS` PostgreSQL cancels
it and the API answers 503 `service_unavailable`; the reports have the longer
`DB_LONG_STATEMENT_TIMEOUT_MS`. The next request works.

The app runs under gunicorn (the web process sets the timeout on its connections) with tiny
timeouts. A statement is made to exceed them by another session holding an ACCESS EXCLUSIVE
lock on the table it reads: a plain read takes no lock timeout, so it waits until its
statement timeout cancels it.
"""

import time

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.concurrency import other_session
from tests.factories import AdminUserFactory, DoctorFactory
from tests.servers import gunicorn_serving, http_json, production_env

pytestmark = pytest.mark.django_db(transaction=True)

STATEMENT_TIMEOUT_MS = 300
LONG_STATEMENT_TIMEOUT_MS = 1500
ANSWER_SECONDS = 5  # a hang detector, not a speed claim


def timed_get(url: str, token: str = "") -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        status, answer = http_json("GET", url, token=token, timeout=ANSWER_SECONDS)
    except TimeoutError:
        pytest.fail(f"GET {url} did not answer within {ANSWER_SECONDS} s")
    return status, answer, time.monotonic() - started


def test_a_statement_past_its_timeout_is_503_and_the_next_request_works(tmp_path):
    DoctorFactory()
    admin_token = str(AccessToken.for_user(AdminUserFactory()))
    env = {
        **production_env(tmp_path),
        "DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
        "DB_LONG_STATEMENT_TIMEOUT_MS": str(LONG_STATEMENT_TIMEOUT_MS),
    }
    with gunicorn_serving(env) as base:
        directory, report = f"{base}/api/v1/doctors/", f"{base}/api/v1/reports/doctors/"

        with other_session() as holder, holder.transaction():
            holder.execute("LOCK TABLE doctors_doctor IN ACCESS EXCLUSIVE MODE")
            listed, listed_answer, listed_in = timed_get(directory)
            reported, reported_answer, reported_in = timed_get(report, admin_token)

        print(f"list: {listed} in {listed_in:.3f} s; report: {reported} in {reported_in:.3f} s")
        assert listed == 503, listed_answer
        assert listed_answer == {
            "type": "server_error",
            "errors": [
                {
                    "code": "service_unavailable",
                    "detail": "The request took too long; retry shortly.",
                    "attr": None,
                }
            ],
        }
        assert reported == 503, reported_answer
        # The report waited for its own, longer, timeout before it was cancelled.
        assert reported_in >= LONG_STATEMENT_TIMEOUT_MS / 1000

        status, answer, _ = timed_get(directory)
        assert (status, answer["count"]) == (200, 1)
        status, answer, _ = timed_get(report, admin_token)
        assert (status, len(answer)) == (200, 1)
