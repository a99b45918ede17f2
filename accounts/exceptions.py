from rest_framework import exceptions


class SignInLockedOut(exceptions.Throttled):
    """Too many failed sign-ins for this username or address: 429 until the window passes."""

    default_detail = "Too many failed sign-in attempts. Try again later."
