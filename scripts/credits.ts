// The credit command: a consumer's balance and grants, its ledger, a grant (purchase, top-up,
// promotion, adjustment) or a void, checked as the API checks them. After a change, authorize's
// hold ledger is refolded so the new balance holds calls at once. Exit codes: 0 done, 2 nothing
// done (usage, a bad value, an unknown consumer or grant).
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import type { CreditOwner } from "../src/credits/credit-store.ts";
import { Credits } from "../src/credits/credits.ts";
import { presentBalance, presentConsumerCredit, presentEntry } from "../src/http/routes/credits.presenter.ts";
import { GrantSchema } from "../src/http/routes/credits.routes.ts";
import { warnings, withDatabase } from "./with-database.ts";

const USAGE = `usage: npm run credits -- balance <owner> [--json]
       npm run credits -- ledger <owner> [--limit N] [--json]
       npm run credits -- grant <owner> <amount> [--kind purchase|promotion|adjustment] [--priority N] [--effective-at WHEN] [--expires-at WHEN] [--note TEXT] [--json]
       npm run credits -- void <owner> <grant-id> --reason TEXT [--json]
<owner>: a consumer (id, Kong id or username), or tag:<name> for a tag's pool
WHEN: an ISO 8601 date-time with offset, or a date (midnight in BILLING_TIMEZONE)`;

type Config = ReturnType<typeof loadConfig>;

/** A consumer shows the credit it draws on (its own, or its tag's pool); as the API answers it with --json. */
async function showBalance(config: Config, credits: Credits, owner: CreditOwner, json: boolean, extra = {}) {
  const view = owner.consumerId !== undefined ? await credits.consumerView(owner.consumerId) : undefined;
  const b = view ? view.balance : await credits.balance(owner);
  if (json) {
    const answer = view
      ? presentConsumerCredit(view, config.billing.currency)
      : presentBalance(b, config.billing.currency);
    console.log(JSON.stringify({ ...extra, ...answer }, null, 2));
    return;
  }
  const from = view?.pool !== undefined ? ` (the pool of tag ${view.pool})` : "";
  console.log(`balance ${b.balance.toFixed()} ${config.billing.currency}${from}, scheduled ${b.scheduled.toFixed()}`);
  if (b.nextExpiry) console.log(`next expiry ${b.nextExpiry.at.toISOString()}: ${b.nextExpiry.amount.toFixed()}`);
  for (const g of b.grants) {
    console.log(
      `  ${g.id}  ${g.status.padEnd(9)} ${g.kind.padEnd(10)} p${g.priority}  ${g.remaining.toFixed()} of ${g.amount.toFixed()}  expires ${g.expiresAt?.toISOString() ?? "never"}${g.note ? `  ${g.note}` : ""}`,
    );
  }
}

const OPTIONS = {
  kind: { type: "string", default: "purchase" },
  priority: { type: "string" },
  "effective-at": { type: "string" },
  "expires-at": { type: "string" },
  note: { type: "string" },
  reason: { type: "string" },
  limit: { type: "string", default: "100" },
  json: { type: "boolean", default: false },
} as const;

function args() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (err) {
    // an unknown option, or a negative amount read as one
    console.error(`${(err as Error).message}\n${USAGE}`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const parsed = args();
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [command, ref, arg] = positionals;
  const arity: Record<string, number> = { balance: 2, ledger: 2, grant: 3, void: 3 };
  if (!command || !ref || arity[command] !== positionals.length) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  return withDatabase(config, async ({ db, holds, changes }) => {
    const credits = new Credits(db, holds, config, changes, warnings);
    const owner = await credits.ownerOf(ref.startsWith("tag:") ? { tag: ref.slice("tag:".length) } : { consumer: ref });
    if (owner.tag === "") {
      console.error("tag: needs a name, e.g. tag:team-a");
      return 2;
    }
    const json = values.json;
    if (command === "balance") await showBalance(config, credits, owner, json);
    if (command === "ledger") {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        console.error("--limit must be a whole number from 1 to 10000");
        return 2;
      }
      const page = await credits.ledger(owner, { limit, after: undefined });
      if (json) console.log(JSON.stringify(page.entries.map(presentEntry), null, 2));
      else
        for (const e of page.entries)
          console.log(
            `${e.at.toISOString()}  ${e.kind.padEnd(10)} ${e.amount.toFixed().padStart(16)}  grant ${e.grantId}${e.eventId ? `  call ${e.eventId}` : ""}`,
          );
    }
    if (command === "grant") {
      const parsed = GrantSchema.safeParse({
        amount: arg,
        kind: values.kind,
        ...(values.priority !== undefined ? { priority: Number(values.priority) } : {}),
        effective_at: values["effective-at"],
        expires_at: values["expires-at"],
        note: values.note,
      });
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        console.error(`${i.path.join(".")}: ${i.message}`);
        return 2;
      }
      const g = parsed.data;
      const request = { amount: g.amount, kind: g.kind, priority: g.priority, note: g.note };
      const dates = { effectiveAt: g.effective_at, expiresAt: g.expires_at };
      const { grant } = await credits.grant(owner, { ...request, ...dates }, "cli");
      if (!json) console.log(`granted ${g.amount.toFixed()} ${config.billing.currency} as ${grant.id}`);
      await showBalance(config, credits, owner, json, { granted: { id: grant.id, amount: g.amount.toFixed() } });
    }
    if (command === "void") {
      if (!values.reason) {
        console.error("--reason is required");
        return 2;
      }
      const { voided } = await credits.void(owner, arg!, values.reason, "cli");
      if (!json) console.log(`voided ${voided.toFixed()} ${config.billing.currency} of ${arg}`);
      await showBalance(config, credits, owner, json, { voided: { id: arg, amount: voided.toFixed() } });
    }
    return 0;
  });
}

process.exitCode = await main();
