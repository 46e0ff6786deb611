// Pure parts of budgets and alerts: what a call may cost, ledger units, thresholds, Standard
// Webhooks signatures and secrets at rest.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decryptSecret, encryptSecret } from "../../src/alerts/endpoint-secret.ts";
import { newSigningSecret, signedHeaders, verify } from "../../src/alerts/webhook-signature.ts";
import {
  fromMicro,
  maxCostOf,
  microDown,
  microUp,
  outputThatFits,
  thresholdsReached,
} from "../../src/budgets/budget.ts";
import { Decimal } from "../../src/domain/money.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);
const priceArb = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => new Decimal(n).div(10 ** 12));
const rateArb = fc.record({
  inputCostPerToken: priceArb,
  outputCostPerToken: priceArb,
  cachedInputCostPerToken: fc.option(priceArb, { nil: null }),
  cacheWriteCostPerToken: fc.option(priceArb, { nil: null }),
  reasoningCostPerToken: fc.option(priceArb, { nil: null }),
});

describe("the most a call can cost", () => {
  it("is at least the cost of any split of its tokens into types (reference in decimals)", () => {
    fc.assert(
      fc.property(
        rateArb,
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (p, input, output, a, b, c) => {
          const rate = { id: "r", effectiveFrom: new Date(0), ...p };
          const cached = a % (input + 1);
          const write = b % (input - cached + 1);
          const reasoning = c % (output + 1);
          const price = (own: Decimal | null, parent: Decimal) => own ?? parent;
          const actual = p.inputCostPerToken
            .times(input - cached - write)
            .plus(price(p.cachedInputCostPerToken, p.inputCostPerToken).times(cached))
            .plus(price(p.cacheWriteCostPerToken, p.inputCostPerToken).times(write))
            .plus(p.outputCostPerToken.times(output - reasoning))
            .plus(price(p.reasoningCostPerToken, p.outputCostPerToken).times(reasoning));
          assert.ok(maxCostOf({ inputTokens: input, outputTokens: output }, rate).gte(actual));
        },
      ),
      { numRuns: runs },
    );
  });

  it("with the seed's two prices is input x input price + output x output price, exactly", () => {
    const rate = {
      id: "r",
      effectiveFrom: new Date(0),
      inputCostPerToken: new Decimal("0.000000083"),
      outputCostPerToken: new Decimal("0.00000033"),
    };
    assert.equal(maxCostOf({ inputTokens: 17, outputTokens: 8000 }, rate).toFixed(), "0.002641411");
  });
});

describe("the output that fits what a budget has left", () => {
  it("property: holding it fits the room, in the ledger's micro-units; one token more does not", () => {
    fc.assert(
      fc.property(
        rateArb,
        fc.integer({ min: 0, max: 10 ** 9 }),
        fc.option(fc.bigInt({ min: 0n, max: 10n ** 7n }), { nil: null }),
        fc.integer({ min: 0, max: 200_000 }),
        (p, roomMicro, roomTokens, inputTokens) => {
          const rate = { id: "r", effectiveFrom: new Date(0), ...p };
          const room = { money: fromMicro(roomMicro), tokens: roomTokens };
          const fit = outputThatFits(room, { inputTokens }, rate);
          const fits = (output: number) =>
            BigInt(microUp(maxCostOf({ inputTokens, outputTokens: output }, rate))) <= BigInt(roomMicro) &&
            (roomTokens === null || BigInt(inputTokens + output) <= roomTokens);
          assert.ok(Number.isSafeInteger(fit) && fit >= 0);
          if (fit > 0) assert.ok(fits(fit), `${fit} output tokens held do not fit`);
          const outputPrice = Decimal.max(rate.outputCostPerToken, rate.reasoningCostPerToken ?? 0);
          if (fit < Number.MAX_SAFE_INTEGER && (outputPrice.gt(0) || roomTokens !== null))
            assert.ok(!fits(fit + 1), `${fit + 1} would fit too`);
        },
      ),
      { numRuns: runs },
    );
  });
});

describe("ledger units", () => {
  it("round what is held up and a limit down, never losing more than one micro-unit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 15 }), fc.integer({ min: 0, max: 12 }), (n, scale) => {
        const d = new Decimal(n).div(new Decimal(10).pow(scale));
        const up = fromMicro(microUp(d));
        const down = fromMicro(microDown(d));
        assert.ok(up.gte(d) && up.minus(d).lt("0.000001"));
        assert.ok(down.lte(d) && d.minus(down).lt("0.000001"));
      }),
      { numRuns: runs },
    );
  });

  it("thresholds are reached at exactly their share of the limit", () => {
    assert.deepEqual(thresholdsReached([50, 80], new Decimal("4.99"), new Decimal("10")), []);
    assert.deepEqual(thresholdsReached([50, 80], new Decimal("5"), new Decimal("10")), [50]);
    assert.deepEqual(thresholdsReached([50, 80], new Decimal("8"), new Decimal("10")), [50, 80]);
  });
});

describe("Standard Webhooks signatures", () => {
  it("are HMAC-SHA256 of id.timestamp.body under the secret's bytes, as v1,<base64>", () => {
    const secret = newSigningSecret();
    const body = '{"type":"budget.exhausted"}';
    const h = signedHeaders(secret, "msg_1", body, new Date(1_700_000_000_000));
    const expected = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`msg_1.1700000000.${body}`)
      .digest("base64");
    assert.deepEqual(h, {
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `v1,${expected}`,
    });
    assert.equal(verify(secret, h, body, new Date(1_700_000_100_000)), true);
  });

  it("do not verify a changed body, id, another secret or an old timestamp", () => {
    const secret = newSigningSecret();
    const now = new Date();
    const h = signedHeaders(secret, "msg_2", "{}", now);
    assert.equal(verify(secret, h, "{ }", now), false);
    assert.equal(verify(secret, { ...h, "webhook-id": "msg_3" }, "{}", now), false);
    assert.equal(verify(newSigningSecret(), h, "{}", now), false);
    assert.equal(verify(secret, h, "{}", new Date(now.getTime() + 600_000)), false);
    assert.equal(
      verify(secret, { ...h, "webhook-signature": `v1,bogus ${h["webhook-signature"]}` }, "{}", now),
      true,
      "any of several signatures",
    );
  });
});

describe("endpoint secrets at rest", () => {
  it("round-trip, and a stored secret reveals nothing and cannot be altered", () => {
    const key = randomBytes(32);
    const secret = newSigningSecret();
    const stored = encryptSecret(key, secret);
    assert.ok(!stored.includes(secret.slice(6, 20)));
    assert.equal(decryptSecret(key, stored), secret);
    assert.throws(() => decryptSecret(randomBytes(32), stored));
    const raw = Buffer.from(stored.slice(3), "base64");
    raw[raw.length - 1]! ^= 1;
    assert.throws(() => decryptSecret(key, `v1:${raw.toString("base64")}`));
  });
});
