import jwt
import pytest
from django.conf import settings

from tests.conftest import client_for, error_codes
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/auth/me/"


def test_sign_in_returns_a_token_pair_whose_access_token_carries_the_role(anon_client, doctor):
    response = anon_client.post(
        TOKEN_URL, {"username": doctor.user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.json()
    claims = jwt.decode(
        response.json()["access"], settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"]
    )
    assert claims["role"] == "doctor"
    assert claims["user_id"] == str(doctor.pk)


def test_me_shows_the_doctor_profile(doctor):
    response = client_for(doctor.user).get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "doctor"
    assert body["profile"]["license_number"] == doctor.license_number


def test_wrong_password_is_401_in_the_envelope(anon_client, patient):
    response = anon_client.post(TOKEN_URL, {"username": patient.user.username, "password": "no"})
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]
