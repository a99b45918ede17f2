from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.services import login_failure_record, login_lockout_remaining
from core.request import client_ip


class LockoutModelBackend(ModelBackend):
    """Username and password sign-in that refuses locked-out usernames and addresses.

    Used by the token endpoint and the admin site alike, so both share one lockout.
    Raising PermissionDenied makes Django stop at this backend: a locked-out caller cannot
    sign in even with the right password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        ip = client_ip(request) if request is not None else None
        if login_lockout_remaining(username=username, ip=ip) is not None:
            raise PermissionDenied("locked out")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, ip=ip)
        return user
