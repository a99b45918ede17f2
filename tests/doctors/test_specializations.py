"""Specializations: anyone reads, admins write; names unique ignoring case; one in use cannot
be deleted (docs/api.md, "Endpoints at a glance")."""

import pytest

from doctors.models import Specialization
from tests.conftest import error_attrs, error_codes
from tests.factories import DoctorFactory, SpecializationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/specializations/"


def detail_url(specialization: Specialization) -> str:
    return f"{URL}{specialization.pk}/"


def test_anyone_lists_specializations_by_name(anon_client):
    SpecializationFactory(name="Neurology")
    SpecializationFactory(name="Cardiology")
    response = anon_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["name"] for row in body["results"]] == ["Cardiology", "Neurology"]
    assert set(body["results"][0]) == {"id", "name"}


def test_anyone_reads_one_specialization(anon_client):
    specialization = SpecializationFactory(name="Dermatology")
    response = anon_client.get(detail_url(specialization))
    assert response.status_code == 200
    assert response.json() == {"id": specialization.pk, "name": "Dermatology"}


def test_an_admin_creates_a_specialization(admin_client):
    response = admin_client.post(URL, {"name": "Oncology"})
    assert response.status_code == 201, response.json()
    created = Specialization.objects.get(name="Oncology")
    assert response.json() == {"id": created.pk, "name": "Oncology"}


@pytest.mark.parametrize("taken", ["Oncology", "ONCOLOGY", "oncology"])
def test_a_name_taken_in_any_case_is_400_on_name(admin_client, taken):
    SpecializationFactory(name="Oncology")
    response = admin_client.post(URL, {"name": taken})
    assert response.status_code == 400
    assert error_attrs(response) == ["name"]
    assert error_codes(response) == ["unique"]
    assert Specialization.objects.count() == 1


def test_a_blank_name_is_400(admin_client):
    response = admin_client.post(URL, {"name": ""})
    assert response.status_code == 400
    assert error_codes(response) == ["blank"]
    assert error_attrs(response) == ["name"]


def test_an_admin_renames_a_specialization(admin_client):
    specialization = SpecializationFactory(name="Cardiology")
    response = admin_client.patch(detail_url(specialization), {"name": "Cardiac surgery"})
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Cardiac surgery"
    specialization.refresh_from_db()
    assert specialization.name == "Cardiac surgery"


def test_renaming_to_another_specializations_name_is_400(admin_client):
    SpecializationFactory(name="Neurology")
    specialization = SpecializationFactory(name="Cardiology")
    response = admin_client.patch(detail_url(specialization), {"name": "neurology"})
    assert response.status_code == 400
    assert error_attrs(response) == ["name"]


def test_renaming_to_its_own_name_in_another_case_is_fine(admin_client):
    specialization = SpecializationFactory(name="Cardiology")
    response = admin_client.patch(detail_url(specialization), {"name": "CARDIOLOGY"})
    assert response.status_code == 200, response.json()


def test_an_admin_deletes_an_unused_specialization(admin_client):
    specialization = SpecializationFactory()
    response = admin_client.delete(detail_url(specialization))
    assert response.status_code == 204
    assert not Specialization.objects.filter(pk=specialization.pk).exists()


def test_deleting_a_specialization_in_use_is_409(admin_client):
    doctor = DoctorFactory()
    response = admin_client.delete(detail_url(doctor.specialization))
    assert response.status_code == 409
    assert error_codes(response) == ["specialization_in_use"]
    assert Specialization.objects.filter(pk=doctor.specialization_id).exists()


@pytest.mark.parametrize(
    ("client_fixture", "status", "code"),
    [
        ("anon_client", 401, "not_authenticated"),
        ("patient_client", 403, "permission_denied"),
        ("doctor_client", 403, "permission_denied"),
    ],
)
def test_only_admins_write(request, client_fixture, status, code):
    client = request.getfixturevalue(client_fixture)
    specialization = SpecializationFactory(name="Radiology")

    for response in (
        client.post(URL, {"name": "Pathology"}),
        client.patch(detail_url(specialization), {"name": "Nuclear medicine"}),
        client.delete(detail_url(specialization)),
    ):
        assert response.status_code == status
        assert error_codes(response) == [code]
    assert not Specialization.objects.filter(name="Pathology").exists()
    specialization.refresh_from_db()
    assert specialization.name == "Radiology"


def test_put_is_405(admin_client):
    specialization = SpecializationFactory()
    response = admin_client.put(detail_url(specialization), {"name": "X"})
    assert response.status_code == 405
    assert error_codes(response) == ["method_not_allowed"]


def test_an_unknown_specialization_is_404(anon_client):
    response = anon_client.get(f"{URL}999999/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]
