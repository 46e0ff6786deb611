// `npm run bench:cli [-- --runs 5]`: each command's wall time per call as an operator types it
// (`npm run -s <command> -- ...`) on a database set up once: median and worst of the runs, with
// the load average. A command does no set-up of its own, so its time is the command's own work.
import { execFile } from "node:child_process";
import { parseArgs } from "node:util";
import { promisify } from "node:util";
import { loadConfig } from "../../src/config.ts";
import { createPrisma } from "../../src/db/client.ts";
import { createBook } from "../../src/price-books/price-book.service.ts";
import { line, loadAverage, median } from "./stats.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(values.runs);
const root = new URL("../..", import.meta.url).pathname;
const run = (args: string[]) => promisify(execFile)("npm", ["run", "-s", ...args], { cwd: root });

// a consumer and a priced book for the commands to read
await run(["import:kong", "--", "test/fixtures/seed-kong.yaml"]);
const db = createPrisma(loadConfig().databaseUrl);
await createBook(db, { name: "bench-list" });
await db.$disconnect();
await run(["prices", "--", "import", "bench-list", "--shipped"]);

const COMMANDS: Array<[string, string[]]> = [
  ["import:kong --dry-run", ["import:kong", "--", "test/fixtures/seed-kong.yaml", "--dry-run"]],
  ["credits balance", ["credits", "--", "balance", "llama2-client"]],
  ["dead-letters list", ["dead-letters", "--", "list"]],
  ["prices export", ["prices", "--", "export", "bench-list"]],
];

console.log(line({ bench: "cli", runs, load: loadAverage() }));
for (const [name, args] of COMMANDS) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run(args);
    times.push(performance.now() - t);
  }
  console.log(line({ command: JSON.stringify(name), median_ms: median(times), max_ms: Math.max(...times) }));
}
