"""The routes under /doctors/ that other apps serve are the ones `doctors/api/urls.py`
lists, served by the views it names: a reader of that file sees every doctor route."""

from doctors.api.urls import SERVED_BY_OTHER_APPS
from tests.routes import api_routes


def test_the_doctor_routes_other_apps_serve_are_the_ones_listed():
    served_elsewhere = {}
    for route, callback in api_routes():
        view = callback.cls
        if route.startswith("doctors/") and not view.__module__.startswith("doctors."):
            served_elsewhere[route] = f"{view.__module__}.{view.__qualname__}"
    assert served_elsewhere == SERVED_BY_OTHER_APPS
