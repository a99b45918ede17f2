from django.db import migrations

FORBID = """
CREATE FUNCTION audit_auditlog_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_auditlog_append_only
    BEFORE UPDATE OR DELETE ON audit_auditlog
    FOR EACH ROW EXECUTE FUNCTION audit_auditlog_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS audit_auditlog_append_only ON audit_auditlog;
DROP FUNCTION IF EXISTS audit_auditlog_forbid_change();
"""


class Migration(migrations.Migration):
    """The database itself refuses to change or delete an audit entry, whatever the code
    path (raw SQL, a bug, a future admin). TRUNCATE is left to the owner: it is what a
    test database's flush and a deliberate retention job use."""

    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
