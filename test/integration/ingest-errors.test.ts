// How ingest answers when it cannot take a body: over the size limit (413), and Kafka down (503,
// so that Kong's retry redelivers; the retried batch is then counted exactly once).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { kongLog } from "../fixtures/kong-logs.ts";
import { localBroker } from "../helpers/kafka-broker.ts";
import { admin, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const broker = localBroker(19092);
let stack: Stack;

before(async () => {
  await broker.reset();
  await broker.start();
  stack = await startStack({
    KAFKA_BROKERS: broker.brokers,
    INGEST_PRODUCE_TIMEOUT_MS: "3000",
    INGEST_BODY_LIMIT_BYTES: "65536",
    USAGE_MAX_SPAN_DAYS: "4000",
  });
});
after(async () => {
  await broker.start(); // the closers need a broker to leave the group cleanly
  await stack.close();
  await broker.reset();
});

async function calls(consumerId: string): Promise<number> {
  const res = await admin(
    stack,
    "GET",
    `/v1/consumers/${consumerId}/usage?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`,
  );
  return res.json().totals.calls;
}

describe("ingest errors", () => {
  it("a body over the configured limit is 413 and nothing is produced", async () => {
    const entry = kongLog({
      requestBody: { model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(70_000) }] },
    });
    const res = await ingest(stack, entry);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, "payload_too_large");
  });

  it("Kafka stopped: ingest answers 503; after restart the retried POST is counted once", async () => {
    const kongId = randomUUID();
    const created = await admin(stack, "POST", "/v1/consumers", { username: "outage", kong_id: kongId });
    const consumerId = created.json().id as string;

    assert.equal((await ingest(stack, kongLog({ consumer: { id: kongId } }))).statusCode, 202);
    await waitFor(async () => (await calls(consumerId)) === 1, 20_000, "first call metered");

    await broker.stop();
    const retried = [kongLog({ consumer: { id: kongId } }), kongLog({ consumer: { id: kongId }, requestId: null })];
    const down = await ingest(stack, retried);
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.json().error.code, "kafka_unavailable");

    await broker.start();
    // Kong's retry: the same batch again until it is taken
    const up = await waitFor(
      async () => {
        const res = await ingest(stack, retried);
        return res.statusCode === 202 ? res : undefined;
      },
      60_000,
      "ingest to accept after the broker restarted",
    );
    assert.deepEqual(up.json(), { accepted: 2, rejected: [] });
    // and once more, as a Kong retry after a timeout would
    assert.equal((await ingest(stack, retried)).statusCode, 202);
    const marker = kongLog({ consumer: { id: kongId } });
    assert.equal((await ingest(stack, marker)).statusCode, 202);
    await waitFor(async () => (await calls(consumerId)) >= 4, 60_000, "the retried batch and the marker metered");
    assert.equal(await calls(consumerId), 4);
    assert.equal(await stack.db.usageEvent.count({ where: { consumerId } }), 4);
  });
});
