// What our count can see: Kong's placeholders are no payload; images, audio, files, unmodeled
// fields and Kong's own record of a stream make our count a lower bound, so the provider's figure
// bills the call and our count is kept; without one, our count plus the parts' published estimate
// bills it, flagged; a provider figure below our lower bound is flagged as drift.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { get_encoding } from "tiktoken";
import { loadConfig } from "../../src/config.ts";
import { KongLogSchema } from "../../src/domain/kong-log.ts";
import { KONG_PLACEHOLDERS } from "../../src/tokens/response.ts";
import { tokenize } from "../../workers/meter/stages/tokenize.ts";
import { callOfLog } from "../helpers/calls.ts";
import { CHAT_REQUEST, kongLog } from "../fixtures/kong-logs.ts";

const o200k = get_encoding("o200k_base");
const n = (s: string) => o200k.encode_ordinary(s).length;
const PNG = Buffer.from("89504e470d0a1a0a0000000d494844520000040000000400", "hex").toString("base64"); // 1024×1024

/** A log of a call through ai-proxy (3.9+ layout) with the given payloads and provider usage. */
function aiLog(payload: { request?: unknown; response?: unknown }, usage?: Record<string, number>) {
  const enc = (v: unknown) => (v === undefined || typeof v === "string" ? v : JSON.stringify(v));
  const entry = {
    ...kongLog(),
    ai: {
      proxy: {
        ...(usage ? { usage } : {}),
        payload: { request: enc(payload.request), response: enc(payload.response) },
      },
    },
  };
  return KongLogSchema.parse(entry);
}
function meter(log: ReturnType<typeof aiLog>, model = "gpt-4o") {
  const providerFirst = loadConfig({}).metering.providerBilled(model);
  return tokenize(callOfLog(log, { model }), { fallback: "cl100k_base", budgetMs: 10_000, providerFirst });
}
const usage = { prompt_tokens: 1200, completion_tokens: 91 };
const answer = {
  id: "chatcmpl-1",
  created: 1,
  object: "chat.completion",
  model: "gpt-4o",
  choices: [
    { index: 0, message: { role: "assistant", content: "Paris is the capital of France." }, finish_reason: "stop" },
  ],
};

describe("Kong's placeholders are no payload", () => {
  for (const placeholder of KONG_PLACEHOLDERS) {
    it(`${placeholder.slice(0, 40)}: not counted, the provider's figure billed, no anomaly`, () => {
      const t = meter(aiLog({ request: CHAT_REQUEST, response: placeholder }, usage));
      assert.deepEqual([t.outputSource, t.tokens.output], ["provider", 91], "never the placeholder's own tokens");
      assert.equal(t.figures.counted?.output, undefined);
      assert.deepEqual(t.anomalies, []);
    });
  }

  it("Kong 3.9+'s record of a stream with no text kept (payload logging off) is no payload either", () => {
    const record = {
      object: "chat.completion",
      choices: [{ finish_reason: "stop", index: 0, logprobs: null, message: { role: "assistant" } }],
      usage: { prompt_tokens: 1, completion_tokens: 91 },
    };
    const t = meter(aiLog({ request: CHAT_REQUEST, response: record }, usage));
    assert.deepEqual([t.outputSource, t.tokens.output, t.figures.counted?.output], ["provider", 91, undefined]);
    assert.deepEqual(t.anomalies, []);
  });
});

