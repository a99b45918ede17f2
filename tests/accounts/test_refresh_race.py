"""Refresh rotation spends a refresh token once, however many requests race with it: real
threads, each on its own PostgreSQL connection, as concurrent web workers would be."""

from functools import partial

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from tests.concurrency import run_at_once
from tests.conftest import error_codes
from tests.factories import PASSWORD, PatientFactory

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
RACERS = 8


def refresh(token: str):
    return APIClient().post(REFRESH_URL, {"refresh": token})


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_have_exactly_one_winner():
    user = PatientFactory().user
    signed_in = APIClient().post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    token = signed_in.json()["refresh"]

    # Round after round along one chain: each round's winner's token is the next one raced.
    for round_ in range(1, 4):
        responses = run_at_once([partial(refresh, token) for _ in range(RACERS)])

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [401] * (RACERS - 1), f"round {round_}"
        for response in responses:
            if response.status_code == 401:
                assert error_codes(response) == ["token_not_valid"]
        # One chain goes on: the sign-in's token and one successor a round, nothing more.
        assert OutstandingToken.objects.filter(user=user).count() == 1 + round_
        (winner,) = (response for response in responses if response.status_code == 200)
        token = winner.json()["refresh"]
