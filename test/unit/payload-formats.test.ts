// Bodies wherever Kong logs them, in every request format counted here, and payloads that are not
// whole: never counted as raw text, the provider's figure billed, the event saying why.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { get_encoding } from "tiktoken";
import { KongLogSchema, type BodyPaths } from "../../src/domain/kong-log.ts";
import { counterFor } from "../../src/tokens/counter.ts";
import { requestTokens } from "../../src/tokens/chat.ts";
import { completionOf, completionTokens, responseUsageOf } from "../../src/tokens/response.ts";
import { tokenize } from "../../workers/meter/stages/tokenize.ts";
import { callOfLog } from "../helpers/calls.ts";
import { CHAT_REQUEST, kongLog } from "../fixtures/kong-logs.ts";

const o200k = get_encoding("o200k_base");
const n = (s: string) => o200k.encode_ordinary(s).length;
const enc = counterFor("o200k_base");

/** A log with no ai block and the bodies at the given top-level custom field names. */
function logWith(fields: Record<string, unknown>, usage?: Record<string, unknown>) {
  const entry = { ...kongLog(), ai: usage ? { proxy: { usage } } : undefined, ...fields };
  return KongLogSchema.parse(entry);
}
const run = (log: ReturnType<typeof logWith>, paths?: BodyPaths, providerFirst = false) =>
  tokenize(callOfLog(log, { model: "gpt-4o", paths }), { fallback: "cl100k_base", budgetMs: 10_000, providerFirst });

describe("body paths", () => {
  it("finds bodies under the names operators give custom_fields_by_lua, first configured path first", () => {
    for (const [req, res] of [
      ["request_body", "response_body"],
      ["req_body", "resp_body"],
    ] as const) {
      const t = run(
        logWith({
          [req]: JSON.stringify(CHAT_REQUEST),
          [res]: JSON.stringify({ choices: [{ message: { content: "Paris" } }] }),
        }),
      );
      assert.equal(t.inputSource, "counted", req);
      assert.equal(t.tokens.output, n("Paris"), res);
    }
    const custom = { request: ["llm.in"], response: ["llm.out"] };
    const t = run(logWith({ llm: { in: CHAT_REQUEST, out: { choices: [{ message: { content: "Oui" } }] } } }), custom);
    assert.deepEqual([t.inputSource, t.tokens.output], ["counted", n("Oui")]);
  });
});

describe("request formats", () => {
  it("Responses API: instructions and input items read as chat messages; a string input with instructions too", () => {
    const items = {
      model: "gpt-4o",
      instructions: "Be brief.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Capital of France?" }] }],
    };
    const asChat = requestTokens(
      enc,
      {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Capital of France?" },
        ],
      },
      true,
    );
    assert.equal(requestTokens(enc, items, true), asChat);
    assert.equal(requestTokens(enc, { instructions: "Be brief.", input: "Capital of France?" }, true), asChat);
  });

  it("legacy completions and embeddings: text, texts, and token ids (already tokens)", () => {
    assert.equal(requestTokens(enc, { prompt: ["one", "two three"] }, true), n("one") + n("two three"));
    assert.equal(requestTokens(enc, { input: "embed me" }, true), n("embed me"));
    assert.equal(requestTokens(enc, { input: [101, 2023, 2003] }, true), 3);
    assert.equal(requestTokens(enc, { input: [[1, 2], [3]] }, true), 3);
    assert.equal(requestTokens(enc, { something: "else" }, true), undefined);
  });
});

