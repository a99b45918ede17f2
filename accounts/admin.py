from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError

from accounts.models import LoginFailure, User
from accounts.services import (
    user_delete,
    user_identity_unique_check,
    user_password_save,
    user_save,
)
from core.admin import form_errors_add
from core.errors import DomainError
from core.validators import NameCharactersValidator

# The mixin goes in front of an account's model form; to mypy it is one.
if TYPE_CHECKING:
    _AccountFormBase = forms.ModelForm[User]
else:
    _AccountFormBase = object


class UsernameFoldedUniqueMixin(_AccountFormBase):
    """An account form refusing, on its username field, a username another account has up to
    case and Unicode compatibility forms (the database would refuse it at the save)."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("username"):
            try:
                user_identity_unique_check(username=data["username"], exclude=self.instance)
            except DomainError as error:
                form_errors_add(self, error)
        return data


class AccountChangeForm(UsernameFoldedUniqueMixin, UserChangeForm):
    pass


class AccountCreationForm(UsernameFoldedUniqueMixin, AdminUserCreationForm):
    pass


class PasswordSetForm(AdminPasswordChangeForm):
    """The admin site's "change password" form, saving through `user_password_save`: the
    account's tokens are revoked as with any password change."""

    def save(self, commit=True):
        # django-stubs 5.2.9 leaves Django's password mixins out of this form's bases.
        user = self.set_password_and_save(self.user, commit=False)  # type: ignore[attr-defined]
        if commit:
            user_password_save(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = PasswordSetForm
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "created_at",
    ]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["username"]
    readonly_fields = ["id", "created_at", "updated_at", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("id", "username", "password", "role")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "time_zone")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        user_save(user=obj)

    def delete_model(self, request, obj):
        user_delete(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user_delete(user=user)

    def get_readonly_fields(self, request, obj=None):
        # A role comes with a profile (a doctor's, a patient's) made with the account; turning
        # an existing account into another role would leave it without one.
        if obj is not None:
            return [*self.readonly_fields, "role"]
        return self.readonly_fields


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins within the lockout window, written by the sign-in backend only.
    Read-only; deleting the rows of a username or address lifts its lockout early."""

    list_display = ["username", "ip", "at"]
    list_filter = ["at"]
    search_fields = ["username", "ip"]
    date_hierarchy = "at"
    readonly_fields = ["username", "ip", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NewAccountForm(forms.ModelForm):
    """The account part of an admin's "add doctor" or "add patient" form: the fields the
    registration services take, checked as they check them (a free username and email, a
    password Django's validators accept), so the admin sees mistakes on the form itself."""

    username = User._meta.get_field("username").formfield()
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, validators=[NameCharactersValidator()])
    last_name = forms.CharField(max_length=150, validators=[NameCharactersValidator()])
    password = forms.CharField(strip=False, widget=forms.PasswordInput(render_value=False))

    ACCOUNT_FIELDS = ("username", "email", "password", "first_name", "last_name")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        try:
            user_identity_unique_check(username=data.get("username"), email=data.get("email"))
        except DomainError as error:
            form_errors_add(self, error)
        if data.get("password"):
            account = User(**{f: data.get(f, "") for f in self.ACCOUNT_FIELDS if f != "password"})
            try:
                validate_password(data["password"], user=account)
            except DjangoValidationError as error:
                self.add_error("password", error)
        return data

    def account_data(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.ACCOUNT_FIELDS}
