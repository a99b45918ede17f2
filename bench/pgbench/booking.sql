-- The booking transaction of `appointments.services.appointment_book`, statement for
-- statement as the API sends it (captured from Django with CaptureQueriesContext), for
-- pgbench: the database's own ceiling for bookings on this machine. Each transaction takes
-- the next (slot, patient) pair of bench_pgbench_pair (free slots, each with a patient who
-- is free at that hour), so no two transactions contend and none fails. Run with -M simple:
-- values are inlined into the SQL text, as Django's psycopg client-side binding sends them.
SELECT p.slot_id AS slot, p.patient_id AS patient, p.doctor_id AS doctor,
       p.start AS slot_start, p."end" AS slot_end, (p.start AT TIME ZONE 'Europe/London')::date AS slot_day
  FROM bench_pgbench_pair p WHERE p.n = (SELECT nextval('bench_pgbench_seq')) \gset
BEGIN;
SELECT set_config('lock_timeout', '3000ms', true);
SELECT id, doctor_id, window_id, start, "end", is_booked FROM scheduling_slot
  WHERE id = ':slot' ORDER BY start ASC LIMIT 1 FOR UPDATE OF scheduling_slot;
SELECT * FROM patients_patient WHERE user_id = ':patient' LIMIT 21 FOR UPDATE OF patients_patient;
SELECT count(*) FROM appointments_penalty WHERE patient_id = ':patient' AND NOT resolved;
SELECT 1 AS a FROM scheduling_timeoff
  WHERE doctor_id = ':doctor' AND "end" > ':slot_start' AND start < ':slot_end' LIMIT 1;
SELECT 1 AS a FROM scheduling_holiday WHERE date = ':slot_day' LIMIT 1;
SELECT 1 FROM doctors_doctor WHERE user_id = ':doctor' FOR SHARE;
SELECT * FROM doctors_doctor WHERE user_id = ':doctor' LIMIT 21;
SELECT 1 AS a FROM appointments_appointment
  WHERE "end" > ':slot_start' AND patient_id = ':patient' AND start < ':slot_end'
    AND status IN ('pending', 'confirmed') LIMIT 1;
INSERT INTO appointments_appointment (id, patient_id, doctor_id, slot_id, start, "end", status,
    reason, rescheduled_from_id, is_override, diagnosis, treatment_notes, created_by_id,
    created_at, updated_at)
  VALUES (gen_random_uuid(), ':patient', ':doctor', ':slot', ':slot_start', ':slot_end',
    'pending', '', NULL, false, '\x'::bytea, '\x'::bytea, ':patient', now(), now())
  RETURNING id \gset appointment_
UPDATE scheduling_slot SET is_booked = true WHERE id = ':slot';
INSERT INTO appointments_appointmentstatuschange (appointment_id, from_status, to_status,
    actor_id, at, note)
  VALUES (':appointment_id', '', 'pending', ':patient', now(), '') RETURNING id;
SELECT * FROM accounts_user WHERE id = ':patient' LIMIT 21;
SELECT * FROM accounts_user WHERE id = ':doctor' LIMIT 21;
SAVEPOINT patient_notification;
INSERT INTO notifications_notification (id, recipient_id, kind, appointment_id, title, body,
    created_at, read_at, dedupe_key, email_status, attempts, last_error, next_attempt_at,
    claimed_at, claim, sent_at)
  VALUES (gen_random_uuid(), ':patient', 'booked', ':appointment_id', 'Appointment requested',
    'Your appointment is booked and waits for the doctor to confirm it.', now(), NULL, NULL,
    'pending', 0, '', now(), NULL, NULL, NULL);
RELEASE SAVEPOINT patient_notification;
SAVEPOINT doctor_notification;
INSERT INTO notifications_notification (id, recipient_id, kind, appointment_id, title, body,
    created_at, read_at, dedupe_key, email_status, attempts, last_error, next_attempt_at,
    claimed_at, claim, sent_at)
  VALUES (gen_random_uuid(), ':doctor', 'booked', ':appointment_id', 'New booking',
    'A patient booked an appointment with you: it waits for your confirmation.', now(), NULL,
    NULL, 'pending', 0, '', now(), NULL, NULL, NULL);
RELEASE SAVEPOINT doctor_notification;
COMMIT;
