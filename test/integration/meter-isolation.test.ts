// One event PostgreSQL refuses cannot stop a partition: it is dead-lettered with the database's
// reason, and everything before and after it on the partition is metered exactly once. Failures
// are real PostgreSQL errors: a numeric overflow the data causes, and triggers that raise the
// other classes (an unexplained error, a serialization failure that goes away).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { createPrisma } from "../../src/db/client.ts";
import { judgeFailure } from "../../workers/meter/isolate.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { refuseInserts } from "../helpers/refusals.ts";
import { admin, header, ingest, readTopic, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

let stack: Stack;

before(async () => {
  stack = await startStack();
  // Raised by PostgreSQL for chosen rows, as a trigger or a constraint of an operator's would: on the
  // call's route, which the meter stores in the same statement as the call.
  await stack.db.$executeRawUnsafe(`CREATE SEQUENCE flaky_attempts`);
  await refuseInserts(stack.db, {
    name: "raise_unexplained",
    table: "call_routes",
    when: "NEW.route_name = 'raises-unexplained'",
    sqlState: "P0001",
    message: "refused by a trigger",
  });
  await refuseInserts(stack.db, {
    name: "serialization_twice",
    table: "call_routes",
    when: "NEW.route_name = 'serialization-twice' AND nextval('flaky_attempts') <= 2",
    sqlState: "40001",
    message: "could not serialize access",
  });
  await refuseInserts(stack.db, {
    name: "refuse_consumer",
    table: "consumers",
    when: "NEW.username = 'refused-consumer'",
    sqlState: "23514",
    message: "username not allowed",
  });
});
after(() => stack.close());

async function createConsumer(prices = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" }) {
  const kongId = randomUUID();
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: `iso-${kongId.slice(0, 8)}`,
    kong_id: kongId,
    metadata: prices,
  });
  assert.equal(res.statusCode, 201, res.body);
  return { kongId, id: res.json().id as string };
}

/** A log with no payload: the provider's figures are billed. */
const statsLog = (kongId: string, opts: { route?: string; prompt?: number; completion?: number } = {}) =>
  kongLog({
    consumer: { id: kongId },
    routeName: opts.route ?? "chat",
    ai: {
      proxy: {
        usage: { prompt_tokens: opts.prompt ?? 10, completion_tokens: opts.completion ?? 5 },
        meta: { response_model: "gpt-4o" },
      },
    },
  });

const requestId = (entry: Record<string, unknown>) => (entry.request as { id: string }).id;

let dlqSeen: KafkaMessage[] = [];
/** Dead letters of the meter stage, read from the start of the topic until `count` have arrived. */
async function meterDeadLetters(count: number): Promise<KafkaMessage[]> {
  dlqSeen = await readTopic(stack.kafka, stack.config.kafka.deadLetterTopic, count, 30_000);
  return dlqSeen.filter((m) => header(m, "tm-stage") === "meter");
}

async function storedIds(consumerId: string): Promise<string[]> {
  return (await stack.db.usageEvent.findMany({ where: { consumerId }, select: { id: true } })).map((e) => e.id).sort();
}

/** Totals and TDL cells equal the sums over the stored events: nothing counted twice or lost. */
async function assertAggregatesMatchEvents(consumerId: string) {
  const events = await stack.db.usageEvent.findMany({ where: { consumerId } });
  const billable = events.filter((e) => e.billable);
  const totals = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId } });
  assert.equal(totals.calls, BigInt(events.length));
  assert.equal(totals.billableCalls, BigInt(billable.length));
  assert.equal(totals.inputTokens, BigInt(billable.reduce((s, e) => s + e.inputTokens, 0)));
  const cells = await stack.db.tdlCell.aggregate({ where: { consumerId }, _sum: { calls: true } });
  assert.equal(cells._sum.calls ?? 0, billable.length);
}

