"""The database refuses another patient's booking of a slot held by an open waitlist offer,
as it refuses double bookings: a trigger on appointments raises a check violation named
`waitlist_slot_held`, which the booking services answer as 409 `slot_held`. A check
constraint cannot look at another table; the trigger reads the offers of the one slot, by
the partial unique index on open offers. Bookings and offers both take the slot's row lock
(`core.locks`), so the trigger sees every hold committed before the booking got the slot."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION waitlist_slot_held_check() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM waitlist_waitlistoffer
        WHERE slot_id = NEW.slot_id AND status = 'open' AND patient_id <> NEW.patient_id
    ) THEN
        RAISE EXCEPTION 'slot % is held for another patient', NEW.slot_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'waitlist_slot_held';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER waitlist_slot_held
    BEFORE INSERT OR UPDATE OF slot_id, status ON appointments_appointment
    FOR EACH ROW
    WHEN (NEW.slot_id IS NOT NULL AND NEW.status IN ('pending', 'confirmed'))
    EXECUTE FUNCTION waitlist_slot_held_check();
"""

BACKWARD = """
DROP TRIGGER waitlist_slot_held ON appointments_appointment;
DROP FUNCTION waitlist_slot_held_check();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("waitlist", "0001_waitlist_entries_and_offers"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
