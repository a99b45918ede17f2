// The flow a web client walks, with the client openapi-typescript generates from openapi.yaml and
// openapi-fetch: compiled with `tsc --strict --noUncheckedIndexedAccess`, then run against a live
// server by tests/openapi/test_generated_clients.py.
//
//   node walk.js <base URL> <admin username> <admin password> <name suffix>
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type ErrorResponse = components["schemas"]["ErrorResponse"];

const [baseUrl, adminUsername, adminPassword, suffix] = process.argv.slice(2);
if (!baseUrl || !adminUsername || !adminPassword || !suffix) {
  throw new Error("usage: node walk.js <base URL> <admin username> <admin password> <suffix>");
}
const PASSWORD = "correct-horse-battery-staple-9";

// Every operation's error types are one envelope: a generic handler takes any of them.
function failed(step: string, error: ErrorResponse, status: number): Error {
  const codes = error.errors.map((e) => `${e.attr ?? "-"}: ${e.code}`).join(", ");
  return new Error(`${step}: ${status} ${error.type} (${codes})`);
}

function expect<T>(step: string, actual: T, expected: T): void {
  if (actual !== expected) throw new Error(`${step}: ${String(actual)} !== ${String(expected)}`);
}

async function signIn(username: string, password: string) {
  const anonymous = createClient<paths>({ baseUrl });
  const { data, error, response } = await anonymous.POST("/api/v1/auth/token/", {
    body: { username, password },
  });
  if (error) throw failed("sign in", error, response.status);
  return data;
}

