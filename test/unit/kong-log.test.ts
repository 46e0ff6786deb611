import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aiBlocks,
  isBillable,
  KongLogSchema,
  modelOf,
  providerCounts,
  proxyBlock,
  type KongLog,
} from "../../src/domain/kong-log.ts";
import { canonicalJson } from "../../src/domain/json.ts";
import { eventIdOf, partitionKeyOf } from "../../src/domain/usage-event.ts";
import { checkEntry, entriesOf } from "../../src/ingest/entries.ts";
import { redactDeep, redactText, redactUri } from "../../src/ingest/redact.ts";
import { tokenize } from "../../workers/meter/stages/tokenize.ts";
import { callOfLog } from "../helpers/calls.ts";
import { CHAT_REQUEST, kong36Ai, kong37Ai, kong38Ai, kong401, kongLog } from "../fixtures/kong-logs.ts";

const parse = (entry: unknown): KongLog => KongLogSchema.parse(entry);
const proxyOf = (log: KongLog) => proxyBlock(aiBlocks(log));

describe("Kong log shapes", () => {
  it("3.6: flat ai block", () => {
    const log = parse(kongLog({ ai: kong36Ai() }));
    assert.deepEqual(providerCounts(aiBlocks(log)), { input: 20, output: 10, implausible: false });
    assert.equal(modelOf(log, proxyOf(log), undefined, new Map()), "gpt-3.5-turbo-0125");
  });

  it("3.7: ai-proxy block with singular token keys", () => {
    const log = parse(kongLog({ ai: kong37Ai() }));
    assert.deepEqual(providerCounts(aiBlocks(log)), { input: 21, output: 11, implausible: false });
    assert.equal(modelOf(log, proxyOf(log), undefined, new Map()), "gpt-4-0613");
  });

  it("3.8: ai-proxy block with plural keys and an empty cache object", () => {
    const log = parse(kongLog({ ai: kong38Ai() }));
    assert.deepEqual(providerCounts(aiBlocks(log)), { input: 22, output: 12, implausible: false });
  });

  it("3.9+: ai.proxy block with payloads", () => {
    const log = parse(kongLog());
    const blocks = aiBlocks(log);
    assert.equal(blocks[0]?.name, "proxy");
    assert.equal(blocks[0]?.provider, "openai");
    assert.deepEqual(providerCounts(blocks), { input: 27, output: 7, implausible: false });
  });

  it("sums several AI blocks (ai-proxy plus a transformer plugin)", () => {
    const log = parse(
      kongLog({
        ai: { ...kong38Ai(), "ai-request-transformer": { usage: { prompt_tokens: 5, completion_tokens: 3 } } },
      }),
    );
    assert.deepEqual(providerCounts(aiBlocks(log)), { input: 27, output: 15, implausible: false });
  });

  it("finds the model in the request body, then the route map, when no ai block names one", () => {
    const log = parse({ ...kongLog(), ai: undefined });
    assert.equal(modelOf(log, proxyOf(log), { model: "gpt-4o-mini" }, new Map()), "gpt-4o-mini");
    assert.equal(modelOf(log, proxyOf(log), {}, new Map([["llama2-chat", "kt-llama3"]])), "kt-llama3");
    assert.equal(modelOf(log, proxyOf(log), {}, new Map()), "unknown");
  });

  it("prefers counting the logged payloads and keeps the provider's figures beside", () => {
    const log = parse(kongLog());
    const t = tokenize(callOfLog(log, { model: "gpt-4o" }), { fallback: "cl100k_base", budgetMs: 10_000 });
    assert.equal(t.inputSource, "counted");
    assert.equal(t.outputSource, "counted");
    assert.equal(t.encoding, "o200k_base");
    assert.equal(t.figures.provider?.input, 27);
    assert.equal(t.figures.provider?.output, 7);
    assert.ok(t.tokens.input > 0 && t.tokens.output > 0);
    assert.deepEqual(t.figures.counted, { input: t.tokens.input, output: t.tokens.output });
  });

  it("falls back to the provider's figures when no payload was logged", () => {
    const log = parse(kongLog({ ai: kong38Ai() }));
    assert.deepEqual(
      { ...tokenize(callOfLog(log, { model: "gpt-4o" }), { fallback: "cl100k_base", budgetMs: 10_000 }) },
      {
        tokens: { input: 22, output: 12, cachedInput: 0, cacheWrite: 0, reasoning: 0 },
        inputSource: "provider",
        outputSource: "provider",
        figures: { provider: { input: 22, output: 12 } },
        encoding: undefined,
        anomalies: [],
      },
    );
  });

  it("reads bodies stored by custom_fields_by_lua as request.body / response.body", () => {
    const entry = { ...kongLog(), ai: undefined } as Record<string, any>;
    entry.request.body = JSON.stringify(CHAT_REQUEST);
    entry.response.body = 'data: {"choices":[{"index":0,"delta":{"content":"Paris"}}]}\n\ndata: [DONE]\n\n';
    const log = parse(entry);
    const t = tokenize(callOfLog(log, { model: "gpt-4o" }), { fallback: "cl100k_base", budgetMs: 10_000 });
    assert.equal(t.inputSource, "counted");
    assert.equal(t.tokens.output, 1);
  });
});

