"""The audit log masks the free text of a visit from now on (a move's note, a feedback's
comments); this masks what it already holds, as it masks encrypted fields: "(changed)" where
there was text, null where there was none.

The log is append-only, down to a trigger (`audit.0002_append_only`): the trigger is set aside
for these two statements only, inside this migration's transaction, so no other session ever
writes while it is off. There is no way back: the plaintext is gone, as intended.
"""

from django.db import migrations

MASK = """
ALTER TABLE audit_auditlog DISABLE TRIGGER audit_auditlog_append_only;

UPDATE audit_auditlog
   SET changes = jsonb_set(changes, '{note}', '"(changed)"')
 WHERE target_type = 'appointment'
   AND changes ? 'note'
   AND changes -> 'note' <> '"(changed)"';

UPDATE audit_auditlog
   SET changes = jsonb_set(
           changes,
           '{comments}',
           CASE WHEN coalesce(changes -> 'comments' ->> 1, '') = '' THEN 'null'::jsonb
                ELSE '"(changed)"'::jsonb END
       )
 WHERE target_type = 'feedback'
   AND jsonb_typeof(changes -> 'comments') = 'array';

ALTER TABLE audit_auditlog ENABLE TRIGGER audit_auditlog_append_only;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0002_encrypt_visit_free_text"),
        ("audit", "0002_append_only"),
    ]

    operations = [migrations.RunSQL(MASK, migrations.RunSQL.noop)]
