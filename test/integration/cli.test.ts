// The commands run against what `npm run setup` prepared and never set anything up themselves: on
// a database without the migrations, or one that does not exist, or a server that does not
// answer, each says what to run and exits 2, leaving the database as it was, with no stack trace
// and no password. With --json each prints what the API would answer.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { withMaintenanceClient, quoteIdent } from "../../src/db/admin.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const WRAPPERS: Array<[string, string[]]> = [
  ["import-kong.sh", ["test/fixtures/seed-kong.yaml", "--dry-run"]],
  ["prices.sh", ["export", "any"]],
  ["credits.sh", ["balance", "any"]],
  ["dead-letters.sh", ["list"]],
  ["events.sh", ["months"]],
  ["webhook-secrets.sh", ["reencrypt"]],
];

let stack: Stack;
const EMPTY = `tokenmeter_cli_${randomBytes(4).toString("hex")}`;
const base = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test");
const urlOf = (name: string) => Object.assign(new URL(base.href), { pathname: `/${name}` }).href;

function run(script: string, args: string[], env: Record<string, string>) {
  return promisify(execFile)("bash", [`scripts/${script}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "silent", WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"), ...env },
  }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}

before(async () => {
  stack = await startStack({}, { meter: false });
  await withMaintenanceClient(base.href, (c) => c.query(`CREATE DATABASE ${quoteIdent(EMPTY)}`));
});
after(async () => {
  await withMaintenanceClient(base.href, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(EMPTY)}`));
  await stack.close();
});

describe("commands", () => {
  it("on a database that is not set up, say to run npm run setup, exit 2, and migrate nothing", async () => {
    for (const [script, args] of WRAPPERS) {
      const r = await run(script, args, { DATABASE_URL: urlOf(EMPTY) });
      assert.equal(r.code, 2, `${script}: ${r.err}`);
      assert.match(r.err, /is not set up: run `npm run setup`/, script);
      assert.doesNotMatch(r.err, /^\s+at /m, `${script}: no stack trace`);
    }
    const client = new pg.Client({ connectionString: urlOf(EMPTY) });
    await client.connect();
    const { rows } = await client.query("SELECT to_regclass('_prisma_migrations') AS t");
    await client.end();
    assert.equal(rows[0].t, null, "no command migrated the database");
  });

  it("on a database that does not exist, or a server that does not answer, say so without the password", async () => {
    const missing = `tokenmeter_cli_missing_${randomBytes(4).toString("hex")}`;
    for (const [script, args] of WRAPPERS) {
      const gone = await run(script, args, { DATABASE_URL: urlOf(missing) });
      assert.equal(gone.code, 2, script);
      assert.match(gone.err, /does not exist: run `npm run setup`/, script);
      const down = await run(script, args, { DATABASE_URL: "postgresql://ops:hunter2secret@127.0.0.1:9/nowhere" });
      assert.equal(down.code, 2, script);
      assert.match(down.err, /cannot reach PostgreSQL at 127\.0\.0\.1:9\/nowhere/, script);
      assert.ok(!`${down.out}${down.err}`.includes("hunter2secret"), `${script} printed the password`);
    }
    const exists = await withMaintenanceClient(base.href, (c) =>
      c.query("SELECT 1 FROM pg_database WHERE datname = $1", [missing]),
    );
    assert.equal(exists.rowCount, 0, "no command created the database");
  });

  it("with --json, print what the API answers", async () => {
    const env = { DATABASE_URL: stack.config.databaseUrl, REDIS_PREFIX: stack.config.redis.prefix };
    const name = `cli-${randomUUID().slice(0, 8)}`;
    assert.equal((await admin(stack, "POST", "/v1/consumers", { username: name })).statusCode, 201);
    const granted = await run("credits.sh", ["grant", name, "5", "--note", "cli", "--json"], env);
    assert.equal(granted.code, 0, granted.err);
    const afterGrant = JSON.parse(granted.out);
    assert.equal(afterGrant.granted.amount, "5");
    const api = (await admin(stack, "GET", `/v1/consumers/${name}/credits`)).json();
    const balance = JSON.parse((await run("credits.sh", ["balance", name, "--json"], env)).out);
    assert.deepEqual({ ...balance, as_of: null }, { ...api, as_of: null }, "the balance as the API answers it");
    const ledger = JSON.parse((await run("credits.sh", ["ledger", name, "--json"], env)).out);
    assert.deepEqual(ledger, (await admin(stack, "GET", `/v1/consumers/${name}/credits/ledger`)).json().entries);
    assert.equal((await admin(stack, "POST", "/v1/price-books", { name: "cli-book" })).statusCode, 201);
    const imported = await run("prices.sh", ["import", "cli-book", "--shipped", "--json"], env);
    assert.ok([0, 1].includes(imported.code), imported.err);
    const report = JSON.parse(imported.out);
    assert.ok(report.added.length > 0 && Array.isArray(report.rejected), "the import report");
    assert.deepEqual(JSON.parse((await run("dead-letters.sh", ["list", "--json"], env)).out), []);
    const kong = JSON.parse(
      (await run("import-kong.sh", ["test/fixtures/seed-kong.yaml", "--dry-run", "--json"], env)).out,
    );
    assert.equal(kong.dry_run, true);
    const secrets = await run("webhook-secrets.sh", ["reencrypt", "--json"], env);
    assert.deepEqual(JSON.parse(secrets.out), { total: 0, reencrypted: 0, current: 0, unreadable: [] });
  });

  it("events: lists the months, and refuses what it cannot archive with the exit codes the README gives", async () => {
    const env = { DATABASE_URL: stack.config.databaseUrl };
    const months = await run("events.sh", ["months"], env);
    assert.equal(months.code, 0, months.err);
    const now = new Date();
    const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
    assert.match(months.out, new RegExp(`^${current} +\\d+ calls`, "m"), "this month's table is made");
    const ahead = await run("events.sh", ["archive", "--before", "2999-01"], env);
    assert.deepEqual([ahead.code, /only past months/.test(ahead.err)], [2, true], ahead.err);
    const notMonth = await run("events.sh", ["archive", "--before", "2026-13"], env);
    assert.deepEqual([notMonth.code, /--before: expected a month/.test(notMonth.err)], [2, true], notMonth.err);
    const missing = await run("events.sh", ["restore", "/nonexistent/usage_events_2020_01.jsonl.gz"], env);
    assert.deepEqual([missing.code, /not restored/.test(missing.err)], [1, true], missing.err);
  });
});