describe("meter isolation", () => {
  it("an event whose cost PostgreSQL cannot hold is dead-lettered with the reason; the rest of the batch is metered once", async () => {
    // the largest price the rate column holds, times two million tokens, overflows the cost column
    const rich = await createConsumer({ input_cost_per_token: "999999999999", output_cost_per_token: "0" });
    const before = [statsLog(rich.kongId), statsLog(rich.kongId)];
    const poison = statsLog(rich.kongId, { prompt: 2_000_000 });
    const afterIt = [statsLog(rich.kongId), statsLog(rich.kongId)];
    const res = await ingest(stack, [...before, poison, ...afterIt]);
    assert.deepEqual(res.json(), { accepted: 5, rejected: [] });

    const letters = await waitFor(
      async () => {
        const l = (await meterDeadLetters(1)).filter((m) => header(m, "tm-event-id") === requestId(poison));
        return l.length ? l : undefined;
      },
      30_000,
      "the poison event's dead letter",
    );
    assert.match(
      header(letters[0]!, "tm-reason")!,
      /database refused the event \(data\): numeric field overflow \(SQLSTATE 22003\)/,
    );
    assert.ok(letters[0]!.value!.toString().includes(requestId(poison)), "the dead letter keeps the original message");
    assert.ok(header(letters[0]!, "tm-source-offset"));

    await waitFor(async () => (await storedIds(rich.id)).length === 4, 30_000, "the four good events");
    assert.deepEqual(await storedIds(rich.id), [...before, ...afterIt].map(requestId).sort());
    await assertAggregatesMatchEvents(rich.id);
  });

  it("a later batch on the same partition is metered too (the partition moved on)", async () => {
    const rich = await createConsumer({ input_cost_per_token: "999999999999", output_cost_per_token: "0" });
    assert.equal((await ingest(stack, [statsLog(rich.kongId, { prompt: 3_000_000 })])).statusCode, 202);
    const next = statsLog(rich.kongId);
    assert.equal((await ingest(stack, [next])).statusCode, 202);
    await waitFor(async () => (await storedIds(rich.id)).includes(requestId(next)), 30_000, "the next event");
    assert.equal((await storedIds(rich.id)).length, 1);
  });

  it("an unexplained database error is dead-lettered as unclassified once PostgreSQL still answers", async () => {
    const c = await createConsumer();
    const bad = statsLog(c.kongId, { route: "raises-unexplained" });
    const good = [statsLog(c.kongId), statsLog(c.kongId), statsLog(c.kongId)];
    assert.equal((await ingest(stack, [good[0], bad, good[1], good[2]])).statusCode, 202);
    const letter = await waitFor(
      async () => (await meterDeadLetters(1)).find((m) => header(m, "tm-event-id") === requestId(bad)),
      30_000,
      "dead letter",
    );
    assert.match(header(letter, "tm-reason")!, /\(unclassified\): refused by a trigger \(SQLSTATE P0001\)/);
    await waitFor(async () => (await storedIds(c.id)).length === 3, 30_000, "the good events");
    assert.deepEqual(await storedIds(c.id), good.map(requestId).sort());
    await assertAggregatesMatchEvents(c.id);
  });

  it("a transient failure (serialization) is retried until it passes: metered once, nothing dead-lettered", async () => {
    const c = await createConsumer();
    const flaky = statsLog(c.kongId, { route: "serialization-twice" });
    const others = [statsLog(c.kongId), statsLog(c.kongId)];
    assert.equal((await ingest(stack, [others[0], flaky, others[1]])).statusCode, 202);
    await waitFor(async () => (await storedIds(c.id)).length === 3, 30_000, "all three events after the retries");
    const [row] = await stack.db.$queryRaw<Array<{ last_value: bigint }>>`SELECT last_value FROM flaky_attempts`;
    assert.ok(row!.last_value >= 3n, "the failing write was attempted again");
    assert.ok(!dlqSeen.some((m) => header(m, "tm-event-id") === requestId(flaky)));
    await assertAggregatesMatchEvents(c.id);
  });

  it("a consumer PostgreSQL refuses to register fails only its own events", async () => {
    const ok = await createConsumer();
    const refused = kongLog({ consumer: { id: randomUUID(), username: "refused-consumer" } });
    const good = [statsLog(ok.kongId), statsLog(ok.kongId)];
    assert.equal((await ingest(stack, [good[0], refused, good[1]])).statusCode, 202);
    const letter = await waitFor(
      async () => (await meterDeadLetters(1)).find((m) => header(m, "tm-event-id") === requestId(refused)),
      30_000,
      "dead letter",
    );
    assert.match(
      header(letter, "tm-reason")!,
      /registering the consumer failed: username not allowed \(SQLSTATE 23514\)/,
    );
    await waitFor(async () => (await storedIds(ok.id)).length === 2, 30_000, "the good events");
  });

  it("odd values from a log are stored, not refused: NUL, lone surrogates, huge ids, __proto__ names, impossible counts", async () => {
    const kongId = randomUUID();
    const entries = [
      {
        ...kongLog({
          consumer: { id: kongId, username: "odd\u0000user\ud800" },
          requestId: "r".repeat(100_000),
          routeName: "__proto__",
        }),
      },
      kongLog({
        consumer: { id: kongId },
        ai: {
          proxy: { usage: { prompt_tokens: 1e300, completion_tokens: -4 }, meta: { response_model: "constructor" } },
        },
      }),
      kongLog({ consumer: { id: kongId }, routeName: `route\u0000${"n".repeat(5000)}`, upstreamStatus: "200\u0000" }),
      kongLog({
        consumer: { id: kongId },
        ai: { proxy: { usage: { prompt_tokens: 3, completion_tokens: 4 }, meta: { response_model: "__proto__" } } },
      }),
    ];
    assert.equal((await ingest(stack, entries)).json().accepted, 4);
    const consumer = await waitFor(
      async () => (await stack.db.consumer.findFirst({ where: { kongId } })) ?? undefined,
      30_000,
      "the consumer registered",
    );
    await waitFor(async () => (await storedIds(consumer.id)).length === 4, 30_000, "all four events");
    const events = await stack.db.usageEvent.findMany({ where: { consumerId: consumer.id } });
    assert.ok(events.some((e) => e.id.startsWith("rid-sha256:")));
    const impossible = events.find((e) => e.model === "constructor")!;
    assert.deepEqual(
      [impossible.inputTokens, impossible.inputSource, impossible.anomalies],
      [0, "none", ["provider_count_implausible", "no_token_count", "unpriced"]],
      "registered from the log with no default price or plan: unpriced, never free",
    );
    const routes = await stack.db.callRoute.findMany({
      where: { id: { in: events.flatMap((e) => (e.callRouteId ? [e.callRouteId] : [])) } },
    });
    assert.ok(routes.some((r) => r.routeName?.startsWith("route")));
    assert.ok(routes.every((r) => (r.routeName ?? "").length <= 256 && !(r.routeName ?? "").includes("\u0000")));
    assert.equal(events.find((e) => e.model === "__proto__")?.capability, null);
  });

  it("an unclassified failure counts as an outage while PostgreSQL does not answer, and as the data's once it does", async () => {
    const raised = await stack.db
      .$executeRawUnsafe(`DO $$ BEGIN RAISE EXCEPTION 'odd' USING ERRCODE = 'P0001'; END $$`)
      .catch((e: unknown) => e);
    assert.equal((await judgeFailure(stack.db, raised)).kind, "unknown");
    const unreachable = createPrisma("postgresql://postgres@127.0.0.1:1/nowhere");
    try {
      assert.equal((await judgeFailure(unreachable, raised)).kind, "transient");
    } finally {
      await unreachable.$disconnect();
    }
  });
});