describe("response formats", () => {
  it("Responses API JSON: output messages and function calls; its usage with details", () => {
    const body = {
      object: "response",
      output: [
        { type: "reasoning", summary: [] },
        { type: "message", content: [{ type: "output_text", text: "Paris." }] },
        { type: "function_call", name: "lookup", arguments: '{"q":"x"}' },
      ],
      usage: {
        input_tokens: 30,
        output_tokens: 70,
        output_tokens_details: { reasoning_tokens: 50 },
        input_tokens_details: { cached_tokens: 0 },
      },
    };
    const c = completionOf(body)!;
    assert.equal(completionTokens(enc, c), n("Paris.") + n("lookup") + n('{"q":"x"}'));
    assert.deepEqual(responseUsageOf(JSON.parse(JSON.stringify(body))), body.usage);
  });

  it("Responses API stream: the completed event's response; deltas alone without it are a stream cut short", () => {
    const deltas = [
      'data: {"type":"response.output_text.delta","delta":"Par"}',
      'data: {"type":"response.output_text.delta","delta":"is"}',
    ];
    const completed = `data: ${JSON.stringify({ type: "response.completed", response: { output: [{ type: "message", content: [{ type: "output_text", text: "Paris" }] }], usage: { input_tokens: 9, output_tokens: 1 } } })}`;
    const whole = completionOf([...deltas, completed].join("\n\n"))!;
    assert.deepEqual([whole.complete, completionTokens(enc, whole)], [true, n("Paris")]);
    assert.equal(completionOf(deltas.join("\n\n"))!.complete, false);
    assert.deepEqual(responseUsageOf([...deltas, completed].join("\n\n")), { input_tokens: 9, output_tokens: 1 });
  });

  it("legacy completion streams and embeddings responses", () => {
    const sse =
      'data: {"choices":[{"index":0,"text":"Hel"}]}\n\ndata: {"choices":[{"index":0,"text":"lo","finish_reason":"stop"}]}\n\n';
    const c = completionOf(sse)!;
    assert.deepEqual([c.complete, completionTokens(enc, c)], [true, n("Hello")]);
    const e = completionOf({
      object: "list",
      data: [{ embedding: [0.1] }],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    })!;
    assert.deepEqual([e.complete, completionTokens(enc, e)], [true, 0]);
  });
});

describe("payloads that are not whole", () => {
  const provider = { prompt_tokens: 40, completion_tokens: 9 };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      "request cut off by a size limit",
      { request_body: JSON.stringify(CHAT_REQUEST).slice(0, 40) },
      "request_payload_incomplete",
    ],
    ["request placeholder", { request_body: "(body too large, not captured)" }, "request_payload_incomplete"],
    ["request of no known format", { request_body: { hello: "world" } }, "request_payload_incomplete"],
    [
      "response JSON cut off",
      { response_body: '{"choices":[{"message":{"content":"Par' },
      "response_payload_incomplete",
    ],
    [
      "response stream cut before its end",
      { response_body: 'data: {"choices":[{"index":0,"delta":{"content":"Par"}}]}\n\n' },
      "response_payload_incomplete",
    ],
    ["response placeholder text in a log field", { response_body: "<truncated>" }, "response_payload_incomplete"],
  ];
  for (const [name, fields, anomaly] of cases) {
    it(`${name}: not counted, the provider's figure billed, flagged`, () => {
      const t = run(logWith(fields, provider));
      const side = anomaly.startsWith("request") ? "inputSource" : "outputSource";
      assert.equal(t[side], "provider");
      assert.ok(t.anomalies.includes(anomaly as never), t.anomalies.join());
      assert.deepEqual([t.tokens.input, t.tokens.output], [40, 9]);
    });
  }

  it("a billable LLM call no source gives a count for is flagged no_token_count, never silently zero", () => {
    const t = run(logWith({ request_body: "(not captured)" }));
    assert.deepEqual([t.tokens.input, t.inputSource, t.outputSource], [0, "none", "none"]);
    assert.ok(t.anomalies.includes("no_token_count"));
  });
});

describe("billing policy per model family", () => {
  it("provider-first models bill the provider's figure and keep our count beside it", () => {
    const log = logWith(
      { request_body: CHAT_REQUEST, response_body: { choices: [{ message: { content: "Paris" } }] } },
      { prompt_tokens: 41, completion_tokens: 2 },
    );
    const counted = run(log);
    const provider = run(log, undefined, true);
    assert.deepEqual(
      [counted.inputSource, provider.inputSource, provider.tokens.input, provider.tokens.output],
      ["counted", "provider", 41, 2],
    );
    assert.equal(provider.figures.counted?.input, counted.tokens.input);
  });
});
