// A parsed Kong log as the call record the meter reads, for unit tests of the stages after parsing.
import type { CallRecord } from "../../src/calls/call-record.ts";
import { callFromKongLog } from "../../src/calls/from-kong-log.ts";
import { DEFAULT_BODY_PATHS, type BodyPaths, type KongLog } from "../../src/domain/kong-log.ts";

/** The log's record, with the model and billability the test names (billable unless it says otherwise). */
export function callOfLog(log: KongLog, o: { model?: string; paths?: BodyPaths; billable?: boolean } = {}): CallRecord {
  const call = callFromKongLog(log, "test-call", new Date(0), {
    bodyPaths: o.paths ?? DEFAULT_BODY_PATHS,
    modelByRoute: new Map(),
  });
  return { ...call, model: o.model ?? call.model, billable: o.billable ?? true };
}
