// Prints where a CPU profile (node --cpu-prof) spent its time: the top functions by self time and
// the share of a few known places (Prisma, tiktoken's ranks and our merge, kafkajs, JSON, GC).
// `node --import tsx scripts/bench/profile-summary.ts FILE.cpuprofile|PROCESS_DIR ... [--top 15]`
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const PLACES: Array<[string, RegExp]> = [
  ["prisma", /@prisma|prisma\/|query_compiler|generated\/client/],
  ["pg driver", /node_modules\/pg(-[a-z]+)?\//],
  ["kafkajs", /kafkajs/],
  ["tokens", /src\/tokens\//],
  ["fastify", /fastify|find-my-way|light-my-request|avvio/],
  ["zod", /node_modules\/zod/],
  ["pino", /pino|sonic-boom/],
];

export function summarize(file: string, top = 15, label = basename(file)): string[] {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of p.samples.entries()) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  let total = 0;
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    total += us;
    if (functionName === "(idle)") continue;
    const where = url
      ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(src|workers|scripts)\//, "$1/")}:${lineNumber + 1}`
      : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const place =
      functionName === "(garbage collector)"
        ? "gc"
        : /^JSON|parse|stringify/.test(functionName) && !url
          ? "json (native)"
          : (PLACES.find(([, re]) => re.test(url))?.[0] ?? (url.includes("wasm") ? "wasm" : "other"));
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  const busy = total - (self.get(p.nodes.find((n) => n.callFrame.functionName === "(idle)")?.id ?? -1) ?? 0);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  const out = [`profile ${label}: busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s`];
  out.push(
    "  by place: " +
      [...byPlace]
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${pct(v)}`)
        .join(", "),
  );
  for (const [k, v] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top))
    out.push(`  ${pct(v).padStart(6)}  ${k}`);
  return out;
}

/** A folder's profiles are one process's threads: the busiest is its main thread. */
function busiest(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(path, f));
  return files.sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "15" } },
  });
  for (const f of positionals) console.log(summarize(busiest(f), Number(values.top), basename(f)).join("\n"));
}
