"""Free text written about a visit becomes encrypted at rest, like the clinical notes: the
appointment's `reason`, the `note` of every move (a cancellation's, a rejection's) and the
feedback's `comments`. The idempotency store keeps its answers encrypted.

PostgreSQL cannot turn text into ciphertext itself (`ALTER ... TYPE bytea` would keep the
plaintext, as bytes the field cannot read), so each column is replaced: the plaintext column
is renamed aside, the encrypted one is added, every row's text is encrypted into it in batches,
and the plaintext column is dropped. Backwards, the same steps in reverse decrypt the text into
a plaintext column again, so nothing is lost either way.

The idempotency records kept so far are deleted rather than encrypted: their answers were
stored in plaintext and their requests fingerprinted with an unkeyed hash that a retry would no
longer match. A record is a short-lived replay cache; without it the key counts as expired,
which the API allows (a retry books afresh, and finds its own first booking holding the slot).
"""

import django_cryptography.fields
from django.db import migrations, models

# (model, field): the columns encrypted here, all of them text of at most 2,000 characters.
FREE_TEXT = [
    ("appointment", "reason"),
    ("appointmentstatuschange", "note"),
    ("feedback", "comments"),
]
BATCH = 500


def _aside(field: str) -> str:
    return f"{field}_plaintext"


def _copy(apps, *, model_name: str, source: str, target: str) -> None:
    """Copy every row's non-empty `source` into `target`, through the fields, in batches."""
    model = apps.get_model("appointments", model_name)
    rows = model.objects.order_by("pk").values_list("pk", source).iterator(chunk_size=BATCH)
    batch = []
    for pk, text in rows:
        if text:
            batch.append(model(pk=pk, **{target: text}))
        if len(batch) == BATCH:
            model.objects.bulk_update(batch, [target])
            batch = []
    if batch:
        model.objects.bulk_update(batch, [target])


def free_text_encrypt(apps, schema_editor):
    for model_name, field in FREE_TEXT:
        _copy(apps, model_name=model_name, source=_aside(field), target=field)


def free_text_decrypt(apps, schema_editor):
    for model_name, field in FREE_TEXT:
        _copy(apps, model_name=model_name, source=field, target=_aside(field))


def idempotency_records_forget(apps, schema_editor):
    """Forwards: before their plaintext answers are dropped. Backwards: once their encrypted
    answers are gone, so that no record is left that could only replay an empty answer."""
    apps.get_model("appointments", "IdempotencyRecord").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        *[
            migrations.RenameField(model_name, field, _aside(field))
            for model_name, field in FREE_TEXT
        ],
        *[
            migrations.AddField(
                model_name,
                field,
                # The default only fills the existing rows, with the ciphertext of "": without
                # it Django fills them as for a binary column, and the text read back would
                # be "b''".
                django_cryptography.fields.encrypt(
                    models.TextField(blank=True, max_length=2000, default="")
                ),
                preserve_default=False,
            )
            for model_name, field in FREE_TEXT
        ],
        migrations.RunPython(free_text_encrypt, free_text_decrypt, elidable=False),
        *[migrations.RemoveField(model_name, _aside(field)) for model_name, field in FREE_TEXT],
        migrations.RunPython(idempotency_records_forget, idempotency_records_forget),
        migrations.RemoveField("idempotencyrecord", "response_body"),
        migrations.AddField(
            "idempotencyrecord",
            "response_body",
            django_cryptography.fields.encrypt(models.JSONField(null=True)),
        ),
        migrations.AddIndex(
            "idempotencyrecord",
            models.Index(fields=["created_at"], name="appointments_idempotency_age"),
        ),
    ]
