/// <reference lib="dom" />
// An operator runs the business from the browser alone: a price book with a price, a consumer on
// that plan with credit, a budget and TDL limits, its calls arriving, its invoice drafted, reviewed,
// finalized and downloaded as a PDF, a dead letter inspected and replayed, a webhook added and sent a
// test event. Every step goes through the dashboard's forms and the public API; refusals show beside
// the field they name; a consumer key sees none of the actions. Screenshots land in dist/screenshots.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { addDays } from "../../src/domain/billing-period.ts";
import { formatMoney } from "../../src/domain/money-format.ts";
import { deadLetter } from "../../src/kafka/dead-letter.ts";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { startTestInvoiceWorker } from "../helpers/billing.ts";
import { axeViolations, launchChromium } from "../helpers/browser.ts";
import { ADMIN_KEY, admin, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

const SHOTS = new URL("../../dist/screenshots/", import.meta.url).pathname;
const YESTERDAY = addDays(new Date().toISOString().slice(0, 10), -1);
const BOOK = `standard-${randomUUID().slice(0, 6)}`;
const NAME = `acme-${randomUUID().slice(0, 6)}`;
const KONG_ID = randomUUID();

let stack: Stack;
let worker: InvoiceWorker;
let browser: Browser;
let base: string;
const receiver = new WebhookReceiver();
let consumerId = "";
let consumerKey = "";

async function open(key: string, hash = "#/"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.on("pageerror", (err) => assert.fail(`the page threw: ${err.message}`));
  await page.goto(`${base}/ui/${hash}`);
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Open the dashboard" }).click();
  await page.locator("main h1").waitFor();
  return page;
}

/** No serious or critical axe violation on the page as it is now, and a screenshot of it. */
async function check(page: Page, shot: string) {
  const serious = (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `${shot}: ${JSON.stringify(serious, null, 1)}`);
  await page.screenshot({ path: `${SHOTS}${shot}.png`, fullPage: true });
}

const form = (page: Page, name: string) => page.getByRole("form", { name });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      BILLING_PERIOD: "daily",
      BILLING_ISSUER_NAME: "Example Gateway GmbH",
      BILLING_ISSUER_ADDRESS: "Hauptstraße 1\\n10115 Berlin",
      WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      WEBHOOK_BACKOFF_MS: "100",
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
    { webhooks: true },
  );
  worker = await startTestInvoiceWorker(stack);
  base = (await stack.app.listen({ host: "127.0.0.1", port: 0 })).replace(/\/$/, "");
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await stack?.close();
  await receiver.stop();
});

