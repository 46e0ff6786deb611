// Credentials never survive redaction, whatever their shape: strings, arrays of header values,
// nested objects, at any depth, in JSON or in text that is not JSON (cut off anywhere).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringifyJson } from "../../src/domain/json.ts";
import { REDACTED, redactDeep, redactPayload, redactText } from "../../src/ingest/redact.ts";

const keys = new Set(["apikey", "x-api-key", "cookie", "authorization"]);
const SECRET = "S3CR3T-9f8e7d";

describe("redaction of credentials", () => {
  it("replaces a credential key's value at any depth and of any shape", () => {
    const entry = {
      request: { headers: { "X-Api-Key": [SECRET, SECRET], cookie: { a: SECRET } }, uri: `/chat?apikey=${SECRET}&q=1` },
      custom: [[{ deep: { Authorization: `Bearer ${SECRET}` } }]],
    };
    redactDeep(entry, keys);
    assert.ok(!JSON.stringify(entry).includes(SECRET));
    assert.deepEqual(entry.request.headers, { "X-Api-Key": REDACTED, cookie: REDACTED });
    assert.equal(entry.request.uri, "/chat?apikey=REDACTED&q=1");
  });

  it("redacts credentials inside a logged JSON body, leaving every other byte of it as logged", () => {
    const withKey = `{"model": "gpt-4o",  "messages":[{"role":"user","content":"hi \\"there\\""}], "apikey": "${SECRET}"}`;
    const clean = `{"model": "gpt-4o",  "messages":[{"role":"user","content":"say \\"apikey\\" please"}]}`;
    const entry = { ai: { proxy: { payload: { request: withKey, response: clean } } } };
    redactDeep(entry, keys);
    assert.ok(!JSON.stringify(entry).includes(SECRET));
    assert.equal(
      entry.ai.proxy.payload.request,
      withKey.replace(`"${SECRET}"`, `"${REDACTED}"`),
      "only the value changed",
    );
    assert.equal(entry.ai.proxy.payload.response, clean, "a body without a credential is untouched, byte for byte");
  });

  it("the default keys cover tokens and provider keys beyond the API key headers", async () => {
    const { loadConfig } = await import("../../src/config.ts");
    const defaults = loadConfig({}).ingest.redactKeys;
    const entry: Record<string, unknown> = Object.fromEntries(
      ["jwt", "access_token", "id_token", "key", "x-goog-api-key", "x-amz-security-token"].map((k) => [k, SECRET]),
    );
    redactDeep(entry, defaults);
    assert.ok(!JSON.stringify(entry).includes(SECRET), JSON.stringify(entry));
  });

  it("redacts arrays and objects in text that is not valid JSON, even cut off inside them", () => {
    const text = `{"request":{"headers":{"apikey":["${SECRET}","${SECRET}"],"cookie":{"s":"${SECRET}"},"x":1},"body":"{\\"apikey\\": 1}","more":[{"apikey":"${SECRET}`;
    const out = redactText(text, keys);
    assert.ok(!out.includes(SECRET), out);
    assert.ok(out.includes('"x":1'), "other fields are kept");
  });

  it("handles a body nested far too deep for recursion", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}{"apikey":"${SECRET}"}${"]".repeat(100_000)}`) as unknown;
    redactDeep(deep, keys);
    assert.ok(!stringifyJson(deep).includes(SECRET));
  });

  // A secret planted under a credential key somewhere in generated JSON; the text is then cut at
  // any point. Whatever survives the cut, the secret does not survive redaction.
  it("no secret survives, whatever the structure or where the text is cut (property)", () => {
    const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
    const withSecret = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc
          .record({
            key: fc.constantFrom("apikey", "X-API-KEY", "Cookie", "authorization"),
            value: fc.constantFrom<unknown>(SECRET, [SECRET, "x"], { v: SECRET }, [[{ a: SECRET }]]),
          })
          .map(({ key, value }) => ({ [key]: value })),
        fc
          .tuple(
            fc.string({ maxLength: 6 }),
            tie("node"),
            fc.dictionary(fc.string({ maxLength: 4 }), leaf, { maxKeys: 2 }),
          )
          .map(([k, child, rest]) => ({ ...rest, [`k${k}`]: child })),
        fc.tuple(tie("node"), fc.array(leaf, { maxLength: 3 })).map(([child, rest]) => [...rest, child]),
      ),
    })).node;
    fc.assert(
      fc.property(withSecret, fc.double({ min: 0, max: 1, noNaN: true }), (value, cutAt) => {
        const text = JSON.stringify(value);
        const cut = text.slice(0, Math.floor(text.length * cutAt));
        for (const t of [text, cut]) {
          const out = redactPayload(Buffer.from(t), keys).toString();
          if (out.includes(SECRET)) return false;
        }
        return true;
      }),
      { numRuns: 500, seed: 42 },
    );
  });
});
