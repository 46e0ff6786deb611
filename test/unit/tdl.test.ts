import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { computeSlot, emptyMatrix, levelOf, localSlotOf, parseMatrix, toMatrix } from "../../src/domain/tdl.ts";

const BOUNDS = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

describe("TDL slot of an instant", () => {
  const cases: Array<[string, string, string, number]> = [
    ["2026-11-24T00:00:00Z", "UTC", "2026-11-24", 0],
    ["2026-11-24T01:59:59.999Z", "UTC", "2026-11-24", 0],
    ["2026-11-24T02:00:00Z", "UTC", "2026-11-24", 1],
    ["2026-11-24T23:59:59Z", "UTC", "2026-11-24", 11],
    // Seoul is UTC+9: 15:30Z is 00:30 of the next local day
    ["2026-11-23T15:30:00Z", "Asia/Seoul", "2026-11-24", 0],
    ["2026-11-23T14:59:59Z", "Asia/Seoul", "2026-11-23", 11],
    // New York spring forward, 2026-03-08: 01:59 EST is followed by 03:00 EDT
    ["2026-03-08T06:59:00Z", "America/New_York", "2026-03-08", 0],
    ["2026-03-08T07:00:00Z", "America/New_York", "2026-03-08", 1],
    ["2026-03-08T07:59:00Z", "America/New_York", "2026-03-08", 1],
    ["2026-03-08T08:00:00Z", "America/New_York", "2026-03-08", 2],
    // fall back, 2026-11-01: 01:00-01:59 happens twice, both in slot 0
    ["2026-11-01T05:30:00Z", "America/New_York", "2026-11-01", 0],
    ["2026-11-01T06:30:00Z", "America/New_York", "2026-11-01", 0],
    ["2026-11-01T07:00:00Z", "America/New_York", "2026-11-01", 1],
  ];
  for (const [iso, tz, date, slot] of cases) {
    it(`${iso} in ${tz} is ${date} slot ${slot}`, () => {
      assert.deepEqual(localSlotOf(new Date(iso), tz), { localDate: date, slot });
    });
  }

  it("every hour of a daylight-saving day lands in an existing slot, spring-forward slot T2 being one hour", () => {
    const counts = Array<number>(12).fill(0);
    for (let t = Date.parse("2026-03-08T05:00:00Z"); t < Date.parse("2026-03-09T04:00:00Z"); t += 3_600_000) {
      const s = localSlotOf(new Date(t), "America/New_York");
      assert.equal(s.localDate, "2026-03-08");
      counts[s.slot]!++;
    }
    assert.deepEqual(counts, [2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  // the per-quarter-hour cache must give what the time zone database gives, around transitions too
  it("the cached slot equals the uncached one for any instant and zone (property)", () => {
    const zones = [
      "UTC",
      "America/New_York",
      "Europe/London",
      "Asia/Kolkata",
      "Asia/Kathmandu",
      "Australia/Lord_Howe",
      "Pacific/Chatham",
      "Asia/Seoul",
      "America/St_Johns",
    ];
    const nearTransitions = fc.constantFrom(
      Date.parse("2026-03-08T07:00:00Z"),
      Date.parse("2026-11-01T06:00:00Z"),
      Date.parse("2026-10-04T15:00:00Z"),
      Date.parse("2026-03-29T01:00:00Z"),
    );
    const instant = fc.oneof(
      fc.integer({ min: Date.parse("1900-01-01T00:00:00Z"), max: Date.parse("2100-01-01T00:00:00Z") }),
      fc.tuple(nearTransitions, fc.integer({ min: -7_200_000, max: 7_200_000 })).map(([t, d]) => t + d),
    );
    fc.assert(
      fc.property(instant, fc.constantFrom(...zones), (t, zone) => {
        const at = new Date(t);
        assert.deepEqual(localSlotOf(at, zone), computeSlot(at, zone));
        assert.deepEqual(localSlotOf(at, zone), computeSlot(at, zone), "a second, cached, look");
      }),
      { numRuns: 3000, seed: Number(process.env.PROPERTY_SEED ?? 20261125) },
    );
  });
});

describe("TDL load level", () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [255, 0],
    [256, 1],
    [511, 1],
    [512, 2],
    [1023, 2],
    [1024, 3],
    [65535, 8],
    [65536, 9],
    [10_000_000, 9],
  ];
  for (const [tokens, level] of cases)
    it(`${tokens} input tokens is level ${level}`, () => assert.equal(levelOf(tokens, BOUNDS), level));
});

describe("TDL matrix shape", () => {
  it("builds the seed's T1..T12 rows of 10 from sparse cells", () => {
    const m = toMatrix([
      { slot: 0, level: 5, value: 3 },
      { slot: 11, level: 9, value: 1 },
    ]);
    assert.deepEqual(Object.keys(m), ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12"]);
    assert.deepEqual(m.T1, [0, 0, 0, 0, 0, 3, 0, 0, 0, 0]);
    assert.deepEqual(m.T12, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it("accepts a partial policy, filling missing rows with zeros (no limit)", () => {
    const m = parseMatrix({ T1: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0] });
    assert.ok(!("error" in m));
    assert.deepEqual(m, { ...emptyMatrix(), T1: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0] });
  });

  it("names the row that is wrong", () => {
    assert.deepEqual(parseMatrix({ T13: Array(10).fill(0) }), {
      error: "unknown slot; slots are T1..T12",
      path: "T13",
    });
    assert.equal((parseMatrix({ T2: [1, 2] }) as { path: string }).path, "T2");
    assert.equal((parseMatrix({ T3: Array(10).fill(-1) }) as { path: string }).path, "T3");
    assert.ok("error" in (parseMatrix([1, 2]) as object));
  });

  it("takes limits from 0 to a billion calls, and refuses past it or past what a double holds exactly", () => {
    const row = (n: number) => ({ T4: [n, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    assert.equal((parseMatrix(row(1_000_000_000)) as Record<string, number[]>).T4![0], 1_000_000_000);
    for (const n of [1_000_000_001, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300])
      assert.deepEqual(
        parseMatrix(row(n)),
        { error: "values must be at most 1,000,000,000 calls", path: "T4" },
        `${n}`,
      );
  });
});
