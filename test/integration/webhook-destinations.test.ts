// Webhooks stay outside: an endpoint URL that names loopback, link-local (cloud metadata),
// private, unique-local, multicast or unspecified addresses is refused when it is added, and
// again at every delivery attempt (the host is resolved each time and the connection goes to the
// address checked), with a generic reason in the delivery log. Signing secrets name their key,
// so the key can change and a command moves every secret to the new one.
import assert from "node:assert/strict";
import { createCipheriv, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { raiseAlert } from "../../src/alerts/alert.service.ts";
import { WEBHOOK_JOBS } from "../../src/jobs/catalog.ts";
import { decryptSecret, encryptSecret, keyId, storedKeyId } from "../../src/alerts/endpoint-secret.ts";
import { reencryptSecrets } from "../../src/alerts/secret-rotation.ts";
import { REFUSED_DESTINATION } from "../../src/alerts/webhook-post.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

const KEY = randomBytes(32);
let stack: Stack;
let receiver: WebhookReceiver;

before(async () => {
  receiver = new WebhookReceiver();
  stack = await startStack(
    { WEBHOOK_SECRET_KEY: KEY.toString("base64"), WEBHOOK_BACKOFF_MS: "50", WEBHOOK_ATTEMPTS: "2" },
    { meter: false, webhooks: true },
  );
});
after(async () => {
  await stack.close();
  await receiver.stop();
});

describe("webhook destinations", () => {
  it("refuses an endpoint inside: loopback, metadata, private, unique-local, multicast, unspecified, in every spelling", async () => {
    const inside: Array<[string, RegExp]> = [
      ["http://127.0.0.1:6379/", /loopback/],
      ["http://localhost:8080/hook", /loopback/],
      ["http://0x7f000001/", /loopback/], // the URL parser reads hex, octal and single-number hosts as 127.0.0.1
      ["http://2130706433/", /loopback/],
      ["http://0177.0.0.1/", /loopback/],
      ["http://169.254.169.254/latest/meta-data/", /link-local/],
      ["http://10.0.0.5/", /private/],
      ["http://172.31.255.255/", /private/],
      ["http://192.168.1.1/", /private/],
      ["http://100.64.0.1/", /private/],
      ["http://[::1]/", /loopback/],
      ["http://[::ffff:127.0.0.1]/", /loopback/],
      ["http://[::ffff:a9fe:a9fe]/", /link-local/],
      ["http://[64:ff9b::a9fe:a9fe]/", /link-local/],
      ["http://[fd12:3456::1]/", /unique-local/],
      ["http://[fe80::1]/", /link-local/],
      ["http://224.0.0.251/", /multicast/],
      ["http://[ff02::1]/", /multicast/],
      ["http://0.0.0.0:8080/", /unspecified/],
      ["http://[::]/", /unspecified/],
    ];
    for (const [url, kind] of inside) {
      const res = await admin(stack, "POST", "/v1/webhook-endpoints", { url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.field, "url", url);
      assert.match(res.json().error.message, kind, url);
    }
    assert.equal(
      await stack.db.webhookEndpoint.count({ where: { url: { in: inside.map(([u]) => u) } } }),
      0,
      "none was stored",
    );
    const outside = await admin(stack, "POST", "/v1/webhook-endpoints", { url: "https://8.8.8.8/hook" });
    assert.equal(outside.statusCode, 201, outside.body);
    const unresolved = await admin(stack, "POST", "/v1/webhook-endpoints", { url: "https://hooks.example.invalid/tm" });
    assert.equal(unresolved.statusCode, 201, "a host with no address yet is checked at each delivery instead");
  });

  it("refuses at delivery an endpoint that has come to point inside, logging only a generic reason", async () => {
    const url = await receiver.start(); // on 127.0.0.1, not in WEBHOOK_ALLOWED_NETWORKS here
    // as if its DNS name had pointed outside when it was added
    const endpoint = await stack.db.webhookEndpoint.create({
      data: { url, eventTypes: ["dead_letter.recorded"], secretEncrypted: encryptSecret(KEY, "whsec_dGVzdA==") },
    });
    assert.ok(
      await raiseAlert(
        { db: stack.db, webhookQueue: stack.webhookQueue, config: stack.config },
        { type: "dead_letter.recorded", dedupKey: `dest-${randomUUID()}`, data: { reason: "test" } },
      ),
    );
    await stack.webhookQueue.add(WEBHOOK_JOBS.dispatch, {}, { jobId: `sweep.${randomUUID()}` });
    const delivery = await waitFor(
      async () => {
        const d = await stack.db.webhookDelivery.findFirst({
          where: { endpointId: endpoint.id },
          include: { attemptLog: true },
        });
        return d?.status === "failed" ? d : undefined;
      },
      15_000,
      "the delivery to fail",
    );
    assert.equal(delivery.attemptLog.length, 2, "each attempt checked again");
    for (const a of delivery.attemptLog) assert.deepEqual([a.statusCode, a.error], [null, REFUSED_DESTINATION]);
    assert.equal(delivery.lastError, REFUSED_DESTINATION, "no address or port of the inside in the log");
    assert.equal(receiver.received.length, 0, "nothing reached the address inside");
  });
});

/** A secret as stored before keys had ids. */
function legacy(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([c.update(secret, "utf8"), c.final()]);
  return `v1:${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64")}`;
}

describe("webhook signing keys", () => {
  it("a secret names its key; previous keys decrypt; the command moves every secret to the current key", async () => {
    const oldKey = randomBytes(32),
      newKey = randomBytes(32),
      lostKey = randomBytes(32);
    const stored = encryptSecret(oldKey, "whsec_one");
    assert.equal(storedKeyId(stored), keyId(oldKey));
    assert.throws(
      () => decryptSecret({ current: newKey, previous: [] }, stored),
      new RegExp(`key ${keyId(oldKey)}, which is not configured`),
    );
    assert.equal(decryptSecret({ current: newKey, previous: [oldKey] }, stored), "whsec_one");
    assert.equal(
      decryptSecret({ current: newKey, previous: [oldKey] }, legacy(oldKey, "whsec_legacy")),
      "whsec_legacy",
    );

    await stack.db.webhookEndpoint.deleteMany({});
    const rows = [
      stored,
      legacy(oldKey, "whsec_legacy"),
      encryptSecret(newKey, "whsec_new"),
      encryptSecret(lostKey, "whsec_lost"),
    ];
    for (const s of rows)
      await stack.db.webhookEndpoint.create({ data: { url: "https://8.8.8.8/", secretEncrypted: s } });
    const keys = { current: newKey, previous: [oldKey] };
    const r = await reencryptSecrets(stack.db, keys);
    assert.deepEqual([r.total, r.reencrypted, r.current, r.unreadable.length], [4, 2, 1, 1]);
    assert.match(r.unreadable[0]!.error, new RegExp(keyId(lostKey)));
    const after = await stack.db.webhookEndpoint.findMany({ orderBy: { createdAt: "asc" } });
    const readable = after.filter((e) => storedKeyId(e.secretEncrypted) === keyId(newKey));
    assert.deepEqual(readable.map((e) => decryptSecret({ current: newKey, previous: [] }, e.secretEncrypted)).sort(), [
      "whsec_legacy",
      "whsec_new",
      "whsec_one",
    ]);
    assert.deepEqual(
      await reencryptSecrets(stack.db, keys).then((x) => [x.reencrypted, x.current]),
      [0, 3],
      "a second run has nothing to do",
    );
  });
});
