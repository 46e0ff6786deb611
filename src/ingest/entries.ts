// Splits a posted body into entries and checks each just enough to know it is a Kong log; the meter
// validates the rest. An entry that fails here is dead-lettered, never silently dropped.
import { badRequest } from "../domain/errors.ts";
import { isJsonObject } from "../domain/json.ts";

/** Why an entry was refused, as a bounded code (metrics) beside the sentence (answer, dead letter). */
export type RejectCode =
  | "not_an_object"
  | "request_missing"
  | "response_missing"
  | "status_missing"
  | "started_at_missing"
  | "too_large"
  // CloudEvents (POST /ingest/events)
  | "cloudevent_invalid"
  | "cloudevent_unmetered_type";
export type EntryCheck = { ok: true; entry: Record<string, unknown> } | { ok: false; code: RejectCode; reason: string };

/** A posted body as JSON; an empty or unparseable one is a 400 naming the body. */
export function jsonBodyOf(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("request body is empty", "body");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`request body is not valid JSON (${(err as Error).message})`, "body");
  }
}

/** The body as a list of entries: Kong sends one object, or an array when it batches. */
export function entriesOf(body: Buffer): unknown[] {
  const parsed = jsonBodyOf(body);
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw badRequest("request body is an empty array; expected Kong log entries", "body");
    return parsed;
  }
  if (!isJsonObject(parsed)) throw badRequest("request body must be a Kong log object or an array of them", "body");
  return [parsed];
}

export function checkEntry(value: unknown): EntryCheck {
  if (!isJsonObject(value)) return { ok: false, code: "not_an_object", reason: "entry is not a JSON object" };
  if (!isJsonObject(value.request))
    return { ok: false, code: "request_missing", reason: "request: missing or not an object" };
  if (!isJsonObject(value.response))
    return { ok: false, code: "response_missing", reason: "response: missing or not an object" };
  if (typeof value.response.status !== "number")
    return { ok: false, code: "status_missing", reason: "response.status: missing or not a number" };
  if (typeof value.started_at !== "number")
    return { ok: false, code: "started_at_missing", reason: "started_at: missing or not a number" };
  return { ok: true, entry: value };
}
