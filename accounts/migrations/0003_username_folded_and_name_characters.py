"""Usernames unique after NFKC and case folding (a stored folded column with a unique index);
first and last names refuse control and formatting characters (a validator: no SQL).

Existing accounts get their folded username. Accounts whose usernames differ only by case or
Unicode form cannot both keep theirs: the migration stops and names them, for staff to rename
all but one (in the admin site of the running release) before migrating again. Renaming
someone silently, or letting one of them sign in as the other, would be worse.
"""

import unicodedata

import core.validators
from django.db import migrations, models


def username_fold(username: str) -> str:
    # As accounts.models.username_fold when this migration was written.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def usernames_fold(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    by_folded: dict[str, list[str]] = {}
    users = list(User.objects.only("pk", "username"))
    for user in users:
        user.username_folded = username_fold(user.username)
        by_folded.setdefault(user.username_folded, []).append(user.username)
    clashes = sorted(names for names in by_folded.values() if len(names) > 1)
    if clashes:
        raise RuntimeError(
            "These usernames differ only by case or Unicode form and must become unique: "
            + "; ".join(", ".join(repr(name) for name in sorted(names)) for names in clashes)
            + ". Rename all but one of each in the admin site, then migrate again."
        )
    User.objects.bulk_update(users, ["username_folded"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_token_generation"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_folded",
            field=models.TextField(editable=False, null=True),
        ),
        migrations.RunPython(usernames_fold, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="user",
            name="username_folded",
            field=models.TextField(
                editable=False,
                help_text="The username after NFKC and case folding (`username_fold`), kept by "
                "`save`.",
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="first_name",
            field=models.CharField(
                blank=True,
                max_length=150,
                validators=[core.validators.NameCharactersValidator()],
                verbose_name="first name",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="last_name",
            field=models.CharField(
                blank=True,
                max_length=150,
                validators=[core.validators.NameCharactersValidator()],
                verbose_name="last name",
            ),
        ),
    ]
