// What authorize reads before counting: image sizes from their first bytes, the providers' image
// formulas, every non-text part in every request format, and the bound on a body's text tokens.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { requestFacts } from "../../src/authorize/request-facts.ts";
import { requestTokens } from "../../src/tokens/chat.ts";
import { counterFor } from "../../src/tokens/counter.ts";
import { imageSize } from "../../src/tokens/image-size.ts";
import { imageTokenBound } from "../../src/tokens/image-tokens.ts";
import { nonTextParts } from "../../src/tokens/non-text-parts.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 200);

function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write("IHDR", 12, "latin1");
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

/** A JPEG whose frame header comes after an APP1 (EXIF) segment of `exifBytes`. */
function jpeg(width: number, height: number, exifBytes = 100): Buffer {
  const app1 = Buffer.alloc(4 + exifBytes);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(exifBytes + 2, 2);
  const sof = Buffer.from([
    0xff,
    0xc2,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app1, sof]);
}

function gif(width: number, height: number): Buffer {
  const b = Buffer.alloc(13);
  b.write("GIF89a", 0, "latin1");
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
}

function webpLossless(width: number, height: number): Buffer {
  const b = Buffer.alloc(30);
  b.write("RIFF", 0, "latin1");
  b.write("WEBPVP8L", 8, "latin1");
  b[20] = 0x2f;
  b.writeUInt32LE(((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14), 21);
  return b;
}

const dataUrl = (b: Buffer, mime = "image/png") => `data:${mime};base64,${b.toString("base64")}`;

describe("image sizes and formulas", () => {
  it("reads width and height from PNG, JPEG (past its metadata), GIF and WebP", () => {
    assert.deepEqual(imageSize(png(1024, 768)), { width: 1024, height: 768 });
    assert.deepEqual(imageSize(jpeg(4000, 3000, 60_000)), { width: 4000, height: 3000 });
    assert.deepEqual(imageSize(gif(320, 200)), { width: 320, height: 200 });
    assert.deepEqual(imageSize(webpLossless(1920, 1080)), { width: 1920, height: 1080 });
    assert.equal(imageSize(Buffer.from("not an image")), undefined);
    assert.equal(imageSize(png(1024, 768).subarray(0, 20)), undefined, "a truncated header gives no size");
  });

  it("bounds an image by its model's formula, and by the largest the formula gives when the size is unknown", () => {
    const cases: Array<
      [string, { width: number; height: number } | undefined, "low" | "high" | "auto", number | undefined]
    > = [
      ["gpt-4o", { width: 1024, height: 1024 }, "high", 85 + 170 * 4], // 768×768: 2×2 tiles
      ["gpt-4o", { width: 2048, height: 4096 }, "auto", 85 + 170 * 6], // 1024×2048 → 768×1536: 2×3 tiles
      ["gpt-4o", { width: 4000, height: 4000 }, "low", 85],
      ["gpt-4o", undefined, "high", 85 + 170 * 8],
      ["gpt-4o-mini", { width: 512, height: 512 }, "high", 2833 + 5667],
      ["gpt-4.1-mini", { width: 64, height: 64 }, "auto", Math.ceil(4 * 1.62)],
      ["gpt-4.1-nano", undefined, "auto", Math.ceil(1536 * 2.46)],
      ["claude-3-5-sonnet", { width: 1000, height: 1000 }, "auto", 1334],
      ["claude-3-5-sonnet", { width: 8000, height: 8000 }, "auto", 1600],
      ["gemini-2.0-flash", { width: 300, height: 300 }, "auto", 258],
      ["gemini-2.0-flash", { width: 1600, height: 900 }, "auto", 258 * 6],
      ["gemini-2.0-flash", undefined, "auto", undefined],
    ];
    for (const [model, size, detail, want] of cases)
      assert.equal(imageTokenBound(model, size, detail), want, `${model} ${JSON.stringify(size)} ${detail}`);
  });

  it("property: no image size is bounded above the figure held for an image of unknown size", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "claude-3-opus", "gemini-1.5-pro"),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (model, w, h, dw, dh) => {
          const unknown = imageTokenBound(model, undefined, "high") ?? Infinity;
          for (const size of [
            { width: w, height: h },
            { width: w + dw, height: h },
            { width: w, height: h + dh },
          ]) {
            const known = imageTokenBound(model, size, "high")!;
            assert.ok(
              known >= 1 && known <= unknown,
              `${model} ${size.width}×${size.height}: ${known}, unknown size ${unknown}`,
            );
          }
        },
      ),
      { numRuns: runs },
    );
  });
});

