import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { get_encoding } from "tiktoken";
import { chatMessagesTokens, requestTokens, toolDefinitionsTokens } from "../../src/tokens/chat.ts";
import { counterFor } from "../../src/tokens/counter.ts";
import { encodingNameFor } from "../../src/tokens/encoding.ts";
import { completionOf, completionTokens, reassembleSse } from "../../src/tokens/response.ts";

// Reference encoders built independently of the module under test.
const ref = { cl100k: get_encoding("cl100k_base"), o200k: get_encoding("o200k_base") };
const n = (enc: typeof ref.cl100k, s: string) => enc.encode_ordinary(s).length;

describe("encoding by model", () => {
  const cases: Array<[string, string]> = [
    ["gpt-4o", "o200k_base"],
    ["gpt-4o-2024-08-06", "o200k_base"],
    ["openai/gpt-4o-mini", "o200k_base"],
    ["gpt-4", "cl100k_base"],
    ["gpt-4-0613", "cl100k_base"],
    ["gpt-3.5-turbo-0125", "cl100k_base"],
    ["kt-llama3-1", "p50k_base"], // unknown to tiktoken: the configured fallback
    ["meta-llama/Llama-3-8b", "p50k_base"],
  ];
  for (const [model, enc] of cases)
    it(`${model} -> ${enc}`, () => assert.equal(encodingNameFor(model, "p50k_base"), enc));
});

describe("chat input tokens", () => {
  const enc = counterFor("cl100k_base");
  const messages = [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "안녕하세요! What is the capital of France?" },
  ];

  it("is each message's role and content plus 3 per message plus 3 reply priming", () => {
    const expected = messages.reduce((s, m) => s + 3 + n(ref.cl100k, m.role) + n(ref.cl100k, m.content), 0) + 3;
    assert.equal(chatMessagesTokens(enc, messages), expected);
  });

  it("adds the name's tokens plus one for a named message", () => {
    const named = [{ role: "user", name: "example_user", content: "Hi" }];
    assert.equal(
      chatMessagesTokens(enc, named),
      3 + n(ref.cl100k, "user") + n(ref.cl100k, "example_user") + 1 + n(ref.cl100k, "Hi") + 3,
    );
  });

  it("counts the text parts of a content array and ignores image parts", () => {
    const parts = [
      {
        role: "user",
        content: [
          { type: "text", text: "Describe this" },
          { type: "image_url", image_url: { url: "https://x/y.png" } },
        ],
      },
    ];
    assert.equal(chatMessagesTokens(enc, parts), 3 + n(ref.cl100k, "user") + n(ref.cl100k, "Describe this") + 3);
  });

  it("counts an assistant message's tool calls by function name and arguments", () => {
    const args = '{"city":"Seoul"}';
    const msgs = [
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: args } }],
      },
    ];
    assert.equal(
      chatMessagesTokens(enc, msgs),
      3 + n(ref.cl100k, "assistant") + n(ref.cl100k, "get_weather") + n(ref.cl100k, args) + 3,
    );
  });

  it("adds tool definitions by OpenAI's recipe", () => {
    const tools = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Get the weather.",
          parameters: { type: "object", properties: { city: { type: "string", description: "City name" } } },
        },
      },
    ];
    const expected =
      10 + n(ref.cl100k, "get_weather:Get the weather") + 3 + 3 + n(ref.cl100k, "city:string:City name") + 12;
    assert.equal(toolDefinitionsTokens(enc, tools, false), expected);
    assert.equal(requestTokens(enc, { messages, tools }, false), chatMessagesTokens(enc, messages) + expected);
  });

  it("counts a legacy prompt and an embeddings input array as plain text", () => {
    assert.equal(requestTokens(enc, { prompt: "Say this is a test" }, false), n(ref.cl100k, "Say this is a test"));
    assert.equal(
      requestTokens(enc, { input: ["one two", "three"] }, false),
      n(ref.cl100k, "one two") + n(ref.cl100k, "three"),
    );
  });

  it("does not choke on special-token spellings in user text", () => {
    assert.equal(requestTokens(enc, { prompt: "<|endoftext|>" }, false), n(ref.cl100k, "<|endoftext|>"));
  });
});

describe("output tokens", () => {
  const enc = counterFor("o200k_base");
  const text = "The capital of France is Paris. Its population is about 2.1 million.";

  it("counts a JSON completion's message content", () => {
    const body = { choices: [{ index: 0, message: { role: "assistant", content: text } }] };
    assert.equal(completionTokens(enc, completionOf(JSON.stringify(body))!), n(ref.o200k, text));
  });

  it("reassembles an SSE stream from its data: chunks before counting", () => {
    const pieces = ["The capital", " of France is", " Paris.", " Its population", " is about 2.1 million."];
    const sse =
      pieces
        .map(
          (p, i) =>
            `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content: p } : { content: p } }] })}\n\n`,
        )
        .join("") +
      `: keep-alive\n\ndata: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
    assert.deepEqual(reassembleSse(sse).texts, [text]);
    // counting the joined text differs from summing per-chunk counts; the joined text is what was billed
    assert.equal(completionTokens(enc, completionOf(sse)!), n(ref.o200k, text));
  });

  it("reassembles streamed tool-call arguments", () => {
    const chunks = [
      {
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: "c1", function: { name: "get_weather", arguments: "" } }] },
          },
        ],
      },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Seoul"}' } }] } }] },
    ];
    const sse = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")}data: [DONE]\n\n`;
    assert.deepEqual(reassembleSse(sse).toolCalls, [{ name: "get_weather", arguments: '{"city":"Seoul"}' }]);
    assert.equal(
      completionTokens(enc, completionOf(sse)!),
      n(ref.o200k, "get_weather") + n(ref.o200k, '{"city":"Seoul"}'),
    );
  });

  it("counts Kong 3.7/3.8 streamed responses logged as plain concatenated text", () => {
    assert.equal(completionTokens(enc, completionOf(text)!), n(ref.o200k, text));
  });

  it("counts Anthropic-style streams and content blocks", () => {
    const sse = ["Hello", " world"]
      .map(
        (t) =>
          `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: t } })}\n\n`,
      )
      .join("");
    assert.deepEqual(reassembleSse(sse).texts, ["Hello world"]);
    assert.deepEqual(completionOf({ content: [{ type: "text", text: "Hi" }] })!.texts, ["Hi"]);
  });
});
