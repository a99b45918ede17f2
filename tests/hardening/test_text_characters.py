"""Names and free text others read refuse the characters that hide, reorder or break text
(core.validators): terminal escapes, direction overrides, invisible characters. Through the
API (a 400 on the field), through the admin site (a form error), and as the schema states."""

import re
import sys
import unicodedata
from functools import cache

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from core.validators import FREE_TEXT_REFUSED, NAME_REFUSED
from doctors.models import Doctor, Specialization
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import PASSWORD, SpecializationFactory

pytestmark = pytest.mark.django_db

ESCAPE = "\x1b[31mRed\x1b[0m"
RIGHT_TO_LEFT_OVERRIDE = "Eve\u202egnp.exe"
HOSTILE_NAMES = [
    ESCAPE,
    RIGHT_TO_LEFT_OVERRIDE,
    "Isolated\u2067name",
    "Zero\u200bwidth",
    "\ufeffBom",
    "Bell\x07",
    "Next\x85line",  # C1 control
    "Line\nbreak",
    "Tab\tbed",
    "Line\u2028separator",
]
HOSTILE_TEXT = [ESCAPE, RIGHT_TO_LEFT_OVERRIDE, "Zero\u200bwidth", "Bell\x07", "Form\x0cfeed"]
FINE_NAMES = [
    "Zo\u00eb O'Brien-Smith",
    "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",  # Persian, with a zero-width non-joiner
    "\u674e\u5c0f\u9f8d",
    "\U0001f469\u200d\u2695\ufe0f",  # an emoji sequence joined by a zero-width joiner
]
FINE_TEXT = "Cardiologist.\n\n\tTwenty years in practice;\r\nspeaks \u0639\u0631\u0628\u064a."


def refused_on(response, attr: str) -> None:
    assert response.status_code == 400, response.content
    assert error_attrs(response) == [attr], response.json()
    assert error_codes(response) == ["control_characters"]


def registration(**changes) -> dict:
    return {
        "username": "newcomer",
        "email": "newcomer@example.test",
        "password": PASSWORD,
        "first_name": "New",
        "last_name": "Comer",
        "date_of_birth": "1990-01-01",
        **changes,
    }


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=ascii)
def test_registration_refuses_control_characters_in_names(anon_client, field, name):
    refused_on(anon_client.post("/api/v1/patients/", registration(**{field: name})), field)
    assert not User.objects.exists()


@pytest.mark.parametrize("name", [ESCAPE, RIGHT_TO_LEFT_OVERRIDE], ids=ascii)
def test_usernames_refuse_control_characters(anon_client, name):
    response = anon_client.post("/api/v1/patients/", registration(username=name))
    assert response.status_code == 400
    assert error_attrs(response) == ["username"]


@pytest.mark.parametrize("name", FINE_NAMES, ids=ascii)
def test_names_of_every_script_are_kept(anon_client, name):
    response = anon_client.post("/api/v1/patients/", registration(first_name=name))
    assert response.status_code == 201, response.json()
    assert response.json()["first_name"] == name


@pytest.mark.parametrize("name", [ESCAPE, RIGHT_TO_LEFT_OVERRIDE], ids=ascii)
def test_a_patient_cannot_rename_themselves_with_control_characters(patient, name):
    response = client_for(patient.user).patch(
        f"/api/v1/patients/{patient.pk}/", {"last_name": name}
    )
    refused_on(response, "last_name")


def doctor_body(**changes) -> dict:
    return {
        "username": "dr.new",
        "email": "dr.new@example.test",
        "password": PASSWORD,
        "first_name": "Nia",
        "last_name": "New",
        "specialization": SpecializationFactory.create().pk,
        "license_number": "LIC-NEW-1",
        "years_of_experience": 7,
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        *[("first_name", name) for name in HOSTILE_NAMES[:4]],
        *[("last_name", name) for name in HOSTILE_NAMES[:4]],
        *[("bio", text) for text in HOSTILE_TEXT],
    ],
    ids=ascii,
)
def test_creating_a_doctor_refuses_control_characters(admin_client, field, value):
    refused_on(admin_client.post("/api/v1/doctors/", doctor_body(**{field: value})), field)
    assert not Doctor.objects.exists()


def test_a_biography_keeps_its_lines_and_tabs(admin_client, anon_client):
    response = admin_client.post("/api/v1/doctors/", doctor_body(bio=FINE_TEXT))
    assert response.status_code == 201, response.json()
    listed = anon_client.get(f"/api/v1/doctors/{response.json()['id']}/").json()
    assert listed["bio"] == FINE_TEXT


@pytest.mark.parametrize("bio", HOSTILE_TEXT, ids=ascii)
def test_a_doctor_cannot_write_control_characters_into_their_biography(doctor, bio):
    response = client_for(doctor.user).patch(f"/api/v1/doctors/{doctor.pk}/", {"bio": bio})
    refused_on(response, "bio")
    doctor.refresh_from_db()
    assert doctor.bio == "General practice."


