// Every value the meter takes from a log fits PostgreSQL's columns, however odd the log.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalJson, stringifyJson } from "../../src/domain/json.ts";
import { aiBlocks, KongLogSchema, modelOf, providerCounts, proxyBlock } from "../../src/domain/kong-log.ts";
import {
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TOKENS_PER_CALL,
  plausibleCount,
  storableId,
  storableText,
} from "../../src/domain/storable.ts";
import { eventIdOf, partitionKeyOf } from "../../src/domain/usage-event.ts";
import { tokenize } from "../../workers/meter/stages/tokenize.ts";
import { callOfLog } from "../helpers/calls.ts";
import { kongLog } from "../fixtures/kong-logs.ts";

/** What PostgreSQL's text type and UTF-8 accept. */
const storable = (s: string) => s.isWellFormed() && !s.includes("\u0000");

describe("storable text", () => {
  it("replaces NUL and lone surrogates with U+FFFD and keeps everything else", () => {
    assert.equal(storableText("a\u0000b\ud800c\udc00d 😀 é"), "a\ufffdb\ufffdc\ufffdd 😀 é");
  });

  it("cuts long names without splitting a surrogate pair", () => {
    assert.equal(storableText("x".repeat(1000)).length, MAX_NAME_LENGTH);
    const cut = storableText(`${"x".repeat(MAX_NAME_LENGTH - 1)}😀`);
    assert.equal(cut, "x".repeat(MAX_NAME_LENGTH - 1));
  });

  it("is always storable and bounded (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 600 }), (s) => {
        const t = storableText(s);
        return storable(t) && t.length <= MAX_NAME_LENGTH;
      }),
      { seed: 1 },
    );
  });
});

describe("storable identifiers", () => {
  it("keeps a short clean id and hashes a long or unstorable one, the same way every time", () => {
    assert.equal(storableId("5b1c0e9a"), "5b1c0e9a");
    const long = "r".repeat(10_000);
    assert.match(storableId(long), /^sha256:[0-9a-f]{64}$/);
    assert.equal(storableId(long), storableId(long));
    assert.notEqual(storableId("a\u0000"), storableId("a\ufffd"));
    assert.equal(storableId("x".repeat(MAX_ID_LENGTH)), "x".repeat(MAX_ID_LENGTH));
  });

  it("gives an over-long Kong request id a stable event id of its own kind", () => {
    const entry = kongLog({ requestId: "f".repeat(5000) });
    const id = eventIdOf(entry);
    assert.match(id, /^rid-sha256:[0-9a-f]{64}$/);
    assert.equal(eventIdOf(structuredClone(entry)), id);
  });

  it("bounds the partition key whatever the consumer's identity, and keeps it stable", () => {
    const huge = { consumer: { id: "c".repeat(256 * 1024) } };
    const t = performance.now();
    const key = partitionKeyOf(huge);
    assert.ok(performance.now() - t < 100);
    assert.equal(key.length, 32);
    assert.equal(partitionKeyOf({ consumer: { id: "c".repeat(256 * 1024) } }), key);
    assert.notEqual(partitionKeyOf({ consumer: { id: "other" } }), key);
  });

  it("the Kong log schema normalizes consumer identity, names and upstream status", () => {
    const entry = kongLog({ consumer: { id: "k\u0000", username: "u".repeat(300) } });
    (entry.route as Record<string, unknown>).name = `route\u0000\ud800${"r".repeat(400)}`;
    entry.upstream_status = `200${" ".repeat(100)}\u0000`;
    const log = KongLogSchema.parse(entry);
    assert.match(log.consumer!.id!, /^sha256:/);
    assert.match(log.consumer!.username!, /^sha256:/);
    assert.ok(storable(log.route!.name!) && log.route!.name!.length === MAX_NAME_LENGTH);
    assert.ok(storable(log.upstream_status!) && log.upstream_status!.length <= 64);
  });

  it("a model from any source is storable and bounded, and never read from an object's prototype", () => {
    const entry = kongLog({ ai: { proxy: { meta: { response_model: `m\u0000${"o".repeat(1000)}` } } } });
    const log = KongLogSchema.parse(entry);
    const model = modelOf(log, proxyBlock(aiBlocks(log)), undefined, new Map());
    assert.ok(storable(model) && model.length === MAX_NAME_LENGTH);
    const plain = KongLogSchema.parse({ ...kongLog(), ai: undefined, route: { name: "__proto__" } });
    assert.equal(modelOf(plain, undefined, { model: "__proto__" }, new Map()), "__proto__");
    assert.equal(modelOf(plain, undefined, {}, new Map()), "unknown");
  });
});

