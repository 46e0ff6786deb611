// Dead letters from each stage are recorded in PostgreSQL with their reason and redacted bytes,
// listed and inspected through the API and the CLI, and replayed after their cause is fixed:
// then metered exactly once, however often the replay is repeated.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { deadLetter } from "../../src/kafka/dead-letter.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { refuseInserts } from "../helpers/refusals.ts";
import { admin, ingest, INGEST_SECRET, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const run = promisify(execFile);
const SECRET = "S3CR3T-dl-4242";
let stack: Stack;
let refusal: { lift(): Promise<void> };

before(async () => {
  stack = await startStack();
  refusal = await refuseInserts(stack.db, {
    name: "refuse_until_fixed",
    // on the call's route, which the meter stores in the same statement as the call
    table: "call_routes",
    when: "NEW.route_name = 'needs-fix'",
    sqlState: "22023",
    message: "route not allowed yet",
  });
});
after(() => stack.close());

type Letter = {
  id: string;
  stage: string;
  kind: string;
  reason: string;
  event_id: string | null;
  replay_count: number;
  payload?: string;
  source: unknown;
};

async function letters(query = ""): Promise<Letter[]> {
  const res = await admin(stack, "GET", `/v1/dead-letters${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().dead_letters;
}

const waitForLetter = (match: (l: Letter) => boolean, what: string) =>
  waitFor(async () => (await letters("?limit=500")).find(match), 30_000, what);

const storedCount = (id: string) => stack.db.usageEvent.count({ where: { id } });

/** The CLI against this stack's database and topics. */
function cli(...args: string[]) {
  const env = {
    ...process.env,
    DATABASE_URL: stack.config.databaseUrl,
    KAFKA_TOPIC_RAW: stack.config.kafka.rawTopic,
    KAFKA_TOPIC_DLQ: stack.config.kafka.deadLetterTopic,
    LOG_LEVEL: "silent",
  };
  return run("node", ["--import", "tsx", "scripts/dead-letters.ts", ...args], {
    env,
    cwd: new URL("../..", import.meta.url).pathname,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe("dead letters", () => {
  it("a meter dead letter is recorded, listed, shown, replayed once its cause is fixed, and metered once", async () => {
    const kongId = randomUUID();
    await admin(stack, "POST", "/v1/consumers", { username: `dl-${kongId.slice(0, 8)}`, kong_id: kongId });
    const entry = kongLog({ consumer: { id: kongId }, routeName: "needs-fix" });
    const eventId = (entry.request as { id: string }).id;
    assert.equal((await ingest(stack, [entry])).statusCode, 202);

    const letter = await waitForLetter((l) => l.event_id === eventId, "the meter's dead letter in the API");
    assert.equal(letter.stage, "meter");
    assert.equal(letter.kind, "database_data");
    assert.match(letter.reason, /route not allowed yet \(SQLSTATE 22023\)/);
    const shown = (await admin(stack, "GET", `/v1/dead-letters/${letter.id}`)).json();
    assert.ok(shown.payload.includes(eventId), "the original message");
    assert.ok(!shown.payload.includes("llama2-secret-key-12345"), "redacted");
    assert.equal(
      (await letters(`?stage=meter&reason=database_data`)).some((l) => l.id === letter.id),
      true,
    );
    assert.equal(
      (await letters(`?stage=ingest`)).some((l) => l.id === letter.id),
      false,
    );

    await refusal.lift(); // the fix
    const replay = await admin(stack, "POST", "/v1/dead-letters/replay", { ids: [letter.id] });
    assert.equal(replay.statusCode, 200, replay.body);
    assert.equal(replay.json().resubmitted, 1);
    await waitFor(async () => (await storedCount(eventId)) === 1, 30_000, "the replayed event metered");

    // replaying again is harmless: the event stays metered once
    assert.equal((await admin(stack, "POST", "/v1/dead-letters/replay", { ids: [letter.id] })).json().resubmitted, 1);
    const marker = kongLog({ consumer: { id: kongId } });
    await ingest(stack, [marker]);
    await waitFor(
      async () => (await storedCount((marker.request as { id: string }).id)) === 1,
      30_000,
      "a later event",
    );
    assert.equal(await storedCount(eventId), 1);
    const totals = await stack.db.consumerTotal.findFirstOrThrow({ where: { consumer: { kongId } } });
    assert.equal(totals.calls, 2n);
    assert.equal((await admin(stack, "GET", `/v1/dead-letters/${letter.id}`)).json().replay_count, 2);
  });

  it("an ingest dead letter keeps no credential, whatever its shape, and replays as still refused", async () => {
    const broken = {
      request: { headers: { "x-api-key": [SECRET, SECRET], cookie: { session: SECRET } } },
      response: { status: 200 },
    };
    const res = await ingest(stack, [broken]);
    assert.equal(res.json().rejected[0].reason, "started_at: missing or not a number");
    const truncated = `[{"request":{"headers":{"apikey":["${SECRET}"`;
    assert.equal((await ingest(stack, truncated)).statusCode, 400);

    const entryLetter = await waitForLetter((l) => l.kind === "started_at_missing", "the refused entry");
    const bodyLetter = await waitForLetter((l) => l.kind === "unusable_body", "the unusable body");
    for (const l of [entryLetter, bodyLetter]) {
      const payload = (await admin(stack, "GET", `/v1/dead-letters/${l.id}`)).json().payload as string;
      assert.ok(!payload.includes(SECRET), payload);
      assert.ok(payload.includes("REDACTED"));
    }
    const raw = await stack.db.deadLetter.findUniqueOrThrow({ where: { id: entryLetter.id } });
    assert.ok(!Buffer.from(raw.payload).toString().includes(SECRET), "not in the table either");

    const replay = (await admin(stack, "POST", "/v1/dead-letters/replay", { ids: [entryLetter.id] })).json();
    assert.deepEqual(
      replay.outcomes.map((o: { outcome: string }) => o.outcome),
      ["still_refused"],
    );
  });

  it("an ingest dead letter that the current version accepts is replayed through ingest and metered", async () => {
    // as an older version that refused this entry would have left it on the dead-letter topic
    const kongId = randomUUID();
    const entry = kongLog({ consumer: { id: kongId } });
    const eventId = (entry.request as { id: string }).id;
    await stack.producer.send([
      {
        topic: stack.config.kafka.deadLetterTopic,
        messages: [
          deadLetter(JSON.stringify(entry), null, {
            stage: "ingest",
            kind: "legacy",
            reason: "refused by an older check",
            index: 0,
          }),
        ],
      },
    ]);
    const letter = await waitForLetter((l) => l.kind === "legacy", "the old dead letter");
    const replay = (
      await admin(stack, "POST", "/v1/dead-letters/replay", { stage: "ingest", reason: "legacy" })
    ).json();
    assert.deepEqual(replay.outcomes, [{ id: letter.id, stage: "ingest", outcome: "resubmitted" }]);
    await waitFor(async () => (await storedCount(eventId)) === 1, 30_000, "the replayed entry metered");
  });

  it("a CloudEvent dead letter replays through /ingest/events: still refused while bad, metered once the current version accepts it", async () => {
    const rid = randomUUID().replaceAll("-", "");
    const good = {
      specversion: "1.0",
      id: rid,
      source: "kong://cp",
      type: "kong.llm_request",
      subject: "dl-ce",
      data: { type: "request", tokens: 12, api_request_id: rid },
    };
    const bad = { ...good, id: `${rid}-bad`, specversion: "0.3" };
    const res = await stack.app.inject({
      method: "POST",
      url: "/ingest/events",
      headers: { "content-type": "application/cloudevents+json", authorization: `Bearer ${INGEST_SECRET}` },
      payload: JSON.stringify(bad),
    });
    assert.equal(res.json().rejected[0].reason, 'specversion: must be "1.0"');
    const refused = await waitForLetter((l) => l.kind === "cloudevent_invalid", "the refused CloudEvent");
    const again = (await admin(stack, "POST", "/v1/dead-letters/replay", { ids: [refused.id] })).json();
    assert.deepEqual(
      again.outcomes.map((o: { outcome: string; detail?: string }) => [o.outcome, o.detail]),
      [["still_refused", 'specversion: must be "1.0"']],
    );
    // as an older version that refused this event would have left it on the dead-letter topic
    await stack.producer.send([
      {
        topic: stack.config.kafka.deadLetterTopic,
        messages: [
          deadLetter(JSON.stringify(good), null, {
            stage: "ingest",
            kind: "cloudevent_unmetered_type",
            reason: "refused by an older check",
            index: 0,
          }),
        ],
      },
    ]);
    const old = await waitForLetter((l) => l.kind === "cloudevent_unmetered_type", "the old CloudEvent dead letter");
    const replay = (await admin(stack, "POST", "/v1/dead-letters/replay", { ids: [old.id] })).json();
    assert.deepEqual(
      replay.outcomes.map((o: { outcome: string }) => o.outcome),
      ["resubmitted"],
    );
    await waitFor(async () => (await storedCount(rid)) === 1, 30_000, "the replayed CloudEvent metered");
    assert.equal((await stack.db.usageEvent.findFirstOrThrow({ where: { id: rid } })).inputSource, "kong_event");
  });

  it("the API refuses nonsense with 4xx naming the field", async () => {
    assert.equal((await admin(stack, "GET", "/v1/dead-letters?stage=kafka")).json().error.field, "query.stage");
    assert.equal((await admin(stack, "GET", "/v1/dead-letters/not-a-uuid")).json().error.field, "path.id");
    assert.equal((await admin(stack, "GET", `/v1/dead-letters/${randomUUID()}`)).statusCode, 404);
    assert.equal((await admin(stack, "POST", "/v1/dead-letters/replay", {})).statusCode, 400);
    const noKey = await stack.app.inject({ method: "GET", url: "/v1/dead-letters" });
    assert.equal(noKey.statusCode, 401);
  });

  it("the CLI lists, shows and replays the same records, with exit codes for mistakes", async () => {
    const list = await cli("list", "--json", "--stage", "meter");
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Letter[];
    assert.ok(rows.length >= 1 && rows.every((r) => r.stage === "meter"));
    const show = await cli("show", rows[0]!.id);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(JSON.parse(show.stdout).id, rows[0]!.id);
    const replay = await cli("replay", rows[0]!.id);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /1 resubmitted, 0 still refused/);
    assert.equal((await cli("show", randomUUID())).code, 1);
    assert.equal((await cli("show", "nope")).code, 2);
    assert.equal((await cli("frobnicate")).code, 2);
    assert.equal((await cli("list", "--stage", "sideways")).code, 2);
  });

  it("dead letters appear in /metrics by stage", async () => {
    const text = (await stack.app.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(text, /^tokenmeter_dead_letters\{stage="meter",replayed="true"\} [1-9]/m);
    assert.match(text, /^tokenmeter_dead_letters\{stage="ingest",replayed="false"\} [1-9]/m);
  });
});
