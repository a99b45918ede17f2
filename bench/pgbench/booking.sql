-- The booking transaction of `appointments.services.appointment_book`, statement for
-- statement as the API sends it (captured from Django with CaptureQueriesContext;
-- tests/appointments/test_booking_statements.py pins the list), for pgbench: the database's
-- own ceiling for bookings on this machine. Each transaction takes the next (slot, patient)
-- pair of bench_pgbench_pair (free slots, each with a patient who is free at that hour), so
-- no two transactions contend and none fails. Run with -M simple: values are inlined into
-- the SQL text, as Django's psycopg client-side binding sends them. The API sends the six
-- statements after set_config in one round trip (pipeline mode); pgbench sends them one by
-- one. The encrypted columns carry ciphertexts of the API's length.
SELECT p.slot_id AS slot, p.patient_id AS patient, p.doctor_id AS doctor,
       p.start AS slot_start, p."end" AS slot_end, gen_random_uuid() AS appointment
  FROM bench_pgbench_pair p WHERE p.n = (SELECT nextval('bench_pgbench_seq')) \gset
BEGIN;
SELECT set_config('lock_timeout', '3000ms', true);
SELECT d.*, u.username, u.id, u.first_name, u.last_name, u.time_zone
  FROM doctors_doctor d JOIN accounts_user u ON u.id = d.user_id
  WHERE d.user_id = (SELECT doctor_id FROM scheduling_slot WHERE id = ':slot') FOR SHARE OF d;
SELECT s.id, s.doctor_id, s.window_id, s.start, s."end", s.is_booked FROM scheduling_slot s
  WHERE s.id = ':slot' FOR NO KEY UPDATE;
SELECT p.user_id, p.date_of_birth, p.gender, p.contact_number, p.reminder_lead_times,
    p.created_at, p.updated_at, u.username, u.id, u.first_name, u.last_name, u.time_zone,
    (SELECT count(*) FROM appointments_penalty n WHERE n.patient_id = p.user_id AND NOT n.resolved)
  FROM patients_patient p JOIN accounts_user u ON u.id = p.user_id
  WHERE p.user_id = ':patient' FOR NO KEY UPDATE OF p;
SELECT c.upcoming, s.id
  FROM (SELECT count(*) AS upcoming FROM appointments_appointment
        WHERE patient_id = ':patient' AND status = ANY('{pending,confirmed}') AND start > now()) c
  LEFT JOIN scheduling_slot s ON s.id = ANY(ARRAY[':slot']::uuid[]) AND EXISTS (
    SELECT 1 FROM appointments_appointment a
    WHERE a.patient_id = ':patient' AND a.status = ANY('{pending,confirmed}')
    AND a.start < s."end" AND a."end" > s.start);
SELECT s.id,
    EXISTS (SELECT 1 FROM scheduling_holiday h WHERE h.date = (s.start AT TIME ZONE 'Europe/London')::date),
    EXISTS (SELECT 1 FROM scheduling_timeoff t
            WHERE t.doctor_id = s.doctor_id AND t.start < s."end" AND t."end" > s.start)
  FROM scheduling_slot s WHERE s.id = ANY(ARRAY[':slot']::uuid[]);
SELECT id FROM webhooks_webhookendpoint WHERE is_active AND events @> ARRAY['appointment.booked']::varchar[]
  ORDER BY created_at, id;
WITH w0 AS (UPDATE scheduling_slot SET is_booked = true WHERE id = ':slot'),
w1 AS (INSERT INTO appointments_appointment (id, patient_id, doctor_id, slot_id, start, "end",
    status, reason, rescheduled_from_id, is_override, series_id, diagnosis, treatment_notes,
    created_by_id, created_at, updated_at)
  VALUES (':appointment', ':patient', ':doctor', ':slot', ':slot_start', ':slot_end', 'pending',
    decode(repeat('80', 73), 'hex'), NULL, false, NULL, decode(repeat('80', 73), 'hex'),
    decode(repeat('80', 73), 'hex'), ':patient', now(), now())),
w2 AS (INSERT INTO appointments_appointmentstatuschange (appointment_id, from_status, to_status,
    actor_id, at, note)
  VALUES (':appointment', '', 'pending', ':patient', now(), decode(repeat('80', 73), 'hex'))),
w3 AS (INSERT INTO audit_auditlog (id, at, actor_id, actor_username, action, target_type,
    target_id, changes, ip, request_id)
  VALUES (gen_random_uuid(), now(), ':patient', 'patient', 'create', 'appointment',
    ':appointment', jsonb_build_object('status', jsonb_build_array(NULL, 'pending'),
      'patient', jsonb_build_array(NULL, ':patient'), 'doctor', jsonb_build_array(NULL, ':doctor'),
      'slot', jsonb_build_array(NULL, ':slot'), 'start', jsonb_build_array(NULL, ':slot_start'),
      'end', jsonb_build_array(NULL, ':slot_end'), 'override', false),
    '127.0.0.1', md5(random()::text)))
INSERT INTO notifications_notification (id, recipient_id, kind, appointment_id, title, body,
    created_at, read_at, dedupe_key, email_status, attempts, last_error, next_attempt_at,
    claimed_at, claim, sent_at)
  VALUES (gen_random_uuid(), ':patient', 'booked', ':appointment', 'Appointment requested',
    'Your appointment with Dr John Doctor on Tuesday 8 December 2026 at 09:00 (Europe/London time) is booked and waits for Dr John Doctor to confirm it.',
    now(), NULL, NULL, 'pending', 0, '', now(), NULL, NULL, NULL),
  (gen_random_uuid(), ':doctor', 'booked', ':appointment', 'New booking',
    'Mary Patient booked an appointment with you on Tuesday 8 December 2026 at 09:00 (Europe/London time): it waits for your confirmation.',
    now(), NULL, NULL, 'pending', 0, '', now(), NULL, NULL, NULL);
COMMIT;
