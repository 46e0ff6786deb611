// The import command: reads a Kong declarative config file, imports it like the API does, prints
// the report, tells running API processes to drop cached metadata, and exits 1 if any consumer
// was rejected (2 on a file that cannot be read at all).
import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import { Consumers } from "../src/consumers/consumers.ts";
import type { ImportReport } from "../src/consumers/import.service.ts";
import { withDatabase } from "./with-database.ts";

const USAGE = "usage: npm run import:kong -- <kong.yaml> [--dry-run] [--actor NAME] [--json]";

function printReport(r: ImportReport, file: string): void {
  const name = (e: { username: string | null; custom_id: string | null }) => e.username ?? e.custom_id ?? "?";
  console.log(`${r.dry_run ? "dry run of " : ""}import of ${file} (_format_version ${r.format_version})`);
  for (const e of r.created) console.log(`  created    ${name(e)}  metadata v${e.metadata_version}  ${e.consumer_id}`);
  for (const e of r.updated)
    console.log(
      `  updated    ${name(e)}  ${e.changed.join(", ")}${e.metadata_version ? `  -> metadata v${e.metadata_version}` : ""}`,
    );
  for (const e of r.unchanged) console.log(`  unchanged  ${name(e)}`);
  for (const e of r.rejected) {
    console.log(`  rejected   ${name(e)}`);
    for (const p of e.reasons) console.log(`             ${p.field}: ${p.message}`);
  }
  for (const n of r.notes) console.log(`  note: ${n}`);
  const s = r.summary;
  console.log(`${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.rejected} rejected`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" }, actor: { type: "string" }, json: { type: "boolean" } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    console.error(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return 2;
  }
  return withDatabase(
    config,
    async ({ db, changes }) => {
      const consumers = new Consumers(db, config.metering, changes);
      const by = { actor: values.actor ?? `cli:${userInfo().username}`, source: "import" as const };
      const report = await consumers.importKong(text, { by, dryRun: values["dry-run"] ?? false });
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report, file);
      return report.rejected.length > 0 ? 1 : 0;
    },
    file,
  );
}

process.exitCode = await main();
