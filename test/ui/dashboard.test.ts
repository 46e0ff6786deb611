/// <reference lib="dom" />
// The dashboard in a real browser (Debian's chromium), over a known day of usage put through the
// real pipeline (ingest -> Kafka -> meter -> PostgreSQL): the heat maps, totals and an invoice on
// the page equal the API's figures; a consumer key cannot reach another consumer's page; axe
// finds no serious accessibility violation. Screenshots land in dist/screenshots for people.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { formatExactMoney, formatMoney } from "../../src/domain/money-format.ts";
import { addDays, periodOfKey } from "../../src/domain/billing-period.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { axeViolations, launchChromium } from "../helpers/browser.ts";
import { ADMIN_KEY, admin, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const SHOTS = new URL("../../dist/screenshots/", import.meta.url).pathname;
const DAY = addDays(new Date().toISOString().slice(0, 10), -1); // yesterday (UTC): wholly in the past
const at = (hhmm: string) => Date.parse(`${DAY}T${hhmm}:00Z`);
// slot T5 (08:00-10:00) allows 2 calls at level 0: the third is over the limit
const LIMITS = { T5: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0], T7: [5, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
const CALLS = ["00:30", "08:05", "08:40", "09:55", "12:10", "13:20"];

let stack: Stack;
let browser: Browser;
let base: string;
const alice = { kongId: randomUUID(), id: "", key: "" };
const bob = { kongId: randomUUID(), id: "" };
const carol = { kongId: randomUUID(), id: "" }; // no prices: her calls are unpriced

async function create(username: string, kongId: string, metadata: object) {
  const res = await admin(stack, "POST", "/v1/consumers", { username, kong_id: kongId, metadata });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

async function open(key: string, hash = "#/"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (err) => assert.fail(`the page threw: ${err.message}`));
  await page.goto(`${base}/ui/${hash}`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Open the dashboard" }).click();
  return page;
}

async function showDay(page: Page) {
  await page.getByLabel("Day", { exact: true }).fill(DAY);
  await page.getByLabel("Month", { exact: true }).fill(DAY.slice(0, 7));
  await page.locator(`[data-testid=month-heat-map] td[data-date="${DAY}"][data-slot="T5"]`).waitFor();
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ BILLING_TIMEZONE: "UTC" });
  base = (await stack.app.listen({ host: "127.0.0.1", port: 0 })).replace(/\/$/, "");
  browser = await launchChromium();
  alice.id = await create("alice", alice.kongId, {
    tdl_matrix: LIMITS,
    input_cost_per_token: "0.0000025",
    output_cost_per_token: "0.00001",
  });
  bob.id = await create("bob-secret-project", bob.kongId, {
    input_cost_per_token: "0.000001",
    output_cost_per_token: "0.000002",
  });
  carol.id = await create("carol", carol.kongId, {});
  alice.key = (await admin(stack, "POST", `/v1/consumers/${alice.id}/api-keys`, {})).json().key;
  assert.equal(
    (
      await admin(stack, "POST", `/v1/consumers/${alice.id}/credits/grants`, {
        amount: "1250.5",
        kind: "purchase",
        note: "order 77",
      })
    ).statusCode,
    201,
  );
  // the known day, through Kafka and the meter
  const logs = [
    ...CALLS.map((t) => kongLog({ consumer: { id: alice.kongId, username: "alice" }, startedAt: at(t) })),
    kongLog({ consumer: { id: bob.kongId, username: "bob-secret-project" }, startedAt: at("10:00") }),
  ];
  assert.equal((await ingest(stack, logs)).statusCode, 202);
  await waitFor(async () => (await stack.db.usageEvent.count()) === logs.length, 30_000, "the day metered");
  // and an invoice of an earlier month
  await meterLogs(stack, [kongLog({ consumer: { id: alice.kongId }, startedAt: Date.parse("2026-08-14T10:00:00Z") })]);
  const period = await recordPeriod(stack.db, periodOfKey("2026-08-01", "monthly", "UTC"));
  await draftInvoice(stack.db, {
    consumerId: alice.id,
    periodId: period.id,
    settings: stack.config.billing,
    now: new Date(),
    finalize: true,
  });
  // a call no price covers, for the health page
  await meterLogs(stack, [
    kongLog({ consumer: { id: carol.kongId, username: "carol" }, startedAt: Date.now() - 60_000 }),
  ]);
});
after(async () => {
  await browser?.close();
  await stack.close();
});

