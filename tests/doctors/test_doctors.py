"""Doctors: creation by admins, the public directory, updates, blacklisting
(docs/api.md, "Endpoints at a glance")."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from doctors.models import Doctor
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import PASSWORD, DoctorFactory, PatientFactory, SpecializationFactory

pytestmark = pytest.mark.django_db

DOCTORS_URL = "/api/v1/doctors/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ME_URL = "/api/v1/auth/me/"
STRONG_PASSWORD = "stethoscope-meadow-river-58"
DIRECTORY_FIELDS = {
    "id",
    "first_name",
    "last_name",
    "specialization",
    "license_number",
    "years_of_experience",
    "rating",
    "bio",
}


def detail_url(doctor) -> str:
    return f"{DOCTORS_URL}{doctor.pk}/"


def new_doctor(specialization, **overrides) -> dict:
    data = {
        "username": "dr.house",
        "email": "house@clinic.test",
        "password": STRONG_PASSWORD,
        "first_name": "Gregory",
        "last_name": "House",
        "specialization": specialization.pk,
        "license_number": "NJ-1004",
        "years_of_experience": 20,
        "bio": "Diagnostics.",
        "requires_approval": False,
    }
    data.update(overrides)
    return data


def sign_in(username: str, password: str = PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password})


def listed(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# Creation -----------------------------------------------------------------------------------


def test_an_admin_creates_a_doctor_account_and_profile(admin_client):
    specialization = SpecializationFactory(name="Diagnostics")
    response = admin_client.post(DOCTORS_URL, new_doctor(specialization))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    assert body["license_number"] == "NJ-1004"
    assert body["specialization"] == specialization.pk
    assert body["requires_approval"] is False

    user = User.objects.get(username="dr.house")
    assert body["id"] == str(user.pk)
    assert user.role == Role.DOCTOR
    assert not user.is_staff
    assert not user.is_superuser
    doctor = Doctor.objects.get(pk=user.pk)
    assert doctor.years_of_experience == 20
    assert doctor.bio == "Diagnostics."
    assert not doctor.requires_approval

    signed_in = sign_in("dr.house", STRONG_PASSWORD)
    assert signed_in.status_code == 200
    me = client_for(user).get(ME_URL).json()
    assert me["role"] == "doctor"
    assert me["profile"]["license_number"] == "NJ-1004"


def test_requires_approval_defaults_to_true(admin_client):
    data = new_doctor(SpecializationFactory())
    del data["requires_approval"], data["bio"]
    response = admin_client.post(DOCTORS_URL, data)
    assert response.status_code == 201, response.json()
    assert Doctor.objects.get(license_number="NJ-1004").requires_approval is True


@pytest.mark.parametrize(
    ("client_fixture", "status"),
    [("anon_client", 401), ("patient_client", 403), ("doctor_client", 403)],
)
def test_only_admins_create_doctors(request, client_fixture, status):
    client = request.getfixturevalue(client_fixture)
    response = client.post(DOCTORS_URL, new_doctor(SpecializationFactory()))
    assert response.status_code == status
    error_codes(response)
    assert not User.objects.filter(username="dr.house").exists()


def test_a_duplicate_license_number_is_400_on_license_number(admin_client, doctor):
    response = admin_client.post(
        DOCTORS_URL, new_doctor(SpecializationFactory(), license_number=doctor.license_number)
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["license_number"]
    assert not User.objects.filter(username="dr.house").exists()


def test_a_duplicate_username_is_400_on_username(admin_client, patient):
    response = admin_client.post(
        DOCTORS_URL, new_doctor(SpecializationFactory(), username=patient.user.username)
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["username"]
    assert not Doctor.objects.filter(license_number="NJ-1004").exists()


def test_a_duplicate_email_is_400_on_email(admin_client, patient):
    response = admin_client.post(
        DOCTORS_URL, new_doctor(SpecializationFactory(), email=patient.user.email.upper())
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["email"]


@pytest.mark.parametrize("password", ["short7", "password1234", "1234567890123"], ids=str)
def test_a_weak_password_is_400_and_leaves_no_user_behind(admin_client, password):
    users_before = User.objects.count()
    response = admin_client.post(
        DOCTORS_URL, new_doctor(SpecializationFactory(), password=password)
    )
    assert response.status_code == 400
    assert set(error_attrs(response)) == {"password"}
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="dr.house").exists()
    assert not Doctor.objects.exists()


def test_a_failure_after_the_account_is_written_leaves_no_account_behind(admin_user, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("profile insert failed")

    monkeypatch.setattr(Doctor.objects, "create", crash)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(admin_user)
    response = client.post(DOCTORS_URL, new_doctor(SpecializationFactory()))
    assert response.status_code == 500
    assert not User.objects.filter(username="dr.house").exists()


def test_missing_and_invalid_fields_are_400_on_each(admin_client):
    response = admin_client.post(
        DOCTORS_URL,
        {"username": "dr.who", "specialization": 999999, "years_of_experience": -1},
    )
    assert response.status_code == 400
    assert set(error_attrs(response)) == {
        "email",
        "password",
        "first_name",
        "last_name",
        "specialization",
        "license_number",
        "years_of_experience",
    }
    assert "does_not_exist" in error_codes(response)


# Directory ----------------------------------------------------------------------------------


def test_the_directory_is_public_and_shows_no_account_details(anon_client, doctor):
    response = anon_client.get(DOCTORS_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    entry = body["results"][0]
    assert set(entry) >= DIRECTORY_FIELDS
    assert entry["id"] == str(doctor.pk)
    assert entry["specialization"] == doctor.specialization_id
    assert entry["rating"] is None
    for private in ("email", "username", "is_blacklisted", "blacklist_reason", "password"):
        assert private not in entry
    assert doctor.user.email not in response.content.decode()


def test_one_public_entry_shows_no_account_details(anon_client, doctor):
    response = anon_client.get(detail_url(doctor))
    assert response.status_code == 200
    assert response.json()["license_number"] == doctor.license_number
    assert "email" not in response.json()
    assert doctor.user.email not in response.content.decode()


def test_patients_and_other_doctors_see_the_public_entry(doctor, other_doctor, patient_client):
    for client in (patient_client, client_for(other_doctor.user)):
        response = client.get(detail_url(doctor))
        assert response.status_code == 200
        assert "email" not in response.json()


def test_the_doctor_and_admins_see_the_private_entry(doctor, doctor_client, admin_client):
    for client in (doctor_client, admin_client):
        body = client.get(detail_url(doctor)).json()
        assert body["email"] == doctor.user.email
        assert body["is_blacklisted"] is False


def test_the_directory_filters_by_specialization(anon_client):
    cardiology = SpecializationFactory(name="Cardiology")
    cardiologist = DoctorFactory(specialization=cardiology)
    DoctorFactory(specialization=SpecializationFactory(name="Neurology"))
    assert listed(anon_client.get(DOCTORS_URL, {"specialization": cardiology.pk})) == [
        str(cardiologist.pk)
    ]


def test_an_unknown_specialization_filter_is_400(anon_client, doctor):
    response = anon_client.get(DOCTORS_URL, {"specialization": 999999})
    assert response.status_code == 400
    assert error_attrs(response) == ["specialization"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("meredith", ["grey"]), ("GREY", ["grey"]), ("Meredith Grey", ["grey"]), ("shep", [])],
)
def test_the_directory_searches_names(anon_client, term, expected):
    people = {
        "grey": DoctorFactory(user__first_name="Meredith", user__last_name="Grey"),
        "yang": DoctorFactory(user__first_name="Cristina", user__last_name="Yang"),
    }
    assert listed(anon_client.get(DOCTORS_URL, {"search": term})) == [
        str(people[name].pk) for name in expected
    ]


def test_the_directory_orders_by_rating_with_unrated_doctors_last(anon_client):
    low = DoctorFactory(rating=Decimal("2.50"), rating_count=2, years_of_experience=30)
    high = DoctorFactory(rating=Decimal("4.75"), rating_count=4, years_of_experience=3)
    unrated = DoctorFactory(rating=None, years_of_experience=12)

    assert listed(anon_client.get(DOCTORS_URL, {"ordering": "-rating"})) == [
        str(high.pk),
        str(low.pk),
        str(unrated.pk),
    ]
    assert listed(anon_client.get(DOCTORS_URL, {"ordering": "rating"})) == [
        str(low.pk),
        str(high.pk),
        str(unrated.pk),
    ]
    assert listed(anon_client.get(DOCTORS_URL, {"ordering": "years_of_experience"})) == [
        str(high.pk),
        str(unrated.pk),
        str(low.pk),
    ]
    rated = anon_client.get(DOCTORS_URL, {"ordering": "-rating"}).json()["results"][0]
    assert rated["rating"] == 4.75


@pytest.mark.parametrize("ordering", ["rating", "-rating", "years_of_experience", None])
def test_paging_through_an_ordered_directory_shows_every_doctor_once(anon_client, ordering):
    # Many doctors tie on the ordered field and on the last name.
    made = {
        str(DoctorFactory(user__last_name="Smith", user__first_name=f"Jo{n % 3}").pk)
        for n in range(45)
    }
    query = {"page_size": 10} | ({"ordering": ordering} if ordering else {})
    seen = []
    for page in range(1, 6):
        seen += listed(anon_client.get(DOCTORS_URL, query | {"page": page}))
    assert len(seen) == len(made)
    assert set(seen) == made


def test_an_unknown_ordering_is_400_on_ordering(anon_client, doctor):
    response = anon_client.get(DOCTORS_URL, {"ordering": "email"})
    assert response.status_code == 400
    assert error_codes(response) == ["invalid_choice"]
    assert error_attrs(response) == ["ordering"]


def test_blacklisted_doctors_are_hidden_except_from_admins(
    anon_client, patient_client, admin_client, doctor, other_doctor
):
    other_doctor.is_blacklisted = True
    other_doctor.save()
    for client in (anon_client, patient_client, client_for(doctor.user)):
        assert listed(client.get(DOCTORS_URL)) == [str(doctor.pk)]
        response = client.get(detail_url(other_doctor))
        assert response.status_code == 404
        assert error_codes(response) == ["not_found"]

    assert set(listed(admin_client.get(DOCTORS_URL))) == {str(doctor.pk), str(other_doctor.pk)}
    response = admin_client.get(detail_url(other_doctor))
    assert response.status_code == 200
    assert response.json()["is_blacklisted"] is True


def test_an_unknown_doctor_is_404(anon_client):
    response = anon_client.get(f"{DOCTORS_URL}00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_patients_id_is_not_a_doctors(anon_client, patient):
    assert anon_client.get(detail_url(patient)).status_code == 404


# Update -------------------------------------------------------------------------------------


def test_an_admin_changes_any_listed_field(admin_client, doctor):
    surgery = SpecializationFactory(name="Surgery")
    response = admin_client.patch(
        detail_url(doctor),
        {
            "license_number": "NEW-0001",
            "specialization": surgery.pk,
            "years_of_experience": 25,
            "last_name": "Bailey",
            "email": "bailey@clinic.test",
            "bio": "Chief of surgery.",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["license_number"] == "NEW-0001"
    assert body["specialization"] == surgery.pk
    assert body["last_name"] == "Bailey"
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert doctor.license_number == "NEW-0001"
    assert doctor.specialization == surgery
    assert doctor.years_of_experience == 25
    assert doctor.user.email == "bailey@clinic.test"


def test_an_admin_cannot_give_a_taken_license_number(admin_client, doctor, other_doctor):
    response = admin_client.patch(
        detail_url(doctor), {"license_number": other_doctor.license_number}
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["license_number"]
    assert error_codes(response) == ["unique"]


def test_the_doctor_changes_bio_and_approval_only(doctor, doctor_client):
    original = (doctor.license_number, doctor.years_of_experience, doctor.specialization_id)
    privileged = {
        "license_number": "FORGED-1",
        "years_of_experience": 70,
        "specialization": SpecializationFactory().pk,
        "rating": 5,
        "is_blacklisted": True,
        "first_name": "Impostor",
    }
    refused = doctor_client.patch(
        detail_url(doctor), {"bio": "Now taking new patients.", **privileged}
    )
    assert refused.status_code == 400
    assert sorted(error_attrs(refused)) == sorted(privileged)
    assert set(error_codes(refused)) == {"unknown_field"}
    doctor.refresh_from_db()
    assert doctor.bio != "Now taking new patients."

    response = doctor_client.patch(
        detail_url(doctor), {"bio": "Now taking new patients.", "requires_approval": False}
    )
    assert response.status_code == 200, response.json()
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert doctor.bio == "Now taking new patients."
    assert doctor.requires_approval is False
    assert (
        doctor.license_number,
        doctor.years_of_experience,
        doctor.specialization_id,
    ) == original
    assert doctor.rating is None
    assert not doctor.is_blacklisted
    assert doctor.user.first_name != "Impostor"


@pytest.mark.parametrize("caller", ["other_doctor", "patient"])
def test_other_users_cannot_update_a_doctor(request, doctor, caller):
    user = request.getfixturevalue(caller).user
    response = client_for(user).patch(detail_url(doctor), {"bio": "Hacked."})
    assert response.status_code == 403
    assert error_codes(response) == ["permission_denied"]
    doctor.refresh_from_db()
    assert doctor.bio != "Hacked."


def test_an_anonymous_update_is_401(anon_client, doctor):
    assert anon_client.patch(detail_url(doctor), {"bio": "Hacked."}).status_code == 401


def test_put_on_a_doctor_is_405(admin_client, doctor):
    assert admin_client.put(detail_url(doctor), {"bio": "x"}).status_code == 405


# Blacklisting -------------------------------------------------------------------------------


def test_blacklisting_stops_sign_in_and_every_live_token_at_once(admin_client, doctor):
    pair = sign_in(doctor.user.username).json()
    live = APIClient()
    live.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert live.get(ME_URL).status_code == 200

    response = admin_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Licence suspended"})
    assert response.status_code == 200, response.json()
    assert response.json()["is_blacklisted"] is True
    assert response.json()["blacklist_reason"] == "Licence suspended"
    assert response.json()["blacklisted_at"] is not None

    after = live.get(ME_URL)
    assert after.status_code == 401
    error_codes(after)
    assert sign_in(doctor.user.username).status_code == 401
    assert APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}).status_code == 401
    assert APIClient().get(detail_url(doctor)).status_code == 404


@pytest.mark.parametrize(("body", "code"), [({}, "required"), ({"reason": ""}, "blank")])
def test_blacklist_needs_a_reason(admin_client, doctor, body, code):
    response = admin_client.post(f"{detail_url(doctor)}blacklist/", body)
    assert response.status_code == 400
    assert error_codes(response) == [code]
    assert error_attrs(response) == ["reason"]
    doctor.refresh_from_db()
    assert not doctor.is_blacklisted


def test_blacklisting_again_keeps_the_date_and_updates_the_reason(admin_client, doctor):
    first = admin_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Complaint"}).json()
    again = admin_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Upheld"})
    assert again.status_code == 200
    assert again.json()["blacklisted_at"] == first["blacklisted_at"]
    assert again.json()["blacklist_reason"] == "Upheld"


@pytest.mark.parametrize(
    ("client_fixture", "status"),
    [("anon_client", 401), ("patient_client", 403), ("doctor_client", 403)],
)
def test_only_admins_blacklist_and_unblacklist(request, client_fixture, status, other_doctor):
    client = request.getfixturevalue(client_fixture)
    response = client.post(f"{detail_url(other_doctor)}blacklist/", {"reason": "Spite"})
    assert response.status_code == status
    error_codes(response)
    other_doctor.refresh_from_db()
    assert not other_doctor.is_blacklisted

    other_doctor.is_blacklisted = True
    other_doctor.save()
    response = client.post(f"{detail_url(other_doctor)}unblacklist/")
    assert response.status_code == status
    other_doctor.refresh_from_db()
    assert other_doctor.is_blacklisted


def test_a_doctor_cannot_blacklist_themselves(doctor, doctor_client):
    response = doctor_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Tired"})
    assert response.status_code == 403


def test_unblacklisting_restores_sign_in_and_the_listing(admin_client, doctor):
    before = sign_in(doctor.user.username).json()["refresh"]
    admin_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Investigation"})
    assert sign_in(doctor.user.username).status_code == 401

    response = admin_client.post(f"{detail_url(doctor)}unblacklist/")
    assert response.status_code == 200, response.json()
    assert response.json()["is_blacklisted"] is False
    assert response.json()["blacklist_reason"] == ""

    signed_in = sign_in(doctor.user.username)
    assert signed_in.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    assert client.get(ME_URL).status_code == 200
    assert listed(APIClient().get(DOCTORS_URL)) == [str(doctor.pk)]
    # Tokens revoked by the blacklisting stay revoked: the doctor signs in afresh.
    assert APIClient().post(REFRESH_URL, {"refresh": before}).status_code == 401


def test_blacklisting_one_doctor_leaves_the_others_signed_in(admin_client, doctor, other_doctor):
    other_client = client_for(other_doctor.user)
    admin_client.post(f"{detail_url(doctor)}blacklist/", {"reason": "Suspended"})
    assert other_client.get(ME_URL).status_code == 200
    assert sign_in(other_doctor.user.username).status_code == 200


def test_blacklisting_a_patient_id_is_404(admin_client):
    patient = PatientFactory()
    response = admin_client.post(f"{detail_url(patient)}blacklist/", {"reason": "x"})
    assert response.status_code == 404