describe("the operator's day, in the browser only", () => {
  it("a price book with a price; a refusal shows beside the field it names", async () => {
    const page = await open(ADMIN_KEY, "#/price-books");
    await page.getByText("New price book").click();
    const book = form(page, "New price book");
    await book.getByLabel("Name", { exact: true }).fill("has spaces");
    await book.getByRole("button", { name: "Create price book" }).click();
    const nameError = book.locator(".field.invalid .field-error");
    await nameError.waitFor();
    assert.match((await nameError.textContent())!, /letter or digit/, "the API's refusal, beside Name");
    await book.getByLabel("Name", { exact: true }).fill(BOOK);
    await book.getByLabel("Fee per period", { exact: true }).fill("0.50");
    await book.getByRole("button", { name: "Create price book" }).click();
    await page.getByRole("heading", { name: `Price book ${BOOK}` }).waitFor();

    const price = form(page, "Add a price");
    await price.getByLabel("Model", { exact: true }).fill("*");
    await price.getByLabel("Input per token", { exact: true }).fill("-0.1");
    await price.getByLabel("Output per token", { exact: true }).fill("0.00001");
    await price.getByRole("button", { name: "Add price" }).click();
    const inputError = price.locator(".field.invalid");
    await inputError.waitFor();
    assert.match((await inputError.textContent())!, /Input per token/, "the refused field is the one marked");
    assert.equal((await admin(stack, "GET", `/v1/price-books/${BOOK}`)).json().prices.length, 0, "nothing added");
    await price.getByLabel("Input per token", { exact: true }).fill("0.0000025");
    await price.getByRole("button", { name: "Add price" }).click();
    await page.locator('[data-testid=prices] tr[data-model="*"]').waitFor();
    assert.match(
      (await page.locator('[data-testid=prices] tr[data-model="*"]').textContent())!,
      /\$0\.0000025.*\$0\.00001/,
      "unit prices at full precision",
    );
    await check(page, "flow-price-book");
    await page.close();
  });

  it("a consumer on that plan, with credit, a budget and TDL limits edited on the grid", async () => {
    const page = await open(ADMIN_KEY);
    await page.getByText("New consumer").click();
    const create = form(page, "New consumer");
    await create.getByLabel("Username", { exact: true }).fill(NAME);
    await create.getByLabel("Kong consumer id", { exact: true }).fill(KONG_ID);
    await create.getByLabel("Plan (price book)", { exact: true }).selectOption(BOOK);
    await create.getByRole("button", { name: "Create consumer" }).click();
    await page.getByRole("heading", { name: `Consumer ${NAME}` }).waitFor();
    consumerId = page.url().split("#/consumers/")[1]!;
    assert.match((await page.getByTestId("plan").textContent())!, new RegExp(`price book ${BOOK}`));

    const grant = form(page, "Grant credit");
    await grant.getByLabel("Amount (USD)", { exact: true }).fill("25");
    await grant.getByLabel("Note", { exact: true }).fill("order 4711");
    await grant.getByRole("button", { name: "Grant credit" }).click();
    await page.getByTestId("credit-balance").waitFor();
    assert.equal(await page.getByTestId("credit-balance").textContent(), "$25.00");

    const budget = form(page, "Set the budget");
    await budget.getByLabel("Period", { exact: true }).selectOption("monthly");
    await budget.getByLabel("Amount (USD)", { exact: true }).fill("100");
    await budget.getByRole("button", { name: "Set budget" }).click();
    await page.getByTestId("budget").waitFor();
    const set = (await admin(stack, "GET", `/v1/consumers/${consumerId}/budget`)).json();
    assert.deepEqual([set.period, set.amount], ["monthly", "100"]);

    await page.getByRole("button", { name: "Edit limits" }).click();
    const grid = page.getByTestId("limits-grid");
    await grid.locator('input[data-slot="T5"][data-level="0"]').fill("2000000000"); // past what the API takes
    await page.getByRole("button", { name: "Save TDL limits" }).click();
    const refusal = page.getByRole("form", { name: "Edit the TDL limits" }).getByRole("alert");
    await refusal.waitFor();
    assert.match((await refusal.textContent())!, /at most 1,000,000,000/);
    assert.equal(
      await grid.locator("tr.invalid th").first().textContent(),
      "T5 08:00–10:00",
      "the refused slot is marked",
    );
    assert.equal(
      (await admin(stack, "GET", `/v1/consumers/${consumerId}`)).json().metadata.tdl_matrix.T5[0],
      0,
      "a refused grid changes nothing",
    );
    await grid.locator('input[data-slot="T5"][data-level="0"]').fill("40");
    await page.getByRole("button", { name: "Save TDL limits" }).click();
    await page.locator('[data-testid=day-heat-map] td[data-slot="T5"][data-level="0"] .limit').waitFor();
    assert.equal((await admin(stack, "GET", `/v1/consumers/${consumerId}`)).json().metadata.tdl_matrix.T5[0], 40);

    await page.getByRole("button", { name: "Issue a key" }).click();
    consumerKey = (await page.getByTestId("secret").textContent())!;
    assert.match(consumerKey, /^tmk_/);
    await check(page, "flow-consumer-manage");
    await page.close();
  });

  it("its calls arrive; a billing run drafts its invoice; the operator reviews, finalizes and downloads the PDF", async () => {
    const logs = ["10:00", "10:20", "15:45"].map((t) =>
      kongLog({ consumer: { id: KONG_ID, username: NAME }, startedAt: Date.parse(`${YESTERDAY}T${t}:00Z`) }),
    );
    assert.equal((await ingest(stack, logs)).statusCode, 202); // Kong's part
    const page = await open(ADMIN_KEY, `#/consumers/${consumerId}`);
    await waitFor(
      async () => {
        await page.reload();
        await page
          .getByTestId("usage-totals")
          .waitFor({ timeout: 5000 })
          .catch(() => undefined);
        return /^3 billable calls/.test(
          (await page
            .getByTestId("usage-totals")
            .textContent()
            .catch(() => "")) ?? "",
        );
      },
      30_000,
      "the calls on the consumer's page",
    );
    await page.close();

    const review = await open(ADMIN_KEY, "#/review");
    await review.getByText("Close a period now").click();
    await review
      .getByRole("form", { name: "Close a period now" })
      .getByLabel("Period", { exact: true })
      .fill(YESTERDAY);
    await review.getByRole("button", { name: "Draft its invoices" }).click();
    await review
      .getByTestId("run-state")
      .filter({ hasText: "completed, 1 of 1 consumers drafted" })
      .waitFor({ timeout: 20_000 });
    const row = review.locator("[data-testid=review-queue] tr", { hasText: NAME });
    await row.waitFor();
    const draft = (await admin(stack, "GET", `/v1/consumers/${consumerId}/invoices`)).json().invoices[0];
    assert.equal(draft.status, "draft");
    assert.ok(draft.finalizes_at, "a draft of a closed period says when it finalizes");
    await row.getByRole("button", { name: "Review" }).click();
    await review.getByTestId("invoice-detail").waitFor();
    assert.equal(await review.getByTestId("invoice-total").textContent(), formatMoney(draft.total, "USD"));
    await check(review, "flow-review");

    await review.getByRole("button", { name: "Finalize", exact: true }).click();
    const dialog = review.getByRole("dialog", { name: "Finalize this invoice?" });
    await dialog.getByLabel("Note for its history", { exact: true }).fill("checked against the order");
    await dialog.getByRole("button", { name: "Finalize" }).click();
    await review
      .getByTestId("invoice-status")
      .filter({ hasText: "finalized" })
      .waitFor({ timeout: 10_000 })
      .catch(async (e) => assert.fail(`${e.message}: ${await review.locator("main").textContent()}`));
    const final = (await admin(stack, "GET", `/v1/invoices/${draft.id}`)).json();
    assert.equal(final.status, "finalized");
    assert.match(final.number, /^INV-\d{6}$/);
    assert.equal(final.history.at(-1).reason, "checked against the order");

    await review.getByRole("button", { name: "View the document" }).click();
    const doc = review.frameLocator("iframe[title^='Invoice document']");
    await doc.getByRole("heading", { name: `Invoice ${final.number}` }).waitFor();
    assert.match((await doc.locator("body").textContent())!, /Example Gateway GmbH/);
    await review.screenshot({ path: `${SHOTS}flow-invoice-document.png`, fullPage: true });

    const download = review.waitForEvent("download");
    await review.getByRole("button", { name: "Download PDF" }).click();
    const file = await (await download).path();
    const pdf = readFileSync(file!);
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    assert.equal((await download).suggestedFilename(), `invoice-${final.number}.pdf`);
    await review.close();
  });

  it("a dead letter is inspected and replayed, and its call is metered", async () => {
    const entry = kongLog({ consumer: { id: KONG_ID, username: NAME }, startedAt: Date.now() - 60_000 });
    const eventId = (entry.request as { id: string }).id;
    // as a check of an earlier release that refused this entry left it on the dead-letter topic
    await stack.producer.send([
      {
        topic: stack.config.kafka.deadLetterTopic,
        messages: [
          deadLetter(JSON.stringify(entry), null, {
            stage: "ingest",
            kind: "legacy",
            reason: "refused by an older check",
            index: 0,
          }),
        ],
      },
    ]);
    const page = await open(ADMIN_KEY, "#/dead-letters");
    const row = page.locator("[data-testid=dead-letter-list] tr", { hasText: "legacy" });
    await waitFor(
      async () => {
        if (await row.count()) return true;
        await page.reload();
        await page.locator("main h1").waitFor();
        return false;
      },
      30_000,
      "the dead letter on the page",
    );
    await row.getByRole("button", { name: "Inspect" }).click();
    await page.getByTestId("dead-letter-detail").waitFor();
    assert.ok((await page.getByTestId("dead-letter-detail").textContent())!.includes(eventId), "its payload");
    await check(page, "flow-dead-letters");
    await row.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Replay selected (1)" }).click();
    await page.getByRole("dialog", { name: "Replay 1 dead letters?" }).getByRole("button", { name: "Replay" }).click();
    await page.getByTestId("replay-report").waitFor();
    assert.match((await page.getByTestId("replay-report").textContent())!, /1 resubmitted, 0 still refused/);
    await waitFor(async () => (await stack.db.usageEvent.count({ where: { id: eventId } })) === 1, 30_000, "metered");
    await page.close();
  });

  it("a webhook endpoint is added (its secret shown once) and sent a test event, signed, in its delivery log", async () => {
    const url = await receiver.start();
    const page = await open(ADMIN_KEY, "#/webhooks");
    const add = form(page, "Add an endpoint");
    await add.getByLabel("URL", { exact: true }).fill(url);
    await add.getByLabel("Description", { exact: true }).fill("billing system");
    await add.getByRole("button", { name: "Add endpoint" }).click();
    receiver.secret = (await page.getByTestId("secret").textContent())!;
    const endpoint = page.locator("li.endpoint", { hasText: url });
    await endpoint.getByRole("button", { name: "Send a test event" }).click();
    await endpoint.locator('[data-testid=delivery-log] tr[data-status="delivered"]').waitFor({ timeout: 15_000 });
    const [got] = receiver.ofType("webhook.test");
    assert.ok(got?.signatureValid, "signed with the secret the page showed");
    await check(page, "flow-webhooks");
    await page.close();
  });

  it("a consumer key sees its own invoice and no action at all", async () => {
    const page = await open(consumerKey);
    await page.getByRole("heading", { name: "Your usage" }).waitFor();
    await page.locator("tr[data-invoice]").first().waitFor();
    await page.locator("tr[data-invoice]").first().getByRole("button", { name: "Open" }).click();
    await page.getByTestId("invoice-detail").waitFor();
    for (const name of [
      "Finalize",
      "Void",
      "Re-draft from usage",
      "Grant credit",
      "Set budget",
      "Edit limits",
      "Issue a key",
      "Save plan",
      "Save TDL limits",
      "Save limits and capabilities",
    ])
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `no ${name} for a consumer key`);
    assert.equal(await page.locator("form.action-form").count(), 0, "no action forms");
    assert.equal(await page.getByRole("link", { name: "Webhooks" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Download PDF" }).count(), 1, "its own document, yes");
    await check(page, "flow-consumer-view");
    await page.close();
  });
});
