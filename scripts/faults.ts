// `npm run test:faults [-- --entries 3000 --kills 3 --faults meter-kill,broker-kill]`: the fault
// suite, long. tokenmeter's API and meter run as separate processes against a broker and a
// PostgreSQL cluster of the suite's own; Kong-like senders post every batch twice and retry
// non-2xx answers for 60 s while each fault is injected. Prints one line per scenario and exits 1
// if any entry was lost or counted twice, or totals, TDL cells or invoices differ from the events.
// A short version runs in `npm test` (test/integration/faults.test.ts).
import { parseArgs } from "node:util";
import { FaultEnvironment, formatReport, runScenario, type Fault } from "../test/faults/scenario.ts";

const { values: args } = parseArgs({
  options: {
    entries: { type: "string", default: "3000" },
    batch: { type: "string", default: "100" },
    consumers: { type: "string", default: "20" },
    kills: { type: "string", default: "3" },
    senders: { type: "string", default: "4" },
    faults: { type: "string", default: "none,meter-kill,api-kill,broker-kill,postgres-restart" },
  },
});

const env = new FaultEnvironment();
await env.setUp();
let failed = false;
try {
  for (const fault of args.faults.split(",") as Fault[]) {
    const r = await runScenario(env, {
      fault,
      entries: Number(args.entries),
      batchSize: Number(args.batch),
      consumers: Number(args.consumers),
      kills: Number(args.kills),
      senders: Number(args.senders),
    });
    console.log(formatReport(r));
    const ok =
      r.lost === 0 &&
      r.storedTwice === 0 &&
      r.unacknowledged === 0 &&
      r.totals === "ok" &&
      r.tdl === "ok" &&
      r.invoices === "ok";
    failed ||= !ok;
  }
} finally {
  await env.tearDown();
}
console.log(failed ? "faults: FAILED" : "faults: every scenario 0 lost, 0 counted twice");
process.exit(failed ? 1 : 0);