describe("dashboard", () => {
  it("operator: consumers with their state and spend, as the API has them", async () => {
    const page = await open(ADMIN_KEY);
    const row = page.locator(`[data-consumer="${alice.id}"]`);
    await row.waitFor();
    const spend = (await admin(stack, "GET", "/v1/spend"))
      .json()
      .consumers.find((s: { consumer_id: string }) => s.consumer_id === alice.id);
    // yesterday's usage is in this period except on the period's first day
    assert.equal(await row.getByTestId("spend").textContent(), formatMoney(spend?.cost ?? "0", "USD"));
    assert.match((await row.textContent())!, /configured/);
    await page.screenshot({ path: `${SHOTS}operator-consumers.png`, fullPage: true });
    await page.close();
  });

  it("operator: a consumer's heat maps, totals and invoice equal the API's figures", async () => {
    const page = await open(ADMIN_KEY, `#/consumers/${alice.id}`);
    await page.getByRole("heading", { name: "Consumer alice" }).waitFor();
    await showDay(page);
    const matrix = (await admin(stack, "GET", `/v1/consumers/${alice.id}/tdl-matrix?date=${DAY}`)).json()
      .tdl_matrix as Record<string, number[]>;
    for (const [slot, levels] of Object.entries(matrix)) {
      for (const [level, calls] of levels.entries()) {
        const cell = page.locator(`[data-testid=day-heat-map] td[data-slot="${slot}"][data-level="${level}"]`);
        assert.equal(await cell.getAttribute("data-calls"), String(calls), `${slot} level ${level}`);
      }
    }
    assert.equal(matrix.T5![0], 3);
    const t5 = page.locator('[data-testid=day-heat-map] td[data-slot="T5"][data-level="0"]');
    assert.equal(
      await t5.getAttribute("data-over"),
      "true",
      "three calls against a limit of two is shown over the limit",
    );
    assert.match((await t5.getAttribute("aria-label"))!, /over the limit/);
    assert.equal(
      await page.locator('[data-testid=day-heat-map] td[data-slot="T7"][data-level="0"]').getAttribute("data-over"),
      "false",
    );

    const calendar = (await admin(stack, "GET", `/v1/consumers/${alice.id}/tdl-calendar?month=${DAY.slice(0, 7)}`))
      .json()
      .days.find((d: { date: string }) => d.date === DAY);
    for (const [i, calls] of calendar.calls.entries()) {
      const cell = page.locator(`[data-testid=month-heat-map] td[data-date="${DAY}"][data-slot="T${i + 1}"]`);
      assert.equal(await cell.getAttribute("data-calls"), String(calls));
      assert.equal(await cell.getAttribute("data-over"), String(calendar.over_limit[i]));
    }

    const usage = (
      await admin(
        stack,
        "GET",
        `/v1/consumers/${alice.id}/usage?group_by=day&from=${new Date(Date.now() - 30 * 86_400_000).toISOString()}`,
      )
    ).json();
    assert.equal(await page.getByTestId("usage-cost").textContent(), formatMoney(usage.totals.cost, "USD"));
    for (const t of ["input", "output"]) {
      const row = page.locator(`tr[data-token-type="${t}"]`);
      assert.ok((await row.textContent())!.includes(formatMoney(usage.totals.by_token_type[t].cost, "USD")), t);
    }

    const invoice = (await admin(stack, "GET", `/v1/consumers/${alice.id}/invoices`)).json().invoices[0];
    await page.locator(`tr[data-invoice="${invoice.id}"]`).getByRole("button", { name: "Open" }).click();
    assert.equal(await page.getByTestId("invoice-total").textContent(), formatMoney(invoice.total, "USD"));
    assert.equal(await page.getByTestId("invoice-subtotal").textContent(), formatExactMoney(invoice.subtotal, "USD"));
    assert.deepEqual(
      await page.getByTestId("line-amount").allTextContents(),
      invoice.lines.map((l: { amount: string }) => formatMoney(l.amount, "USD")),
    );
    // a line's calls: each one's share of the line, which add up to the line exactly
    await page.getByRole("button", { name: "Calls" }).first().click();
    const lineEvents = (await admin(stack, "GET", `/v1/invoices/${invoice.id}/lines/1/events`)).json();
    await page.getByTestId("line-events").waitFor();
    assert.deepEqual(
      await page.getByTestId("event-share").allTextContents(),
      lineEvents.events.map((e: { amount: string }) => formatExactMoney(e.amount, "USD")),
    );
    await page.screenshot({ path: `${SHOTS}operator-consumer.png`, fullPage: true });
    await page
      .getByRole("heading", { name: "TDL matrix" })
      .evaluate((h) => window.scrollTo(0, (h as HTMLElement).offsetTop - 12));
    await page.screenshot({ path: `${SHOTS}dashboard.png` });
    await page.close();
  });

  it("consumer: its own page with the same figures, a CSV download, and nothing of another consumer", async () => {
    const page = await open(alice.key);
    await page
      .getByRole("heading", { name: "Your usage" })
      .waitFor({ timeout: 5000 })
      .catch(async (e) => assert.fail(`${e.message}: ${await page.locator("body").textContent()}`));
    await showDay(page);
    assert.equal(
      await page.locator('[data-testid=day-heat-map] td[data-slot="T5"][data-level="0"]').getAttribute("data-calls"),
      "3",
    );
    assert.equal(
      await page.getByRole("link", { name: "Consumers" }).count(),
      0,
      "no operator pages in the consumer's menu",
    );
    assert.equal(
      await page.getByTestId("credit-balance").textContent(),
      "$1,250.50",
      "its prepaid balance, as the API has it",
    );
    assert.equal(await page.locator("table[aria-label='Credit grants'] tbody tr").count(), 1);
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download CSV" }).first().click();
    const csv = await (await download).path();
    assert.ok(csv, "a CSV was downloaded");
    await page.screenshot({ path: `${SHOTS}consumer-own.png`, fullPage: true });

    await page.goto(`${base}/ui/#/consumers/${bob.id}`);
    await page.getByRole("alert").first().waitFor();
    const text = (await page.locator("main").textContent())!;
    assert.match(text, /No consumer here for this key/);
    assert.ok(!text.includes("bob-secret-project"), "another consumer's name never appears");
    assert.equal(await page.locator("[data-testid=day-heat-map]").count(), 0, "nor its heat map");
    await page.goto(`${base}/ui/#/health`);
    assert.equal(
      await page.getByRole("heading", { name: "Pipeline health" }).count(),
      0,
      "operator pages are not there for a consumer key",
    );
    await page.close();
  });

  it("health: readiness and the meter as /readyz has them", async () => {
    const page = await open(ADMIN_KEY, "#/health");
    await page.getByTestId("readiness").waitFor();
    const ready = (await stack.app.inject({ method: "GET", url: "/readyz" })).json();
    assert.equal(await page.getByTestId("readiness").textContent(), `Status: ${ready.status}`);
    const unpriced = page.locator(`[data-testid=unpriced] tr[data-consumer="${carol.id}"]`);
    await unpriced.waitFor();
    assert.deepEqual(
      (await unpriced.locator("td").allTextContents()).slice(0, 2),
      ["gpt-4o-2024-08-06", "1"],
      "carol's one call, by the model the provider reported",
    );
    await page.screenshot({ path: `${SHOTS}operator-health.png`, fullPage: true });
    // priced from here: the call is repriced and leaves the list
    await unpriced.getByLabel("Input per token", { exact: true }).fill("0.000003");
    await unpriced.getByLabel("Output per token", { exact: true }).fill("0.000012");
    await unpriced.getByRole("button", { name: "Price its calls" }).click();
    await unpriced.waitFor({ state: "detached" });
    const [event] = await stack.db.usageEvent.findMany({ where: { consumerId: carol.id } });
    assert.ok(event && !event.anomalies.includes("unpriced") && event.cost.gt(0), "carol's call now has a price");
    await page.close();
  });

  it("a wrong key is refused on the sign-in page; keyboard alone reaches every control; axe finds nothing serious", async () => {
    const wrong = await open("tmk_not-a-key");
    await wrong.getByRole("alert").waitFor();
    assert.match((await wrong.getByRole("alert").textContent())!, /not accepted/);
    await wrong.close();

    for (const [key, hash] of [
      [ADMIN_KEY, "#/"],
      [ADMIN_KEY, `#/consumers/${alice.id}`],
      [ADMIN_KEY, "#/health"],
      [alice.key, "#/"],
    ] as const) {
      const page = await open(key, hash);
      await page.locator("main h1").waitFor();
      if (hash.startsWith("#/consumers") || key === alice.key) await showDay(page);
      const serious = (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(serious, [], `${hash}: ${JSON.stringify(serious, null, 1)}`);
      await page.close();
    }

    const page = await open(ADMIN_KEY);
    await page.locator(`[data-consumer="${alice.id}"]`).waitFor();
    const reached: string[] = [];
    const focused = () =>
      page.evaluate(
        () =>
          (document.activeElement as HTMLElement | null)?.textContent?.trim() || document.activeElement?.tagName || "",
      );
    while (reached.length < 20 && reached.at(-1) !== "alice") {
      await page.keyboard.press("Tab");
      reached.push(await focused());
    }
    for (const name of ["Skip to content", "Consumers", "Health", "Sign out", "alice"])
      assert.ok(
        reached.some((r) => r.includes(name)),
        `Tab reaches ${name}: ${reached.join(" | ")}`,
      );
    await page.keyboard.press("Enter"); // on the consumer's link: its page opens
    await page.getByRole("heading", { name: "Consumer alice" }).waitFor({ timeout: 5000 });
    await page.close();
  });
});
