// A parsed report (src/domain/raw-message.ts) as its call record.
import type { Config } from "../config.ts";
import type { ParsedEntry } from "../domain/raw-message.ts";
import type { CallRecord, ReadOptions } from "./call-record.ts";
import { callFromCloudEvent } from "./from-cloud-event.ts";
import { callFromKongLog } from "./from-kong-log.ts";

export const readOptionsOf = (config: Config): ReadOptions => ({
  bodyPaths: { request: config.metering.requestBodyPaths, response: config.metering.responseBodyPaths },
  modelByRoute: config.metering.modelByRoute,
});

export function callOf(entry: ParsedEntry, o: ReadOptions): CallRecord {
  const r = entry.report;
  return r.kind === "http-log"
    ? callFromKongLog(r.log, entry.eventId, entry.receivedAt, o)
    : callFromCloudEvent(r.event, entry.eventId, entry.receivedAt, o);
}
