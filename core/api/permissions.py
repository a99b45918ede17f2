"""Role checks for views. Row visibility is the querysets' job (selectors); these say who may
call an endpoint or an action at all."""

from rest_framework.permissions import BasePermission


class IsAdmin(BasePermission):
    message = "Only clinic administrators may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)


class IsDoctorOrAdmin(BasePermission):
    message = "Only doctors and clinic administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_doctor or user.is_admin))


class IsPatientOrAdmin(BasePermission):
    message = "Only patients and clinic administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_patient or user.is_admin))
