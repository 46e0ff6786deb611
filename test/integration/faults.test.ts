// The fault suite, short (`npm run test:faults` is the long one): the API and the meter as separate
// processes, on a broker and a PostgreSQL cluster of their own, under Kong-like senders that post
// every batch twice and retry non-2xx answers, while the meter, the API or the broker is killed
// with SIGKILL or PostgreSQL is restarted. Nothing acknowledged is lost or counted twice, and the
// totals, TDL cells and invoices equal the sums of the distinct events.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FaultEnvironment, formatReport, runScenario, type Fault } from "../faults/scenario.ts";

const env = new FaultEnvironment();

before(() => env.setUp());
after(() => env.tearDown());

const scenarios: Array<[Fault, number]> = [
  ["none", 1],
  ["meter-kill", 2],
  ["api-kill", 1],
  ["broker-kill", 1],
  ["postgres-restart", 1],
];

describe("faults", () => {
  for (const [fault, kills] of scenarios) {
    it(`${fault}: nothing lost, nothing counted twice`, async () => {
      const r = await runScenario(env, { fault, entries: 200, batchSize: 20, consumers: 4, kills, senders: 2 });
      console.log(formatReport(r));
      assert.equal(r.unacknowledged, 0, "every batch was acknowledged within Kong's retry time");
      assert.equal(r.lost, 0);
      assert.equal(r.storedTwice, 0);
      assert.equal(r.storedOnce, r.posted);
      assert.deepEqual([r.totals, r.tdl, r.invoices], ["ok", "ok", "ok"]);
      if (fault === "meter-kill" || fault === "api-kill") assert.equal(r.restarts, kills);
    });
  }
});