function signedIn(access: string) {
  // A JSON client: the reports and the list also answer CSV (text/csv), which it never asks for.
  return createClient<paths, "application/json">({
    baseUrl,
    headers: { Authorization: `Bearer ${access}` },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const admin = signedIn((await signIn(adminUsername!, adminPassword!)).access);

  // An admin adds a specialization and a doctor who approves bookings.
  const specialty = await admin.POST("/api/v1/specializations/", {
    body: { name: `Cardiology ${suffix}` },
  });
  if (specialty.error) throw failed("specialization", specialty.error, specialty.response.status);
  const doctorCreated = await admin.POST("/api/v1/doctors/", {
    body: {
      username: `dr.${suffix}`,
      email: `dr.${suffix}@clinic.test`,
      password: PASSWORD,
      first_name: "Grace",
      last_name: "Hopper",
      specialization: specialty.data.id,
      license_number: `LIC-${suffix}`,
      years_of_experience: 12,
      requires_approval: true,
    },
  });
  if (doctorCreated.error) {
    throw failed("doctor", doctorCreated.error, doctorCreated.response.status);
  }

  // A patient registers, signs in and refreshes their tokens.
  const anonymous = createClient<paths>({ baseUrl });
  const registered = await anonymous.POST("/api/v1/patients/", {
    body: {
      username: `pat.${suffix}`,
      email: `pat.${suffix}@mail.test`,
      password: PASSWORD,
      first_name: "Ada",
      last_name: "Lovelace",
      date_of_birth: "1990-12-10",
    },
  });
  if (registered.error) throw failed("register", registered.error, registered.response.status);
  const patientTokens = await signIn(`pat.${suffix}`, PASSWORD);
  const refreshed = await anonymous.POST("/api/v1/auth/token/refresh/", {
    body: { refresh: patientTokens.refresh },
  });
  if (refreshed.error) throw failed("refresh", refreshed.error, refreshed.response.status);
  const patient = signedIn(refreshed.data.access);
  const me = await patient.GET("/api/v1/auth/me/");
  if (me.error) throw failed("me", me.error, me.response.status);
  expect("me: role", me.data.role, "patient");
  if (me.data.profile === null || !("date_of_birth" in me.data.profile)) {
    throw new Error("me: a patient's profile is the patient");
  }
  expect("me: profile", me.data.profile.id, registered.data.id);

  // The doctor publishes three hours, the first starting in a few seconds.
  const doctor = signedIn((await signIn(`dr.${suffix}`, PASSWORD)).access);
  const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 6000);
  const end = new Date(start.getTime() + 3 * 3600 * 1000);
  const window = await doctor.POST("/api/v1/availability/", {
    body: { start: start.toISOString(), end: end.toISOString() },
  });
  if (window.error) throw failed("availability", window.error, window.response.status);

  // The patient searches, and books the first slot with an Idempotency-Key, twice.
  const found = await patient.GET("/api/v1/slots/", {
    params: { query: { doctor: doctorCreated.data.id, page_size: 10 } },
  });
  if (found.error) throw failed("search", found.error, found.response.status);
  expect("search: slots", found.data.count, 3);
  expect("search: one page", found.data.next, null);
  const [first, second, third] = found.data.results;
  if (!first || !second || !third) throw new Error("search: three slots");
  const key = `walk-${suffix}`;
  const bookFirst = () =>
    patient.POST("/api/v1/appointments/", {
      body: { slot: first.id, reason: "Check-up" },
      params: { header: { "Idempotency-Key": key } },
    });
  const booked = await bookFirst();
  if (booked.error) throw failed("book", booked.error, booked.response.status);
  expect("book: status", booked.data.status, "pending");
  const replayed = await bookFirst();
  if (replayed.error) throw failed("book again", replayed.error, replayed.response.status);
  expect("book again: the same appointment", replayed.data.id, booked.data.id);

  // The doctor confirms it.
  const visit = { params: { path: { id: booked.data.id } } };
  const confirmed = await doctor.POST("/api/v1/appointments/{id}/confirm/", visit);
  if (confirmed.error) throw failed("confirm", confirmed.error, confirmed.response.status);
  expect("confirm: status", confirmed.data.status, "confirmed");

  // A second booking, moved to the third slot and then cancelled (its reason left out).
  const later = await patient.POST("/api/v1/appointments/", { body: { slot: second.id } });
  if (later.error) throw failed("book later", later.error, later.response.status);
  const moved = await patient.POST("/api/v1/appointments/{id}/reschedule/", {
    params: { path: { id: later.data.id } },
    body: { slot: third.id },
  });
  if (moved.error) throw failed("reschedule", moved.error, moved.response.status);
  expect("reschedule: from", moved.data.rescheduled_from, later.data.id);
  // A refused call is typed too: the third slot is held now.
  const taken = await patient.POST("/api/v1/appointments/", { body: { slot: third.id } });
  if (!taken.error) throw new Error("book a held slot: not refused");
  expect("book a held slot: status", taken.response.status, 409);
  expect("book a held slot: code", taken.error.errors[0]?.code, "slot_unavailable");
  const cancelled = await patient.POST("/api/v1/appointments/{id}/cancel/", {
    params: { path: { id: moved.data.id } },
    body: {},
  });
  if (cancelled.error) throw failed("cancel", cancelled.error, cancelled.response.status);
  expect("cancel: status", cancelled.data.status, "cancelled");

  // Once the visit has started the doctor completes it, and the patient rates it.
  await sleep(Math.max(0, start.getTime() - Date.now() + 500));
  const completed = await doctor.POST("/api/v1/appointments/{id}/complete/", {
    ...visit,
    body: { diagnosis: "Healthy", treatment_notes: "None needed" },
  });
  if (completed.error) throw failed("complete", completed.error, completed.response.status);
  expect("complete: status", completed.data.status, "completed");
  const rated = await patient.POST("/api/v1/appointments/{id}/feedback/", {
    ...visit,
    body: { rating: 5 },
  });
  if (rated.error) throw failed("feedback", rated.error, rated.response.status);
  expect("feedback: rating", rated.data.rating, 5);

  // The admin's report counts the visit.
  const day = 24 * 3600 * 1000;
  const report = await admin.GET("/api/v1/reports/appointments/", {
    params: {
      query: {
        date_from: new Date(Date.now() - day).toISOString().slice(0, 10),
        date_to: new Date(Date.now() + day).toISOString().slice(0, 10),
      },
    },
  });
  if (report.error) throw failed("report", report.error, report.response.status);
  const completedCount = report.data.reduce((sum, row) => sum + row.completed, 0);
  if (completedCount < 1) throw new Error("report: the completed visit is counted");

  // The patient signs out: their refresh token no longer works.
  const out = await patient.POST("/api/v1/auth/logout/", {
    body: { refresh: refreshed.data.refresh },
  });
  if (out.error) throw failed("logout", out.error, out.response.status);
  expect("logout: status", out.response.status, 204);
  const after = await anonymous.POST("/api/v1/auth/token/refresh/", {
    body: { refresh: refreshed.data.refresh },
  });
  expect("refresh after logout: status", after.response.status, 401);
  console.log("walk done");
}

await main();
