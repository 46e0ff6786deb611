// The output cap a request sets, read as the upstream APIs read it: every spelling, every kind of
// number. A cap is either refused with the field named, or a whole number at least as large as
// anything an upstream could take from the body.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  CHOICE_FIELDS,
  MAX_CHOICES,
  MAX_OUTPUT_CAP,
  OUTPUT_CAP_FIELDS,
  outputCapOf,
} from "../../src/authorize/output-cap.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);

/** Sets `path` (dotted) in a copy of `body`. */
function put(body: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split(".");
  if (rest.length === 0) return { ...body, [head!]: value };
  const inner = (typeof body[head!] === "object" && body[head!] !== null ? body[head!] : {}) as Record<string, unknown>;
  return { ...body, [head!]: put(inner, rest.join("."), value) };
}

/** What a lenient upstream reads from a value: a JSON number as is, a string of digits as its number. */
function lenientRead(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

describe("output cap", () => {
  it("refuses negatives, zero, fractions, non-numbers and out-of-range values, naming the field", () => {
    const cases: Array<[string, unknown]> = [
      ["max_tokens", -1],
      ["max_tokens", -4096],
      ["max_tokens", 0],
      ["max_tokens", -0],
      ["max_completion_tokens", 10.5],
      ["max_output_tokens", "12.5"],
      ["max_tokens", "-5"],
      ["max_tokens", "1e3"],
      ["max_tokens", "0x10"],
      ["max_tokens", ""],
      ["max_tokens", true],
      ["max_tokens", [100]],
      ["max_tokens", { n: 1 }],
      ["max_tokens", 2 ** 31],
      ["max_tokens", 1e300],
      ["options.num_predict", -1],
      ["n_predict", -2],
      ["generationConfig.maxOutputTokens", -1],
      ["inferenceConfig.maxTokens", 0.5],
      ["n", 0],
      ["n", -3],
      ["n", MAX_CHOICES + 1],
      ["best_of", 1.5],
    ];
    for (const [field, value] of cases) {
      const cap = outputCapOf(put({ model: "gpt-4o" }, field, value));
      assert.equal(cap.kind, "invalid", `${field}=${JSON.stringify(value)} gave ${JSON.stringify(cap)}`);
      assert.equal(cap.kind === "invalid" && cap.field, field);
      assert.ok(cap.kind === "invalid" && cap.message.startsWith(field));
    }
  });

  it("reads whole numbers in every spelling and holds the largest of several fields", () => {
    assert.deepEqual(outputCapOf({ max_tokens: 100 }), { kind: "bounded", tokens: 100, choices: 1 });
    assert.deepEqual(outputCapOf({ max_tokens: " 100 " }), { kind: "bounded", tokens: 100, choices: 1 });
    assert.deepEqual(outputCapOf(JSON.parse('{"max_tokens": 1e3}')), { kind: "bounded", tokens: 1000, choices: 1 });
    assert.deepEqual(outputCapOf({ max_tokens: 10, max_completion_tokens: 50_000 }), {
      kind: "bounded",
      tokens: 50_000,
      choices: 1,
    });
    assert.deepEqual(outputCapOf({ generationConfig: { maxOutputTokens: 64, candidateCount: 3 } }), {
      kind: "bounded",
      tokens: 64,
      choices: 3,
    });
    assert.deepEqual(outputCapOf({ max_tokens: null, n: 2 }), { kind: "absent", choices: 2 });
    assert.deepEqual(outputCapOf(undefined), { kind: "absent", choices: 1 });
  });

  it("property: any values under any cap and choice fields are refused, or bounded above whatever an upstream reads", () => {
    const value = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.integer(),
      fc.double(),
      fc.constantFrom(-0, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e21),
      fc.integer().map(String),
      fc.double().map(String),
      fc.string(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    const fields = fc.uniqueArray(fc.tuple(fc.constantFrom(...OUTPUT_CAP_FIELDS, ...CHOICE_FIELDS), value), {
      selector: ([f]) => f,
      maxLength: 4,
    });
    fc.assert(
      fc.property(fields, (pairs) => {
        const body = pairs.reduce((b, [f, v]) => put(b, f, v), { model: "m" } as Record<string, unknown>);
        const cap = outputCapOf(body);
        if (cap.kind === "invalid") return;
        assert.ok(Number.isInteger(cap.choices) && cap.choices >= 1 && cap.choices <= MAX_CHOICES);
        for (const [field, v] of pairs) {
          const read = lenientRead(v);
          if (v === null) continue;
          assert.ok(read !== undefined && read >= 1, `${field}=${JSON.stringify(v)} passed`);
          const bound = (CHOICE_FIELDS as readonly string[]).includes(field)
            ? cap.choices
            : cap.kind === "bounded"
              ? cap.tokens
              : -1;
          assert.ok(read <= bound, `${field}=${JSON.stringify(v)} reads above the bound ${bound}`);
        }
        if (cap.kind === "bounded")
          assert.ok(Number.isInteger(cap.tokens) && cap.tokens >= 1 && cap.tokens <= MAX_OUTPUT_CAP);
      }),
      { numRuns: runs * 10 },
    );
  });
});
