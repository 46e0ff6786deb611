import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  endedPeriods,
  isPeriodKey,
  localMidnight,
  periodContaining,
  periodOfKey,
} from "../../src/domain/billing-period.ts";
import { minorUnitDigits, roundToMinorUnit } from "../../src/domain/money.ts";
import { buildLines, subtotalOf } from "../../src/billing/invoice-lines.ts";

const iso = (d: Date) => d.toISOString();
const HOUR = 3_600_000;

describe("billing period bounds", () => {
  it("a Seoul month starts at local midnight, 15:00 UTC the day before", () => {
    const p = periodOfKey("2026-11-01", "monthly", "Asia/Seoul");
    assert.equal(iso(p.startsAt), "2026-10-31T15:00:00.000Z");
    assert.equal(iso(p.endsAt), "2026-11-30T15:00:00.000Z");
  });

  it("a New York month across spring forward is one hour shorter than 31 days", () => {
    const p = periodOfKey("2026-03-01", "monthly", "America/New_York");
    assert.equal(iso(p.startsAt), "2026-03-01T05:00:00.000Z"); // EST
    assert.equal(iso(p.endsAt), "2026-04-01T04:00:00.000Z"); // EDT
    assert.equal(p.endsAt.getTime() - p.startsAt.getTime(), 31 * 24 * HOUR - HOUR);
  });

  it("a New York month across fall back is one hour longer than 30 days", () => {
    const p = periodOfKey("2026-11-01", "monthly", "America/New_York");
    assert.equal(iso(p.startsAt), "2026-11-01T04:00:00.000Z");
    assert.equal(iso(p.endsAt), "2026-12-01T05:00:00.000Z");
    assert.equal(p.endsAt.getTime() - p.startsAt.getTime(), 30 * 24 * HOUR + HOUR);
  });

  it("daylight-saving days are 23 and 25 hours long", () => {
    const spring = periodOfKey("2026-03-08", "daily", "America/New_York");
    const fall = periodOfKey("2026-11-01", "daily", "America/New_York");
    assert.equal(spring.endsAt.getTime() - spring.startsAt.getTime(), 23 * HOUR);
    assert.equal(fall.endsAt.getTime() - fall.startsAt.getTime(), 25 * HOUR);
  });

  it("weeks start on Monday; February has its real length; leap years too", () => {
    assert.equal(periodContaining(new Date("2026-11-26T12:00:00Z"), "weekly", "UTC").key, "2026-11-23");
    assert.equal(periodContaining(new Date("2026-11-23T00:00:00Z"), "weekly", "UTC").key, "2026-11-23");
    assert.equal(periodContaining(new Date("2026-11-22T23:59:59Z"), "weekly", "UTC").key, "2026-11-16");
    assert.equal(iso(periodOfKey("2026-02-01", "monthly", "UTC").endsAt), "2026-03-01T00:00:00.000Z");
    assert.equal(iso(periodOfKey("2028-02-01", "monthly", "UTC").endsAt), "2028-03-01T00:00:00.000Z");
    assert.equal(
      periodOfKey("2028-02-01", "monthly", "UTC").endsAt.getTime() -
        periodOfKey("2028-02-01", "monthly", "UTC").startsAt.getTime(),
      29 * 24 * HOUR,
    );
  });

  it("an instant on the boundary belongs to the period it starts", () => {
    assert.equal(periodContaining(new Date("2026-10-31T15:00:00Z"), "monthly", "Asia/Seoul").key, "2026-11-01");
    assert.equal(periodContaining(new Date("2026-10-31T14:59:59.999Z"), "monthly", "Asia/Seoul").key, "2026-10-01");
  });

  it("ended periods run from the one containing the first event up to now", () => {
    const keys = endedPeriods(
      new Date("2026-09-15T00:00:00Z"),
      new Date("2026-11-30T15:00:00Z"),
      "monthly",
      "Asia/Seoul",
    ).map((p) => p.key);
    assert.deepEqual(keys, ["2026-09-01", "2026-10-01", "2026-11-01"]);
  });

  it("period keys are period starts", () => {
    assert.equal(isPeriodKey("2026-11-01", "monthly"), true);
    assert.equal(isPeriodKey("2026-11-02", "monthly"), false);
    assert.equal(isPeriodKey("2026-11-23", "weekly"), true);
    assert.equal(isPeriodKey("2026-11-24", "weekly"), false);
    assert.equal(isPeriodKey("2026-13-01", "daily"), false);
  });

  it("a zone whose clocks skip midnight starts the day at its first instant", () => {
    // Santiago, 2026-09-06: clocks jump from 00:00 to 01:00
    const t = localMidnight("2026-09-06", "America/Santiago");
    assert.equal(
      new Intl.DateTimeFormat("en-CA", {
        timeZone: "America/Santiago",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(t),
      "2026-09-06",
    );
    assert.ok(t.getTime() - HOUR < localMidnight("2026-09-06", "America/Santiago").getTime());
  });
});

describe("rounding once to the currency's minor unit", () => {
  it("knows minor units", () => {
    assert.equal(minorUnitDigits("USD"), 2);
    assert.equal(minorUnitDigits("KRW"), 0);
    assert.equal(minorUnitDigits("BHD"), 3);
  });
  it("half_up and half_even differ only on ties", () => {
    assert.equal(roundToMinorUnit("0.125", "USD", "half_up").toFixed(), "0.13");
    assert.equal(roundToMinorUnit("0.125", "USD", "half_even").toFixed(), "0.12");
    assert.equal(roundToMinorUnit("0.124999999999", "USD", "half_up").toFixed(), "0.12");
    assert.equal(roundToMinorUnit("1234.5", "KRW", "half_up").toFixed(), "1235");
  });
});

describe("invoice lines", () => {
  const u = (model: string, inP: string | null, outP: string | null, i: bigint, o: bigint) => ({
    model,
    p_input: inP,
    p_cached_input: inP,
    p_cache_write: inP,
    p_output: outP,
    p_reasoning: outP,
    q_input: i,
    q_cached_input: 0n,
    q_cache_write: 0n,
    q_output: o,
    q_reasoning: 0n,
  });

  it("one line per model, direction and price; amount = quantity x price exactly", () => {
    const lines = buildLines(
      [
        u("gpt-4o", "0.000000083", "0.00000033", 1000n, 500n),
        u("gpt-4o", "0.0000001", "0.00000033", 10n, 5n),
        u("gpt-4o-mini", "0.00000005", "0.0000002", 7n, 0n),
      ],
      [],
    );
    assert.deepEqual(
      lines.map((l) => [l.position, l.model, l.direction, l.quantity, l.unitPrice.toFixed(), l.amount.toFixed()]),
      [
        [1, "gpt-4o", "input", 1000n, "0.000000083", "0.000083"],
        [2, "gpt-4o", "input", 10n, "0.0000001", "0.000001"],
        [3, "gpt-4o", "output", 505n, "0.00000033", "0.00016665"],
        [4, "gpt-4o-mini", "input", 7n, "0.00000005", "0.00000035"],
      ],
    );
    assert.equal(subtotalOf(lines).toFixed(), "0.000251"); // 0.000083 + 0.000001 + 0.00016665 + 0.00000035
  });

  it("late events become adjustment lines after the current ones, naming their period and events", () => {
    const late = [
      {
        ...u("gpt-4o", "0.000001", "0.000002", 3n, 4n),
        id: "e2",
        periodId: "p-oct",
        periodStartsAt: new Date("2026-10-01T00:00:00Z"),
      },
      {
        ...u("gpt-4o", "0.000001", "0.000002", 1n, 0n),
        id: "e1",
        periodId: "p-oct",
        periodStartsAt: new Date("2026-10-01T00:00:00Z"),
      },
    ];
    const lines = buildLines([u("gpt-4o", "0.000001", "0.000002", 1n, 1n)], late);
    assert.deepEqual(
      lines.map((l) => [l.direction, l.quantity, l.adjustsPeriodId, l.adjustsEventIds]),
      [
        ["input", 1n, null, []],
        ["output", 1n, null, []],
        ["input", 4n, "p-oct", ["e1", "e2"]],
        ["output", 4n, "p-oct", ["e2"]],
      ],
    );
  });
});
