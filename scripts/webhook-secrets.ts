// Moves webhook endpoints' signing secrets to the current key, after WEBHOOK_SECRET_KEY changed
// (the old key listed in WEBHOOK_PREVIOUS_SECRET_KEYS). Each secret is rewritten only if it is
// still what was read, so a concurrent change is never overwritten. Once every secret is under the
// current key, the previous keys can be dropped. Exit codes: 0 all current, 1 some could not be
// read (listed), 2 nothing done (usage, configuration).
import { loadConfig } from "../src/config.ts";
import { createPrisma } from "../src/db/client.ts";
import { reencryptSecrets } from "../src/alerts/secret-rotation.ts";
import { setupProblem } from "./setup-state.ts";

const USAGE = "usage: npm run webhook-secrets -- reencrypt [--json]";

async function main(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const rest = args.filter((a) => a !== "--json");
  if (rest[0] !== "reencrypt" || rest.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const current = config.webhooks.secretKey;
  if (!current) {
    console.error("WEBHOOK_SECRET_KEY is not set: there is no key to re-encrypt under");
    return 2;
  }
  const problem = await setupProblem(config.databaseUrl);
  if (problem) {
    console.error(problem);
    return 2;
  }
  const db = createPrisma(config.databaseUrl);
  try {
    const r = await reencryptSecrets(db, { current, previous: config.webhooks.previousKeys });
    if (json) {
      console.log(JSON.stringify(r, null, 2));
      return r.unreadable.length > 0 ? 1 : 0;
    }
    console.log(
      `endpoints: ${r.total}; re-encrypted: ${r.reencrypted}; already under the current key: ${r.current}; unreadable: ${r.unreadable.length}`,
    );
    for (const u of r.unreadable) console.log(`  ${u.id}: ${u.error}`);
    return r.unreadable.length > 0 ? 1 : 0;
  } finally {
    await db.$disconnect();
  }
}

process.exitCode = await main(process.argv.slice(2));
