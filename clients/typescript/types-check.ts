// What the generated types must accept and refuse, checked by `tsc` alone (nothing runs): each
// `@ts-expect-error` line must fail to compile, and the positive control beside it must compile.
// Bodies are variables typed with the request body's type: openapi-fetch's generic call
// switches off TypeScript's excess-property check, a declared type does not.
import type { components, operations } from "./api.js";

type Schemas = components["schemas"];
type Booking = Schemas["AppointmentBookRequest"];
const SLOT = "8d0f6a38-4c52-4b7e-9d56-0d2b1f6b9c11";

// A booking names its slot, or overrides with a doctor, a start and an end.
export const slotBooking: Booking = { slot: SLOT };
export const slotBookingWithReason: Booking = { slot: SLOT, reason: "Check-up", override: false };
export const overrideBooking: Booking = {
  override: true,
  doctor: SLOT,
  start: "2030-07-01T09:00:00Z",
  end: "2030-07-01T10:00:00Z",
  patient: SLOT,
};
// @ts-expect-error a booking without `slot`
export const bookingWithoutSlot: Booking = { reason: "Check-up" };
// @ts-expect-error an empty booking
export const emptyBooking: Booking = {};
// @ts-expect-error a field the server refuses (`unknown_field`)
export const bookingWithUnknownField: Booking = { slot: SLOT, colour: "blue" };
// @ts-expect-error `override` is a boolean
export const bookingWithOverrideText: Booking = { slot: SLOT, override: "yes" };
// @ts-expect-error an override needs its doctor, start and end
export const overrideWithoutTimes: Booking = { override: true, doctor: SLOT };
// @ts-expect-error a slot booking cannot override
export const slotBookingOverriding: Booking = { slot: SLOT, override: true };

// A field with a server-side default may be left out.
export const cancel: Schemas["CancelRequest"] = {};
export const feedback: Schemas["FeedbackCreateRequest"] = { rating: 5 };
export const timeOff: Schemas["TimeOffCreateRequest"] = {
  start: "2030-07-01T09:00:00Z",
  end: "2030-07-01T10:00:00Z",
};
export const blacklist: Schemas["DoctorBlacklistRequest"] = { reason: "Misconduct" };
// @ts-expect-error but a required one may not
export const feedbackWithoutRating: Schemas["FeedbackCreateRequest"] = {};

// Each operation's error codes are an enum of its own, and every error is one envelope.
export const bookingConflict: Schemas["AppointmentBookError409Code"] = "slot_unavailable";
// @ts-expect-error a code booking never answers with a 409
export const notABookingConflict: Schemas["AppointmentBookError409Code"] = "invalid_transition";
export function describe(error: Schemas["ErrorResponse"]): string {
  return error.errors.map((e) => `${e.attr ?? "-"}: ${e.code}`).join("; ");
}
export const conflict = (e: Schemas["AppointmentBookErrorResponse409"]) => describe(e);
export const invalid = (e: Schemas["AppointmentBookErrorResponse400"]) => describe(e);

// A page always carries its links, null at either end.
export const page: Schemas["PaginatedSlotList"] = { count: 0, next: null, previous: null, results: [] };
// @ts-expect-error `next` and `previous` are required
export const pageWithoutLinks: Schemas["PaginatedSlotList"] = { count: 0, results: [] };

// `ordering` is one value of an enum, the same type on appointments and doctors.
type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;
export const latestFirst: Query<"appointment_list">["ordering"] = "-start";
export const byRating: Query<"doctor_list">["ordering"] = "-rating";
// @ts-expect-error not a list
export const orderingList: Query<"appointment_list">["ordering"] = ["-start"];
export const pending: Query<"appointment_list">["status"] = "pending";
export const sameStatus: Schemas["AppointmentStatusEnum"] | undefined = pending;
// @ts-expect-error a status filter takes the statuses only
export const notAStatus: Query<"appointment_list">["status"] = "done";
// @ts-expect-error no `doctor` filter where the path names the doctor
export const doctorOnDoctorSlots: Query<"doctor_slot_list">["doctor"] = SLOT;

// `profile` is the patient's or the doctor's, or null for an admin.
export function profileName(me: Schemas["Me"]): string {
  if (me.profile === null) return "admin";
  return "license_number" in me.profile ? me.profile.license_number : me.profile.date_of_birth;
}
// An audit entry's changes are a map by field name.
export const changed = (entry: Schemas["AuditLog"]): string[] => Object.keys(entry.changes);