describe("provider counts", () => {
  const counts = (usage: Record<string, unknown>) =>
    providerCounts(aiBlocks(KongLogSchema.parse(kongLog({ ai: { proxy: { usage } } }))));

  it("takes counts a call can have", () => {
    assert.deepEqual(counts({ prompt_tokens: 12, completion_tokens: 3 }), { input: 12, output: 3, implausible: false });
    assert.ok(plausibleCount(MAX_TOKENS_PER_CALL) && !plausibleCount(MAX_TOKENS_PER_CALL + 1));
  });

  it("flags and drops counts no call can have: negative, beyond the bound, infinite", () => {
    assert.deepEqual(counts({ prompt_tokens: -5, completion_tokens: 3 }), { output: 3, implausible: true });
    assert.deepEqual(counts({ prompt_tokens: 4, completion_tokens: 1e300 }), { input: 4, implausible: true });
    assert.deepEqual(counts({ prompt_tokens: 2 ** 31, completion_tokens: Infinity }), { implausible: true });
  });

  it("flags a sum over several AI blocks that passes the bound", () => {
    const log = KongLogSchema.parse(
      kongLog({
        ai: { proxy: { usage: { prompt_tokens: MAX_TOKENS_PER_CALL } }, "ai-x": { usage: { prompt_tokens: 1 } } },
      }),
    );
    assert.deepEqual(providerCounts(aiBlocks(log)), { implausible: true });
  });

  it("an implausible figure is never billed: with no payload the call has no count, and says why", () => {
    const log = KongLogSchema.parse({
      ...kongLog({ ai: { proxy: { usage: { prompt_tokens: 1e12, completion_tokens: 5 } } } }),
    });
    const t = tokenize(callOfLog(log, { model: "gpt-4o" }), { fallback: "cl100k_base", budgetMs: 10_000 });
    assert.deepEqual(
      [t.tokens.input, t.inputSource, t.tokens.output, t.outputSource, t.anomalies],
      [0, "none", 5, "provider", ["provider_count_implausible"]],
    );
  });
});

describe("counting past the time budget", () => {
  it("falls back to the provider's figures and flags the event", () => {
    const request = { model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(2 << 20) }] };
    const log = KongLogSchema.parse(kongLog({ requestBody: request }));
    const t = tokenize(callOfLog(log, { model: "gpt-4o" }), { fallback: "cl100k_base", budgetMs: 5 });
    assert.deepEqual(
      [t.tokens.input, t.inputSource, t.tokens.output, t.outputSource, t.anomalies],
      [27, "provider", 7, "provider", ["token_count_over_budget"]],
    );
  });
});

describe("JSON at any depth", () => {
  const deep = (d: number) => JSON.parse(`${"[".repeat(d)}{"b":1,"a":"\\u0000"}${"]".repeat(d)}`) as unknown;

  it("writes what JSON.stringify writes, and keeps going where it overflows", () => {
    const shallow = { z: [1, -0, 1e21, "é\ud800"], a: { __proto__: 1, b: null } };
    assert.equal(stringifyJson(shallow), JSON.stringify(shallow));
    const inner = '{"b":1,"a":"\\u0000"}';
    assert.equal(stringifyJson(deep(200_000)), "[".repeat(200_000) + inner + "]".repeat(200_000));
  });

  it("canonical JSON sorts keys at every depth", () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    assert.ok(canonicalJson(deep(100_000)).endsWith(`{"a":"\\u0000","b":1}${"]".repeat(100_000)}`));
  });
});