def test_an_admin_cannot_rename_a_doctor_with_control_characters(admin_client, doctor):
    response = admin_client.patch(f"/api/v1/doctors/{doctor.pk}/", {"first_name": ESCAPE})
    refused_on(response, "first_name")


@pytest.mark.parametrize("name", [ESCAPE, RIGHT_TO_LEFT_OVERRIDE], ids=ascii)
def test_specialization_names_refuse_control_characters(admin_client, name):
    refused_on(admin_client.post("/api/v1/specializations/", {"name": name}), "name")
    assert not Specialization.objects.exists()


# The admin site -------------------------------------------------------------------------------


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("name", [ESCAPE, RIGHT_TO_LEFT_OVERRIDE], ids=ascii)
def test_the_admin_sites_account_form_refuses_control_characters_in_names(staff, patient, name):
    user = patient.user
    response = staff.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "username": user.username,
            "email": user.email,
            "time_zone": user.time_zone,
            "first_name": name,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"first_name"}
    user.refresh_from_db()
    assert user.first_name == patient.user.first_name


def test_the_admin_sites_doctor_forms_refuse_control_characters(staff, doctor):
    add = staff.post(
        reverse("admin:doctors_doctor_add"),
        {**doctor_body(last_name=RIGHT_TO_LEFT_OVERRIDE, bio=ESCAPE), "requires_approval": "on"},
    )
    assert add.status_code == 200
    assert set(add.context["adminform"].form.errors) == {"last_name", "bio"}

    change = staff.post(
        reverse("admin:doctors_doctor_change", args=[doctor.pk]),
        {
            "specialization": doctor.specialization_id,
            "license_number": doctor.license_number,
            "years_of_experience": doctor.years_of_experience,
            "bio": RIGHT_TO_LEFT_OVERRIDE,
        },
    )
    assert change.status_code == 200
    assert set(change.context["adminform"].form.errors) == {"bio"}
    assert Doctor.objects.get().bio == "General practice."


# The rule and the schema ----------------------------------------------------------------------


def _refused(refused: str, character: str) -> bool:
    return re.search(refused, f"a{character}b") is not None


def test_the_rule_refuses_every_control_character_and_every_direction_control():
    direction_controls = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        category = unicodedata.category(character)
        if category == "Cc" or unicodedata.bidirectional(character) in direction_controls:
            assert _refused(NAME_REFUSED, character), hex(code_point)
        if category == "Cc" and character not in "\t\n\r":
            assert _refused(FREE_TEXT_REFUSED, character), hex(code_point)
        if _refused(NAME_REFUSED, character):
            # Only controls, format characters and the line and paragraph separators.
            assert category in {"Cc", "Cf", "Zl", "Zp"}, hex(code_point)


def test_the_format_characters_kept_are_those_scripts_are_written_with():
    kept = {
        code_point
        for code_point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code_point)) == "Cf"
        and not _refused(NAME_REFUSED, chr(code_point))
    }
    joiners = {0x200C, 0x200D}
    arabic_and_syriac_signs = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2}
    assert {code_point for code_point in kept if code_point < 0x10000} == (
        joiners | arabic_and_syriac_signs
    )


@cache
def checked_in_schema() -> dict:
    return yaml.load((settings.BASE_DIR / "openapi.yaml").read_text(), Loader=yaml.CSafeLoader)


@pytest.mark.parametrize(
    ("component", "field", "refused"),
    [
        ("PatientRegisterRequest", "first_name", NAME_REFUSED),
        ("PatientRegisterRequest", "last_name", NAME_REFUSED),
        ("PatchedPatientUpdateRequest", "first_name", NAME_REFUSED),
        ("DoctorCreateRequest", "first_name", NAME_REFUSED),
        ("DoctorCreateRequest", "bio", FREE_TEXT_REFUSED),
        ("PatchedDoctorAdminUpdateRequest", "bio", FREE_TEXT_REFUSED),
        ("PatchedDoctorAdminUpdateRequest", "last_name", NAME_REFUSED),
        ("SpecializationRequest", "name", NAME_REFUSED),
        ("PatchedSpecializationRequest", "name", NAME_REFUSED),
    ],
)
def test_the_schema_states_the_rule(component, field, refused):
    stated = checked_in_schema()["components"]["schemas"][component]["properties"][field]["not"][
        "pattern"
    ]
    assert stated == refused
    for text in [*HOSTILE_TEXT, "\x00"]:
        assert re.search(stated, text), ascii(text)
    for text in [*FINE_NAMES, FINE_TEXT if refused == FREE_TEXT_REFUSED else "Ann"]:
        assert not re.search(stated, text), ascii(text)
