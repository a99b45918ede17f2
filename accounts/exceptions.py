from rest_framework import exceptions

from core.errors import FieldInvalid, ValueTaken


class SignInLockedOut(exceptions.Throttled):
    """Too many failed sign-ins for this username or address: 429 until the window passes.
    Raised by the token endpoint's serializer, so it is DRF's own throttling error."""

    default_detail = "Too many failed sign-in attempts. Try again later."


class UsernameTaken(ValueTaken):
    message = "A user with that username already exists."
    attr = "username"


class EmailTaken(ValueTaken):
    message = "A user with that email already exists."
    attr = "email"


class WrongPassword(FieldInvalid):
    message = "The current password is not correct."
    attr = "old_password"
