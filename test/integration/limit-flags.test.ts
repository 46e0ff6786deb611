// Calls that broke a limit anyway (the gateway failed open, or did not ask) are metered as usual,
// flagged on the event, and counted by the usage API. Real Kafka, meter and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CHAT_REQUEST, CHAT_RESPONSE, kongLog } from "../fixtures/kong-logs.ts";
import { admin, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const AT = Date.parse("2026-11-20T09:30:00Z"); // T5 in UTC; the chat request is level 0
const METADATA = {
  id: "tight",
  tdl_matrix: { T5: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  capabilities: [1, 1, 0, 0, 0],
  max_input_tokens: 10, // the chat request counts 27
  max_output_tokens: 5, // the response counts 7
};

describe("limit flags in metering", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ BILLING_TIMEZONE: "UTC", CAPABILITY_MAP: '{"image-route":"2"}' });
  });
  after(async () => stack.close());

  it("flags each broken limit on the event and counts the flags in usage", async () => {
    const c = (await admin(stack, "POST", "/v1/consumers", { username: "tight-client", metadata: METADATA })).json();
    const consumer = { username: "tight-client" };
    const log = (i: number, routeName = "llama2-chat") =>
      kongLog({
        consumer,
        routeName,
        startedAt: AT + i * 1000,
        requestBody: CHAT_REQUEST,
        responseBody: CHAT_RESPONSE,
      });
    // three calls in T5 level 0 (limit 2), the second on a route of a capability not granted
    const logs = [log(0), log(1, "image-route"), log(2)];
    assert.equal((await ingest(stack, logs)).statusCode, 202);

    const rows = await waitFor(async () => {
      const r = await stack.db.usageEvent.findMany({ where: { consumerId: c.id }, orderBy: { occurredAt: "asc" } });
      return r.length === 3 && r;
    });
    assert.deepEqual(
      rows.map((r) => [...r.limitFlags].sort()),
      [
        ["input_tokens_over_limit", "output_tokens_over_limit"],
        ["capability_not_granted", "input_tokens_over_limit", "output_tokens_over_limit"],
        ["input_tokens_over_limit", "output_tokens_over_limit", "tdl_limit_exceeded"],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.metadataVersion),
      [1, 1, 1],
    );

    const usage = (
      await admin(stack, "GET", `/v1/consumers/${c.id}/usage?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z`)
    ).json();
    assert.deepEqual(usage.totals.limit_flags, {
      capability_not_granted: 1,
      input_tokens_over_limit: 3,
      output_tokens_over_limit: 3,
      tdl_limit_exceeded: 1,
    });
  });

  it("flags nothing for a consumer within its limits, and a later batch still counts the day's cell", async () => {
    const c = (
      await admin(stack, "POST", "/v1/consumers", {
        username: "roomy-client",
        metadata: { id: "roomy", tdl_matrix: { T5: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0] } },
      })
    ).json();
    const log = (i: number) =>
      kongLog({
        consumer: { username: "roomy-client" },
        startedAt: AT + i * 1000,
        requestBody: CHAT_REQUEST,
        responseBody: CHAT_RESPONSE,
      });
    await ingest(stack, [log(0), log(1)]);
    await waitFor(async () => (await stack.db.usageEvent.count({ where: { consumerId: c.id } })) === 2);
    await ingest(stack, log(2)); // the third call of the cell, in a batch of its own
    const rows = await waitFor(async () => {
      const r = await stack.db.usageEvent.findMany({ where: { consumerId: c.id }, orderBy: { occurredAt: "asc" } });
      return r.length === 3 && r;
    });
    assert.deepEqual(
      rows.map((r) => r.limitFlags),
      [[], [], ["tdl_limit_exceeded"]],
    );
  });
});
