"""What every app's admin shares: writes go through the services, and a refused one is a
message on the page, never a 500.

The admin site is a second way into the same rules as the API. A `ServiceModelAdmin` saves and
deletes by calling the app's services (`service_create`, `service_update`, `service_delete`),
so their checks, locks, history, audit and notifications apply; a domain error they raise is
shown as an error message and the change is rolled back. `rows_apply` is the same for admin
actions: one service call per selected row, each refused row reported with its reason.
"""

# The admin classes are generic only to mypy (django-stubs).
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

# django-stubs makes the admin classes generic in their model; at run time they are not.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[models.Model]
    _TabularInline = admin.TabularInline[models.Model, models.Model]
else:
    _ModelAdmin = admin.ModelAdmin
    _TabularInline = admin.TabularInline

from core.errors import DomainError, FieldInvalid, FieldsInvalid


def _each(error: DomainError) -> list[DomainError]:
    return list(error.errors) if isinstance(error, FieldsInvalid) else [error]


def error_text(error: DomainError) -> str:
    """A domain error as one line for a person; a field's error names the field ("end: The
    end must be after the start.")."""
    return " ".join(
        f"{part.attr}: {part.message}"
        if isinstance(part, FieldInvalid) and part.attr
        else part.message
        for part in _each(error)
    )


def form_errors_add(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal on the admin form's fields it is about (or the whole form)."""
    for part in _each(error):
        form.add_error(part.attr if part.attr in form.fields else None, part.message)


M = TypeVar("M", bound=models.Model)


def rows_apply(
    model_admin: _ModelAdmin,
    request: HttpRequest,
    rows: Iterable[M],
    apply: Callable[[M], object],
    *,
    done: str,
) -> None:
    """Call `apply` (a service) on each row, each in its own transaction: one refused row
    changes nothing of its own and does not stop the others. Reports how many were `done`
    ("Confirmed 2 appointment(s).") and each refusal with the service's reason."""
    succeeded = 0
    for row in rows:
        try:
            with transaction.atomic():
                apply(row)
        except DomainError as error:
            model_admin.message_user(request, f"{row}: {error_text(error)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, done.format(count=succeeded), messages.SUCCESS)


class ServiceModelAdmin(_ModelAdmin):
    """A ModelAdmin whose add, change and delete call the app's services.

    Subclasses implement `service_create(request, form) -> instance` for the add form;
    `service_update(request, stored, form)` for the change form, given the row as stored and
    the changes in `form.changed_data` (where the API offers no update, leave it out and deny
    `has_change_permission`); and `service_delete(request, obj)`. The bulk "delete selected"
    action deletes through `service_delete`, all or nothing.
    """

    # The add page's own form and fieldsets where they differ from the change page's (a new
    # doctor comes with an account, say), as in Django's UserAdmin.
    add_form: type[forms.ModelForm[Any]] | None = None
    add_fieldsets: list[tuple[str | None, dict[str, Any]]] | None = None

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(
        self,
        request: HttpRequest,
        obj: models.Model | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[models.Model]]:
        if obj is None and self.add_form is not None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change, **kwargs)

    def service_create(self, request: HttpRequest, form: Any) -> models.Model:
        raise NotImplementedError

    def service_update(self, request: HttpRequest, stored: models.Model, form: Any) -> None:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: models.Model) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: Any) -> None:
        if change:
            # The form has already written its values onto `obj`; the service gets the row as
            # stored, so that what it checks and audits is the change from there.
            self.service_update(request, type(obj)._default_manager.get(pk=obj.pk), form)
            return
        created = self.service_create(request, form)
        # The admin goes on with its own (unsaved) instance: logging the addition, the
        # success message, the redirect. It becomes the one the service saved.
        obj.__dict__.update(created.__dict__)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.service_delete(request, obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: models.QuerySet[models.Model]
    ) -> None:
        # All or nothing, like the admin's own bulk delete: the first refusal rolls back the
        # rows deleted before it, and says which row and why.
        with transaction.atomic():
            for obj in queryset:
                try:
                    self.service_delete(request, obj)
                except DomainError as error:
                    raise DomainError(f"Nothing was deleted. {obj}: {error_text(error)}") from error

    def _refusal_shown(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any
    ) -> HttpResponse:
        """Run an admin view; a service's refusal, raised inside the view's transaction (rolled
        back by then), becomes an error message on the page the admin came from."""
        try:
            return view(request, *args)
        except DomainError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self._refusal_shown(
            request, super().changeform_view, object_id, form_url, extra_context
        )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._refusal_shown(request, super().delete_view, object_id, extra_context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._refusal_shown(request, super().changelist_view, extra_context)


class ReadOnlyAdminMixin:
    """Records that only the system writes (history, slots, the audit log, idempotency
    records): listed and viewable, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, _ModelAdmin):
    """A read-only list and view page (see `ReadOnlyAdminMixin`)."""


class ReadOnlyInline(ReadOnlyAdminMixin, _TabularInline):
    """Read-only rows shown inside another record's page (see `ReadOnlyAdminMixin`)."""

    extra = 0
