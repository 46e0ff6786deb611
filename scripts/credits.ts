// The credit command: a consumer's balance and grants, its ledger, a grant (purchase, top-up,
// promotion, adjustment) or a void, checked as the API checks them. After a change, authorize's
// hold ledger is refolded so the new balance holds calls at once. Exit codes: 0 done, 2 nothing
// done (usage, a bad value, an unknown consumer or grant).
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { budgetPeriodAt, creditAllowance } from "../src/budgets/budget.ts";
import { HoldLedger } from "../src/budgets/hold-ledger.ts";
import { foldLedger } from "../src/budgets/ledger-fold.ts";
import { loadConfig } from "../src/config.ts";
import { resolveConsumer } from "../src/consumers/consumer.service.ts";
import { creditBalance, creditLedger, grantCredit, voidGrant } from "../src/credits/credit.service.ts";
import { localMidnight } from "../src/domain/billing-period.ts";
import { GrantSchema } from "../src/http/routes/credits.routes.ts";
import { consumersWithTag } from "../src/budgets/budget.repository.ts";
import { walletOf, type CreditOwner } from "../src/credits/credit-store.ts";
import { prismaSql } from "../src/db/sql.ts";
import { notifyApiProcesses } from "./notify-api.ts";
import { withDatabase, type Db } from "./with-database.ts";

const USAGE = `usage: npm run credits -- balance <owner>
       npm run credits -- ledger <owner> [--limit N]
       npm run credits -- grant <owner> <amount> [--kind purchase|promotion|adjustment] [--priority N] [--effective-at WHEN] [--expires-at WHEN] [--note TEXT]
       npm run credits -- void <owner> <grant-id> --reason TEXT
<owner>: a consumer (id, Kong id or username), or tag:<name> for a tag's pool
WHEN: an ISO 8601 date-time with offset, or a date (midnight in BILLING_TIMEZONE)`;

type Config = ReturnType<typeof loadConfig>;

async function refold(config: Config, db: Db, owner: CreditOwner): Promise<void> {
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const credit = creditAllowance(owner);
    await foldLedger(
      { db, config, ledger: new HoldLedger(redis, config.redis.prefix) },
      credit,
      budgetPeriodAt(credit, new Date(), config.billing.timeZone),
    );
  } catch (err) {
    console.error(
      `warning: authorize's hold ledger was not refolded (${(err as Error).message}); it picks up the new balance within 30 s`,
    );
  } finally {
    redis.disconnect();
  }
}

/** A consumer shows the credit it draws on (its own, or its tag's pool). */
async function showBalance(config: Config, db: Db, owner: CreditOwner) {
  const wallet = owner.consumerId !== undefined ? await walletOf(prismaSql(db), owner.consumerId) : owner;
  const b = await creditBalance(db, wallet);
  const from = wallet.tag !== undefined ? ` (the pool of tag ${wallet.tag})` : "";
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
  const at = (s: string) => (s.length === 10 ? localMidnight(s, config.billing.timeZone) : new Date(s));
  return withDatabase(config, async (db) => {
    const owner: CreditOwner = ref.startsWith("tag:")
      ? { tag: ref.slice("tag:".length) }
      : { consumerId: (await resolveConsumer(db, ref)).id };
    if (owner.tag === "") {
      console.error("tag: needs a name, e.g. tag:team-a");
      return 2;
    }
    if (command === "balance") await showBalance(config, db, owner);
    if (command === "ledger") {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        console.error("--limit must be a whole number from 1 to 10000");
        return 2;
      }
      const page = await creditLedger(db, owner, { limit, after: undefined });
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
      const effectiveAt = g.effective_at ? at(g.effective_at) : new Date();
      const expiresAt = g.expires_at ? at(g.expires_at) : null;
      if (expiresAt && expiresAt <= effectiveAt) {
        console.error(`expires_at: must be after effective_at (${effectiveAt.toISOString()})`);
        return 2;
      }
      const id = await grantCredit(
        db,
        owner,
        { amount: g.amount, kind: g.kind, priority: g.priority, effectiveAt, expiresAt, note: g.note },
        "cli",
      );
      console.log(`granted ${g.amount.toFixed()} ${config.billing.currency} as ${id}`);
    }
    if (command === "void") {
      if (!values.reason) {
        console.error("--reason is required");
        return 2;
      }
      const voided = await voidGrant(db, owner, arg!, values.reason, "cli");
      console.log(`voided ${voided.toFixed()} ${config.billing.currency} of ${arg}`);
    }
    if (command === "grant" || command === "void") {
      await refold(config, db, owner);
      await notifyApiProcesses(
        config,
        owner.consumerId !== undefined ? [owner.consumerId] : await consumersWithTag(db, owner.tag),
      );
      await showBalance(config, db, owner);
    }
    return 0;
  });
}

process.exitCode = await main();
