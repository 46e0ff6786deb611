// `npm run bench`: the metering pipeline under Kong-like load, both kinds of traffic, then a
// summary against the targets (achieved / target beside each figure). Token counting and billing
// at scale print their own lines before and after (scripts/bench.sh runs them).
// Options: --events 30000 --runs 3 --batch 100 --concurrency 8 --consumers 100 --meters 2
//          --latency-seconds 10 --profile DIR (API and meter processes under --cpu-prof).
import { parseArgs } from "node:util";
import { runPipeline, type PipelineFigures } from "./bench/pipeline.ts";
import { line, loadAverage } from "./bench/stats.ts";
import type { Mode } from "./bench/kong-load.ts";

const { values: a } = parseArgs({
  options: {
    events: { type: "string", default: "30000" },
    runs: { type: "string", default: "3" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "8" },
    consumers: { type: "string", default: "100" },
    meters: { type: "string", default: "2" },
    "latency-seconds": { type: "string", default: "10" },
    modes: { type: "string", default: "stats-only,chat-2kb" },
    profile: { type: "string" },
  },
});

const TARGET: Record<Mode, number> = { "stats-only": 20_000, "chat-2kb": 5_000 };
const figures = new Map<Mode, PipelineFigures>();
for (const mode of a.modes.split(",") as Mode[]) {
  figures.set(
    mode,
    await runPipeline(mode, {
      events: Number(a.events),
      runs: Number(a.runs),
      batchSize: Number(a.batch),
      concurrency: Number(a.concurrency),
      consumers: Number(a.consumers),
      meters: Number(a.meters),
      latencySeconds: Number(a["latency-seconds"]),
      profileDir: a.profile,
    }),
  );
}
for (const [mode, f] of figures) {
  console.log(
    line({
      summary: mode,
      end_to_end_events_per_s: Math.round(f.endToEnd),
      target: TARGET[mode],
      ratio_to_target: (f.endToEnd / TARGET[mode]).toFixed(2),
      ingest_alone: Math.round(f.ingest),
      meter_alone: Math.round(f.meter),
      meter_alone_scaled: Math.round(f.meterScaled),
      visible_p99_ms_at_half_rate: Math.round(f.p99),
      p99_target_ms: 1000,
      ...f.cpuPerEvent,
      load_avg: loadAverage(),
    }),
  );
}