describe("billable", () => {
  const at = (o: Partial<Record<string, unknown>>) => parse({ ...kongLog(), ...o });
  it("a 200 from the upstream is billable", () => assert.equal(isBillable(at({})), true));
  it("a retried call that finally succeeded ('502, 200') is billable", () =>
    assert.equal(isBillable(at({ upstream_status: "502, 200" })), true));
  it("a provider 429 is not", () => assert.equal(isBillable(parse(kongLog({ status: 429 }))), false));
  it("a provider 500 is not", () => assert.equal(isBillable(parse(kongLog({ status: 500 }))), false));
  it("Kong's own 401 is not", () => assert.equal(isBillable(parse(kong401())), false));
  it("a 200 with no upstream (answered by Kong) is not", () =>
    assert.equal(isBillable(at({ upstream_status: "" })), false));
  it("before Kong 3.3 (no upstream_status) a 2xx is billable", () =>
    assert.equal(isBillable(at({ upstream_status: undefined })), true));
});

describe("event identity", () => {
  it("is Kong's request id when present", () => {
    const entry = kongLog({ requestId: "a".repeat(32) });
    assert.equal(eventIdOf(entry), "a".repeat(32));
  });
  it("is a hash of the entry before Kong 3.5, independent of key order", () => {
    const entry = kongLog({ requestId: null });
    const reordered = Object.fromEntries(Object.entries(entry).reverse());
    assert.match(eventIdOf(entry), /^sha256:[0-9a-f]{64}$/);
    assert.equal(eventIdOf(reordered), eventIdOf(entry));
    assert.notEqual(eventIdOf({ ...entry, started_at: 1 }), eventIdOf(entry));
  });
  it("canonical JSON sorts keys at every depth", () =>
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    ));
  it("is partitioned by a hash of the Kong consumer, or of 'unattributed'", () => {
    const key = partitionKeyOf(kongLog({ consumer: { id: "c-1" } }));
    assert.equal(key, partitionKeyOf(kongLog({ consumer: { id: "c-1", username: "other" } })));
    assert.notEqual(key, partitionKeyOf(kongLog({ consumer: { id: "c-2" } })));
    assert.equal(partitionKeyOf(kong401()), partitionKeyOf({}));
  });
});

describe("ingest body and entries", () => {
  it("takes one object or an array of them", () => {
    assert.equal(entriesOf(Buffer.from("{}")).length, 1);
    assert.equal(entriesOf(Buffer.from("[{},{}]")).length, 2);
  });
  for (const [name, body] of [
    ["empty", ""],
    ["truncated", '[{"request":'],
    ["not JSON", "hello"],
    ["empty array", "[]"],
    ["a number", "42"],
  ]) {
    it(`rejects a body that is ${name} as a whole`, () =>
      assert.throws(() => entriesOf(Buffer.from(body!)), { status: 400 }));
  }
  it("names what is missing in an unusable entry", () => {
    assert.deepEqual(checkEntry(7), { ok: false, code: "not_an_object", reason: "entry is not a JSON object" });
    assert.deepEqual(checkEntry({ request: {}, response: {}, started_at: 1 }), {
      ok: false,
      code: "status_missing",
      reason: "response.status: missing or not a number",
    });
    assert.equal(checkEntry(kongLog()).ok, true);
  });
});

describe("redaction", () => {
  const keys = new Set(["apikey", "x-api-key", "api-key", "cookie", "set-cookie", "authorization"]);
  it("blanks credential headers, query args and URI arguments", () => {
    const entry = kongLog() as Record<string, any>;
    entry.request.headers["x-api-key"] = "sk-provider";
    entry.request.headers.cookie = "session=abc";
    entry.request.querystring = { apikey: "k1", q: "x" };
    entry.request.uri = "/chat?apikey=k1&q=x";
    entry.request.url = "http://h:8000/chat?q=x&ApiKey=k1";
    entry.response.headers["set-cookie"] = "s=1";
    redactDeep(entry, keys);
    const text = JSON.stringify(entry);
    for (const secret of ["llama2-secret-key-12345", "sk-provider", "session=abc", "k1", "s=1"])
      assert.ok(!text.includes(secret), secret);
    assert.equal(entry.request.querystring.q, "x");
    assert.equal(entry.request.uri, "/chat?apikey=REDACTED&q=x");
  });
  it("keeps URIs without credentials unchanged", () => assert.equal(redactUri("/a?b=1&c", keys), "/a?b=1&c"));
  it("blanks credentials in bytes that are not valid JSON", () => {
    const out = redactText('{"request":{"headers":{"apikey":"llama2-secret-key-12345","x":1', keys);
    assert.ok(!out.includes("llama2-secret"));
    assert.ok(redactText("/chat?apikey=abc&q=1", keys).includes("apikey=REDACTED&q=1"));
  });
});
