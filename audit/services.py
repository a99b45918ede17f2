"""Writing the audit log. Callers write in the same transaction as the change they record,
so a rolled-back change leaves no entry and a committed one always has one."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django_cryptography.fields import EncryptedMixin

from audit.models import AuditLog
from core.request import current_request

REQUEST_USER = object()  # default actor: whoever is signed in on the current request

# Shown instead of the value of a field that is encrypted at rest.
CHANGED = "(changed)"


def field_changes(
    *, before: dict[str, Any], after: dict[str, Any], secret: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`{field: [old, new]}` for the fields whose value differs; secret fields only say
    that they changed, so no protected value is ever copied into the log."""
    changes: dict[str, Any] = {}
    for field, new in after.items():
        old = before.get(field)
        if old != new:
            changes[field] = CHANGED if field in secret else [old, new]
    return changes


def audit_entry(
    *,
    action: str,
    target_type: str,
    target_id: Any = "",
    changes: dict[str, Any] | None = None,
    actor: Any = REQUEST_USER,
) -> AuditLog:
    """One entry, not yet written: for a caller that writes it with its other rows in one
    statement (`core.statements.RowWrites`). `actor` defaults to the signed-in user of the
    current request; `None` means the system (a sweep, a command). The client address and
    request id come from the request being served."""
    context = current_request()
    if actor is REQUEST_USER:
        actor = context.user
    return AuditLog(
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes=changes or {},
        ip=context.ip,
        request_id=context.request_id,
    )


def audit_record(
    *,
    action: str,
    target_type: str,
    target_id: Any = "",
    changes: dict[str, Any] | None = None,
    actor: Any = REQUEST_USER,
) -> AuditLog:
    """Append one entry (`audit_entry`, written now)."""
    entry = audit_entry(
        action=action, target_type=target_type, target_id=target_id, changes=changes, actor=actor
    )
    entry.save()
    return entry


def encrypted_fields(model: type[Model]) -> frozenset[str]:
    """The fields of `model` encrypted at rest, whose values the log never holds."""
    return frozenset(f.name for f in model._meta.get_fields() if isinstance(f, EncryptedMixin))


def model_values(instance: Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields` on a model instance, as the log stores them (related
    objects by primary key)."""
    return {name: instance.serializable_value(name) for name in fields}


def _target_type(instance: Model) -> str:
    """The entry's `target_type`: the model's name (as `_meta.model_name`)."""
    return type(instance).__name__.lower()


def audit_model_create(
    *,
    instance: Model,
    fields: Iterable[str],
    action: str = "create",
    actor: Any = REQUEST_USER,
    **extra: Any,
) -> AuditLog:
    """Record a new row: its listed fields (encrypted ones only as present or not)."""
    secret = encrypted_fields(type(instance))
    values = model_values(instance, fields)
    changes = {
        name: (CHANGED if value else None) if name in secret else [None, value]
        for name, value in values.items()
    }
    return audit_record(
        action=action,
        target_type=_target_type(instance),
        target_id=instance.pk,
        changes={**changes, **extra},
        actor=actor,
    )


def audit_model_delete(*, instance: Model, fields: Iterable[str]) -> AuditLog:
    """Record a row about to be deleted, with the listed fields' last values."""
    secret = encrypted_fields(type(instance))
    values = model_values(instance, fields)
    return audit_record(
        action="delete",
        target_type=_target_type(instance),
        target_id=instance.pk,
        changes={
            name: CHANGED if name in secret else [value, None] for name, value in values.items()
        },
    )


def audit_model_update(
    *,
    instance: Model,
    before: dict[str, Any],
    action: str = "update",
    actor: Any = REQUEST_USER,
    **extra: Any,
) -> AuditLog | None:
    """Record the fields of `before` whose value on `instance` is now different (nothing
    when none is)."""
    after = model_values(instance, before)
    changes = field_changes(before=before, after=after, secret=encrypted_fields(type(instance)))
    if not changes and not extra:
        return None
    return audit_record(
        action=action,
        target_type=_target_type(instance),
        target_id=instance.pk,
        changes={**changes, **extra},
        actor=actor,
    )
