// Randomized: generated Kong traffic, valid entries mutated every way a hostile sender could,
// posted in batches through the real ingest, Kafka, meter and PostgreSQL. Invariants:
// - no answer is a 5xx (a 503 is retried, as Kong does); a 2xx answer accounts for every entry;
// - within a bounded time the meter's committed offsets reach the end of the raw topic, and
//   every message there is a stored event or a meter dead letter (nothing lost);
// - only entries a mutation broke are refused or dead-lettered: odd but valid ones are metered;
// - totals and TDL cells are the sums of the stored events (nothing counted twice);
// - the same seed gives the same result.
// `npm test` runs a few workloads; `npm run test:fuzz` runs many (PROPERTY_RUNS, PROPERTY_SEED).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { workload, type PostedBody } from "../fixtures/kong-log-arbitraries.ts";
import { auditPipeline, waitForMeter, type Audit } from "../helpers/pipeline-audit.ts";
import { ingest, startStack } from "../helpers/stack.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 3);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261125);

type Answer = { status: number; accepted?: number; rejected?: Array<{ index: number; reason: string }> };

async function runWorkload(bodies: PostedBody[]): Promise<{ answers: Answer[]; audit: Audit }> {
  const stack = await startStack({
    DEFAULT_INPUT_COST_PER_TOKEN: "0.000001",
    DEFAULT_OUTPUT_COST_PER_TOKEN: "0.000002",
  });
  try {
    const answers: Answer[] = [];
    for (const b of bodies) {
      let res = await ingest(stack, b.text);
      for (let retry = 0; res.statusCode === 503 && retry < 20; retry++) {
        await new Promise((r) => setTimeout(r, 500));
        res = await ingest(stack, b.text);
      }
      const json = res.json();
      answers.push({ status: res.statusCode, accepted: json.accepted, rejected: json.rejected });
    }
    await waitForMeter(stack.kafka, stack.config.kafka);
    return { answers, audit: await auditPipeline(stack.kafka, stack.db, stack.config.kafka) };
  } finally {
    await stack.close();
  }
}

function assertInvariants(bodies: PostedBody[], { answers, audit }: { answers: Answer[]; audit: Audit }) {
  answers.forEach((a, i) => {
    assert.ok(a.status === 202 || a.status === 400, `body ${i} answered ${a.status}`);
    if (a.status === 202)
      assert.equal(a.accepted! + a.rejected!.length, bodies[i]!.entries, `body ${i}: every entry accounted for`);
  });
  const accepted = answers.reduce((s, a) => s + (a.accepted ?? 0), 0);
  const refused = answers.reduce((s, a) => s + (a.rejected?.length ?? 0), 0) + audit.deadLettered;
  const broken = bodies.reduce((s, b) => s + b.broken, 0);
  const stored = new Set(audit.storedIds);
  const missing = bodies.flatMap((b) => b.mustStore).filter((id) => !stored.has(id));
  assert.deepEqual(
    missing,
    [],
    `valid entries not metered; dead letters: ${JSON.stringify(audit.deadLetters.slice(0, 3))}`,
  );
  assert.ok(
    refused <= broken,
    `${refused} entries refused or dead-lettered, but only ${broken} were made unusable: ${JSON.stringify(audit.deadLetters.slice(0, 3))}`,
  );
  assert.equal(audit.rawMessages, accepted, "every accepted entry is on the raw topic");
  assert.deepEqual(audit.unaccounted, [], "every raw message is a stored event or a dead letter");
  assert.equal(audit.stored + audit.deadLettered, audit.rawMessages);
  assert.deepEqual(audit.aggregateMismatches, [], "totals and TDL cells are the sums of the stored events");
}

describe("pipeline under generated traffic", () => {
  it(`keeps its invariants for ${RUNS} generated workloads (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(workload, async (bodies) => assertInvariants(bodies, await runWorkload(bodies))),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env.PROPERTY_SHRINK !== "1" },
    );
  });

  it("gives the same result for the same seed", async () => {
    const [bodies] = fc.sample(workload, { numRuns: 1, seed: SEED + 1 });
    const first = await runWorkload(bodies!);
    const second = await runWorkload(bodies!);
    assertInvariants(bodies!, first);
    assert.deepEqual(second.answers, first.answers);
    assert.deepEqual(second.audit.storedIds, first.audit.storedIds);
    assert.deepEqual(second.audit.deadLetters, first.audit.deadLetters);
    assert.ok(first.audit.stored > 0, "the workload metered something");
  });
});
