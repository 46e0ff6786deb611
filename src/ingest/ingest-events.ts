// One CloudEvents body (Kong's metering-and-billing plugin) through ingest: each event checked
// against CloudEvents 1.0 and the types tokenmeter meters, redacted and produced to the raw topic
// beside the http-log entries, or dead-lettered with its index and reason. The same answer rules
// as /ingest/kong: 2xx once Kafka holds everything, 400 for a body unusable as a whole.
import { AppError, badRequest } from "../domain/errors.ts";
import { callIdOf, checkCloudEvent } from "../domain/cloud-event.ts";
import { stringifyJson, isJsonObject } from "../domain/json.ts";
import { identityKey, type RawUsageEnvelope } from "../domain/usage-event.ts";
import { jsonBodyOf } from "./entries.ts";
import { redactDeep } from "./redact.ts";
import { keepUnusableBody, publish, sorter, type IngestDeps, type IngestResult } from "./ingest-body.ts";

export const CLOUDEVENT_TYPES = {
  single: "application/cloudevents+json",
  batch: "application/cloudevents-batch+json",
  json: "application/json",
} as const;

/** The media type without its parameters (`; charset=utf-8`), lower-cased. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** The events of a body as its content type says: one event, an array of them, or either (application/json). */
export function eventsOf(body: Buffer, mediaType: string): unknown[] {
  const parsed = jsonBodyOf(body);
  if (mediaType === CLOUDEVENT_TYPES.single && !isJsonObject(parsed))
    throw badRequest(`a ${CLOUDEVENT_TYPES.single} body must be one event object`, "body");
  if (mediaType === CLOUDEVENT_TYPES.batch && !Array.isArray(parsed))
    throw badRequest(`a ${CLOUDEVENT_TYPES.batch} body must be an array of events`, "body");
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw badRequest("request body is an empty array; expected CloudEvents", "body");
    return parsed;
  }
  if (!isJsonObject(parsed)) throw badRequest("request body must be a CloudEvent or an array of them", "body");
  return [parsed];
}

/** Resolves once Kafka holds every accepted event and every dead letter; throws a 400 AppError for an unusable body. */
export async function ingestCloudEvents(body: Buffer, mediaType: string, deps: IngestDeps): Promise<IngestResult> {
  const redactKeys = deps.config.ingest.redactKeys;
  let values: unknown[];
  try {
    values = eventsOf(body, mediaType);
  } catch (err) {
    if (err instanceof AppError)
      await keepUnusableBody(deps, body, err.message, redactKeys, "cloudevents_unusable_body").catch(() => {});
    throw err;
  }
  const receivedAt = new Date().toISOString();
  const { sorted, reject, accept } = sorter(deps.producer);
  for (const [index, value] of values.entries()) {
    // attributes copied from request headers may hold credentials: redacted before anything is kept
    redactDeep(value, redactKeys);
    const check = checkCloudEvent(value);
    if (!check.ok) {
      reject(index, check.code, check.reason, stringifyJson(value));
      continue;
    }
    const envelope: RawUsageEnvelope = {
      v: 1,
      id: callIdOf(check.event),
      source: "kong-cloudevents",
      receivedAt,
      event: check.event,
    };
    accept(index, { key: identityKey(check.event.subject), value: stringifyJson(envelope) });
  }
  return publish(deps, sorted);
}