describe("a count that cannot see everything is a lower bound", () => {
  const streamRecord = {
    object: "chat.completion",
    response: "Paris.",
    choices: [
      { finish_reason: "tool_calls", index: 0, logprobs: null, message: { role: "assistant", content: "Paris." } },
    ],
    usage: { prompt_tokens: 30, completion_tokens: 4 },
  };

  it("Kong's record of a stream (first choice's text only): the provider bills, our count is kept", () => {
    const t = meter(aiLog({ request: CHAT_REQUEST, response: streamRecord }, usage));
    assert.deepEqual([t.outputSource, t.tokens.output], ["provider", 91]);
    assert.equal(t.figures.counted?.output, n("Paris."));
    assert.equal(t.figures.counted?.output_lower_bound, true);
    assert.deepEqual(t.anomalies, []);
  });

  it("Kong 3.7/3.8's plain text of a stream is a lower bound too", () => {
    const t = meter(aiLog({ request: CHAT_REQUEST, response: "Paris is the capital." }, usage));
    assert.deepEqual([t.outputSource, t.figures.counted?.output_lower_bound], ["provider", true]);
  });

  it("a provider figure below our lower bound is billed and flagged as drift", () => {
    const t = meter(
      aiLog({ request: CHAT_REQUEST, response: streamRecord }, { prompt_tokens: 30, completion_tokens: 1 }),
    );
    assert.deepEqual([t.outputSource, t.tokens.output], ["provider", 1]);
    assert.ok(t.anomalies.includes("reported_below_count"), t.anomalies.join());
  });

  it("a chat request with images: the provider bills the input; without one, our count plus the image formula, flagged", () => {
    const request = {
      model: "gpt-4o",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in these?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "high" } },
            { type: "image_url", image_url: { url: "https://example.com/b.png" } },
          ],
        },
      ],
    };
    const billed = meter(aiLog({ request, response: answer }, usage));
    assert.deepEqual([billed.inputSource, billed.tokens.input], ["provider", 1200]);
    const counted = billed.figures.counted!;
    assert.deepEqual(
      [counted.input_lower_bound, counted.input_parts_estimate],
      [true, 765 + 1445],
      "1024×1024 high: 4 tiles; a URL: the most tiles",
    );
    assert.equal(billed.outputSource, "counted", "the text answer is still counted exactly");

    const alone = meter(aiLog({ request, response: answer }));
    assert.deepEqual([alone.inputSource, alone.tokens.input], ["counted", counted.input! + 765 + 1445]);
    assert.ok(alone.anomalies.includes("billed_from_lower_bound"), alone.anomalies.join());
  });

  it("a chat request with audio, and a Responses request with a file, are billed from the provider", () => {
    const audio = {
      model: "gpt-4o-audio-preview",
      messages: [
        { role: "user", content: [{ type: "input_audio", input_audio: { data: "UklGR".repeat(400), format: "wav" } }] },
      ],
    };
    const file = {
      model: "gpt-4o",
      input: [
        {
          role: "user",
          content: [
            { type: "input_file", file_id: "file-abc" },
            { type: "input_text", text: "Summarize." },
          ],
        },
      ],
    };
    for (const request of [audio, file]) {
      const t = meter(aiLog({ request, response: answer }, usage), request.model);
      assert.deepEqual(
        [t.inputSource, t.tokens.input, t.figures.counted?.input_lower_bound],
        ["provider", 1200, true],
        request.model,
      );
    }
  });

  it("fields the recipe does not model (a JSON schema, built-in tools, Anthropic's system) make the input a lower bound", () => {
    const requests = [
      {
        ...CHAT_REQUEST,
        response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
      },
      { ...CHAT_REQUEST, tools: [{ type: "web_search_preview" }] },
      { ...CHAT_REQUEST, system: "Be brief." },
    ];
    for (const request of requests)
      assert.equal(meter(aiLog({ request, response: answer }, usage)).inputSource, "provider");
    const plain = meter(aiLog({ request: CHAT_REQUEST, response: answer }, usage));
    assert.deepEqual(
      [plain.inputSource, plain.figures.counted?.input_lower_bound],
      ["counted", undefined],
      "a text-only chat is still billed from our exact count",
    );
  });

  it("an audio reply is more than its transcript: the output is a lower bound", () => {
    const spoken = {
      ...answer,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, audio: { id: "a1", data: "AAAA", transcript: "Paris." } },
          finish_reason: "stop",
        },
      ],
    };
    const t = meter(aiLog({ request: CHAT_REQUEST, response: spoken }, usage));
    assert.deepEqual([t.outputSource, t.tokens.output], ["provider", 91]);
  });
});

describe("billing source by model family", () => {
  it("a Claude call is billed from the provider's figure, our tiktoken estimate kept as a check", () => {
    const request = {
      model: "claude-3-5-sonnet",
      messages: [{ role: "user", content: "What is the capital of France?" }],
    };
    const t = meter(
      aiLog(
        { request, response: { id: "msg_1", type: "message", content: [{ type: "text", text: "Paris." }] } },
        { prompt_tokens: 14, completion_tokens: 5 },
      ),
      "claude-3-5-sonnet",
    );
    assert.deepEqual([t.inputSource, t.outputSource, t.tokens.input, t.tokens.output], ["provider", "provider", 14, 5]);
    assert.ok(t.figures.counted?.input !== undefined && t.figures.counted.output !== undefined, "our count kept");
  });

  it("an OpenAI call is still billed from our exact count", () => {
    const t = meter(aiLog({ request: CHAT_REQUEST, response: answer }, usage), "gpt-4o");
    assert.deepEqual([t.inputSource, t.outputSource], ["counted", "counted"]);
  });
});
