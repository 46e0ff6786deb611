/// <reference lib="dom" />
// The operator's other actions in the browser, each checked against the API afterwards: a plan and
// limits changed (a refused value shown beside its field, nothing saved), a budget removed, a
// grant voided, a key revoked, a draft re-drafted and voided with a reason, an endpoint disabled,
// the shipped prices imported. Every destructive action asks first, and Cancel changes nothing.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { axeViolations, launchChromium } from "../helpers/browser.ts";
import { ADMIN_KEY, admin, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
let base: string;
const BOOK = `book-${randomUUID().slice(0, 6)}`;
const c = { id: "", kongId: randomUUID(), key: "", keyId: "", grant: "", invoice: "", endpoint: "" };

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (err) => assert.fail(`the page threw: ${err.message}`));
  await page.goto(`${base}/ui/${hash}`);
  await page.getByLabel("API key").fill(ADMIN_KEY);
  await page.getByRole("button", { name: "Open the dashboard" }).click();
  await page.locator("main h1").waitFor();
  return page;
}

const consumer = async () => (await admin(stack, "GET", `/v1/consumers/${c.id}`)).json();

before(async () => {
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
    { meter: false },
  );
  base = (await stack.app.listen({ host: "127.0.0.1", port: 0 })).replace(/\/$/, "");
  browser = await launchChromium();
  assert.equal((await admin(stack, "POST", "/v1/price-books", { name: BOOK })).statusCode, 201);
  const created = await admin(stack, "POST", "/v1/consumers", {
    username: `actions-${c.kongId.slice(0, 6)}`,
    kong_id: c.kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
  });
  c.id = created.json().id;
  const key = (await admin(stack, "POST", `/v1/consumers/${c.id}/api-keys`, {})).json();
  [c.key, c.keyId] = [key.key, key.id];
  c.grant = (
    await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants`, { amount: "40", kind: "promotion" })
  ).json().grant.id;
  await admin(stack, "PUT", `/v1/consumers/${c.id}/budget`, { period: "monthly", amount: "10" });
  await meterLogs(stack, [kongLog({ consumer: { id: c.kongId }, startedAt: Date.parse("2026-10-10T10:00:00Z") })]);
  const period = await recordPeriod(stack.db, periodOfKey("2026-10-01", "monthly", "UTC"));
  c.invoice = (
    await draftInvoice(stack.db, {
      consumerId: c.id,
      periodId: period.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: false,
    })
  ).invoiceId!;
  c.endpoint = (await admin(stack, "POST", "/v1/webhook-endpoints", { url: "http://127.0.0.1:9/hook" })).json().id;
});
after(async () => {
  await browser?.close();
  await stack?.close();
});

describe("the operator's other actions", () => {
  it("plan and limits: a refused value is shown beside its field and nothing is saved; a good one is", async () => {
    const page = await open(`#/consumers/${c.id}`);
    const plan = page.getByRole("form", { name: "Change the plan" });
    await plan.getByLabel("Price book", { exact: true }).selectOption(BOOK);
    await plan.getByLabel("Markup %", { exact: true }).fill("-150");
    await plan.getByRole("button", { name: "Save plan" }).click();
    await plan.locator(".field.invalid .field-error").waitFor();
    assert.match((await plan.locator(".field.invalid").textContent())!, /Markup %.*above -100/);
    assert.equal((await consumer()).plan, null, "nothing saved");
    await plan.getByLabel("Markup %", { exact: true }).fill("-10");
    await plan.getByRole("button", { name: "Save plan" }).click();
    await page.getByText("Plan saved").waitFor();
    assert.deepEqual((await consumer()).plan, {
      price_book: (await consumer()).plan.price_book,
      markup_percent: "-10",
    });
    assert.equal((await consumer()).plan.price_book.name, BOOK);

    const limits = page.getByRole("form", { name: "Limits and capabilities" });
    await limits.getByLabel("Max input tokens", { exact: true }).fill("0");
    await limits.getByRole("button", { name: "Save limits and capabilities" }).click();
    await limits.locator(".field.invalid .field-error").waitFor();
    assert.match((await limits.locator(".field.invalid").textContent())!, /Max input tokens/);
    assert.equal((await consumer()).metadata.max_input_tokens, null, "nothing saved");
    await limits.getByLabel("Max input tokens", { exact: true }).fill("24000");
    await limits.getByLabel("Tags", { exact: true }).fill("team-a, premium");
    await limits.getByLabel("capability 2", { exact: true }).uncheck();
    await limits.getByRole("button", { name: "Save limits and capabilities" }).click();
    await page.getByText("Saved; the gateway applies them").waitFor();
    const m = (await consumer()).metadata;
    assert.deepEqual([m.max_input_tokens, m.tags, m.capabilities], [24000, ["team-a", "premium"], [1, 1, 0, 1, 1]]);
    await page.close();
  });

  it("a budget removed, a grant voided and a key revoked, each after a confirmation that Cancel undoes", async () => {
    const page = await open(`#/consumers/${c.id}`);
    await page.getByRole("button", { name: "Remove budget" }).click();
    const ask = page.getByRole("dialog", { name: "Remove the budget?" });
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "hidden" });
    assert.equal((await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).statusCode, 200, "Cancel removed nothing");
    await page.getByRole("button", { name: "Remove budget" }).click();
    await ask.getByRole("button", { name: "Remove" }).click();
    await ask.waitFor({ state: "hidden" });
    assert.equal((await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).statusCode, 404);

    await page.locator(`tr[data-grant="${c.grant}"]`).getByRole("button", { name: "Void" }).click();
    const voidGrant = page.getByRole("dialog", { name: "Void what is left of this grant?" });
    await voidGrant.getByLabel("Reason", { exact: true }).fill("campaign ended");
    await voidGrant.getByRole("button", { name: "Void grant" }).click();
    await voidGrant.waitFor({ state: "hidden" });
    const credit = (await admin(stack, "GET", `/v1/consumers/${c.id}/credits`)).json();
    assert.deepEqual([credit.balance, credit.grants[0].status], ["0", "voided"]);

    assert.equal(
      (await stack.app.inject({ url: "/v1/me", headers: { authorization: `Bearer ${c.key}` } })).statusCode,
      200,
    );
    await page.locator(`tr[data-key="${c.keyId}"]`).getByRole("button", { name: "Revoke" }).click();
    await page
      .getByRole("dialog", { name: /^Revoke the key/ })
      .getByRole("button", { name: "Revoke key" })
      .click();
    await page
      .locator(`tr[data-key="${c.keyId}"]`)
      .getByText(/^revoked/)
      .waitFor();
    assert.equal(
      (await stack.app.inject({ url: "/v1/me", headers: { authorization: `Bearer ${c.key}` } })).statusCode,
      401,
      "the revoked key opens nothing",
    );
    const serious = (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(serious, []);
    await page.close();
  });

  it("a draft re-drafted, then voided with a reason and its usage billed again", async () => {
    const page = await open("#/review");
    await page.locator(`tr[data-invoice="${c.invoice}"]`).getByRole("button", { name: "Review" }).click();
    await page.getByRole("button", { name: "Re-draft from usage" }).click();
    await page.getByText("Re-drafted.").waitFor();
    await page.getByRole("button", { name: "Void", exact: true }).click();
    const ask = page.getByRole("dialog", { name: "Void this invoice?" });
    await ask.getByLabel("Reason", { exact: true }).fill("billed to the wrong account");
    await ask.getByLabel("Bill its usage again on the next invoice", { exact: true }).check();
    await ask.getByRole("button", { name: "Void invoice" }).click();
    await page.getByTestId("invoice-status").filter({ hasText: "void" }).waitFor();
    const inv = (await admin(stack, "GET", `/v1/invoices/${c.invoice}`)).json();
    assert.deepEqual([inv.status, inv.history.at(-1).reason], ["void", "billed to the wrong account"]);
    assert.equal(
      await stack.db.usageEvent.count({ where: { invoiceId: c.invoice } }),
      0,
      "its usage is free to bill again",
    );
    await page.close();
  });

  it("an endpoint disabled; the shipped list prices imported into a book", async () => {
    const page = await open("#/webhooks");
    const row = page.locator(`li[data-endpoint="${c.endpoint}"]`);
    await row.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("dialog", { name: "Disable this endpoint?" }).getByRole("button", { name: "Disable" }).click();
    await row.getByText("disabled", { exact: true }).waitFor();
    const endpoints = (await admin(stack, "GET", "/v1/webhook-endpoints")).json().endpoints;
    assert.equal(endpoints.find((e: { id: string }) => e.id === c.endpoint).enabled, false);
    await page.close();

    const books = await open(`#/price-books/${BOOK}`);
    await books.getByRole("button", { name: "Import the list prices shipped with tokenmeter" }).click();
    await books.getByText(/^Imported: \d+ new prices/).waitFor();
    const prices = (await admin(stack, "GET", `/v1/price-books/${BOOK}`)).json().prices;
    assert.ok(prices.length > 10, "the shipped list is in the book");
    assert.equal(await books.locator("[data-testid=prices] tbody tr").count(), prices.length);
    await books.close();
  });
});