describe("non-text parts", () => {
  const image = png(512, 512);
  it("finds images, audio and files in every request format, with their bounds", () => {
    const bodies: Array<
      [string, unknown, Partial<Record<"image" | "audio" | "video" | "file", number>>, number, number]
    > = [
      [
        "chat image (data URL)",
        {
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "hi" },
                { type: "image_url", image_url: { url: dataUrl(image), detail: "high" } },
              ],
            },
          ],
        },
        { image: 1 },
        255,
        0,
      ],
      [
        "chat image (URL, size unknown)",
        {
          messages: [
            { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
          ],
        },
        { image: 1 },
        1445,
        0,
      ],
      [
        "chat audio",
        {
          messages: [
            {
              role: "user",
              content: [{ type: "input_audio", input_audio: { data: "A".repeat(4000), format: "wav" } }],
            },
          ],
        },
        { audio: 1 },
        3000,
        0,
      ],
      [
        "chat file by id",
        { messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-abc" } }] }] },
        { file: 1 },
        0,
        1,
      ],
      [
        "responses image and file",
        {
          input: [
            {
              role: "user",
              content: [
                { type: "input_image", image_url: dataUrl(image), detail: "low" },
                { type: "input_file", file_data: `data:application/pdf;base64,${"A".repeat(800)}` },
              ],
            },
          ],
        },
        { image: 1, file: 1 },
        85 + 600,
        0,
      ],
      [
        "anthropic image and text document",
        {
          messages: [
            {
              role: "user",
              content: [
                { type: "image", source: { type: "base64", media_type: "image/png", data: image.toString("base64") } },
                { type: "document", source: { type: "text", media_type: "text/plain", data: "é".repeat(100) } },
              ],
            },
          ],
        },
        { image: 1, file: 1 },
        255 + 200,
        0,
      ],
      [
        "anthropic image in a tool result",
        {
          messages: [
            {
              role: "user",
              content: [
                {
                  type: "tool_result",
                  tool_use_id: "t1",
                  content: [{ type: "image", source: { type: "url", url: "https://example.com/x.jpg" } }],
                },
              ],
            },
          ],
        },
        { image: 1 },
        1445,
        0,
      ],
      [
        "gemini inline and by URI",
        {
          contents: [
            {
              parts: [
                { text: "hi" },
                { inlineData: { mimeType: "image/png", data: image.toString("base64") } },
                { fileData: { mimeType: "video/mp4", fileUri: "gs://b/v.mp4" } },
              ],
            },
          ],
        },
        { image: 1, video: 1 },
        255,
        1,
      ],
      [
        "bedrock image and document",
        {
          messages: [
            {
              role: "user",
              content: [
                { image: { format: "png", source: { bytes: image.toString("base64") } } },
                { document: { format: "pdf", name: "d", source: { bytes: "A".repeat(40) } } },
              ],
            },
          ],
        },
        { image: 1, file: 1 },
        255 + 30,
        0,
      ],
    ];
    for (const [name, body, counts, tokens, unsized] of bodies) {
      const parts = nonTextParts(body, "gpt-4o");
      assert.deepEqual(parts.counts, { image: 0, audio: 0, video: 0, file: 0, ...counts }, name);
      assert.equal(parts.tokens, tokens, name);
      assert.equal(parts.unsized, unsized, name);
    }
  });

  it("bounds an image by the call's model: the same image costs a mini model far more tokens", () => {
    const body = { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: dataUrl(image) } }] }] };
    assert.equal(nonTextParts(body, "gpt-4o").tokens, 255);
    assert.equal(nonTextParts(body, "gpt-4o-mini").tokens, 2833 + 5667);
    assert.equal(nonTextParts(body, "claude-3-haiku").tokens, Math.ceil((512 * 512) / 750));
  });

  it("walks deeply nested bodies without recursion", () => {
    let deep: unknown = { type: "image_url", image_url: { url: "https://example.com/a.png" } };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(nonTextParts({ messages: deep }, "gpt-4o").counts.image, 1);
  });
});

describe("request facts", () => {
  it("tells a body the gateway could not read from an empty one and from one that is not JSON", () => {
    assert.equal(requestFacts({ body: null }).body, "missing");
    assert.equal(requestFacts({ body: undefined }).body, "empty");
    assert.equal(requestFacts({ body: "" }).body, "empty");
    const text = requestFacts({ body: "plain words, not JSON", model: "gpt-4o" });
    assert.deepEqual([text.body, text.textBoundTokens, text.model], ["text", 21, "gpt-4o"]);
    const json = requestFacts({ body: JSON.stringify({ model: "gpt-4o", max_tokens: 5, messages: [] }) });
    assert.deepEqual(
      [json.body, json.model, json.outputCap],
      ["json", "gpt-4o", { kind: "bounded", tokens: 5, choices: 1 }],
    );
  });

  const text = fc.oneof(
    ...(["grapheme", "binary", "grapheme-ascii"] as const).map((unit) => fc.string({ unit, maxLength: 300 })),
  );
  const message = fc.record({
    role: fc.constantFrom("system", "user", "assistant", "tool"),
    content: fc.oneof(
      text,
      fc.array(
        fc.oneof(
          fc.record({ type: fc.constant("text"), text }),
          fc.constant({ type: "image_url", image_url: { url: dataUrl(png(64, 64)) } }),
        ),
        { maxLength: 4 },
      ),
    ),
    name: fc.option(text, { nil: undefined }),
  });
  const tool = fc.record({
    type: fc.constant("function"),
    function: fc.record({
      name: text,
      description: text,
      parameters: fc.constant({
        type: "object",
        properties: { a: { type: "string", description: "x", enum: ["p", "q"] } },
      }),
    }),
  });

  it("property: a body's counted text tokens never exceed its text bound, media excluded", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("gpt-4o", "gpt-4"),
        fc.array(message, { maxLength: 6 }),
        fc.array(tool, { maxLength: 2 }),
        (model, messages, tools) => {
          const body = { model, messages, ...(tools.length ? { tools } : {}) };
          const facts = requestFacts({ body: JSON.stringify(body) });
          const o200k = model === "gpt-4o";
          const counted = requestTokens(counterFor(o200k ? "o200k_base" : "cl100k_base"), facts.json, o200k)!;
          assert.ok(counted <= facts.textBoundTokens, `${counted} tokens counted, bound ${facts.textBoundTokens}`);
        },
      ),
      { numRuns: runs },
    );
  });
});
