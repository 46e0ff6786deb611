// The TDL matrix as pictures: a day (12 two-hour slots x 10 load levels) and a month (days x
// slots). Each cell is a table cell with its number in text, so it reads without colour; colour
// only adds how busy it was, and a cell past its configured limit is outlined and says so.
import { useState } from "preact/hooks";
import type { CalendarDay, TdlMatrix } from "../../http/contract/types.ts";
import { ApiError } from "../api.ts";
import type { Action } from "./forms.tsx";
import { count, slotHours } from "../format.ts";

const SLOTS = Array.from({ length: 12 }, (_, i) => `T${i + 1}`);
const LEVELS = Array.from({ length: 10 }, (_, i) => i);

/** Five steps of blue; text turns white on the dark ones (contrast over 4.5:1 either way). */
function shade(value: number, max: number): string {
  if (value === 0 || max === 0) return "heat-0";
  return `heat-${Math.min(5, 1 + Math.floor((value / max) * 4.999))}`;
}

/** The input tokens a load level covers: level l is a call reaching l of the bounds. */
function levelRange(level: number, bounds: number[]): string {
  if (level === 0) return `< ${count(bounds[0] ?? 0)}`;
  if (level >= bounds.length) return `≥ ${count(bounds[bounds.length - 1] ?? 0)}`;
  return `${count(bounds[level - 1]!)}–${count(bounds[level]! - 1)}`;
}

function LevelHeads(p: { bounds: number[] }) {
  return (
    <>
      {LEVELS.map((l) => (
        <th scope="col" key={l}>
          Level {l}
          <span class="range">{levelRange(l, p.bounds)} tokens</span>
        </th>
      ))}
    </>
  );
}

export function DayHeatMap(p: { date: string; observed: TdlMatrix; limits: TdlMatrix | null; bounds: number[] }) {
  const max = Math.max(0, ...SLOTS.flatMap((s) => p.observed[s] ?? []));
  return (
    <table class="heat" aria-label={`Calls per slot and load level on ${p.date}`} data-testid="day-heat-map">
      <thead>
        <tr>
          <th scope="col">Slot</th>
          <LevelHeads bounds={p.bounds} />
        </tr>
      </thead>
      <tbody>
        {SLOTS.map((slot, i) => (
          <tr key={slot}>
            <th scope="row">
              {slot} <span class="muted">{slotHours(i)}</span>
            </th>
            {LEVELS.map((level) => {
              const calls = p.observed[slot]?.[level] ?? 0;
              const limit = p.limits?.[slot]?.[level] ?? 0;
              const over = limit > 0 && calls > limit;
              const label = `${slot} level ${level}: ${calls} calls${limit ? ` of ${limit} allowed` : ""}${over ? ", over the limit" : ""}`;
              return (
                <td
                  key={level}
                  class={`${shade(calls, max)}${over ? " over" : ""}`}
                  data-slot={slot}
                  data-level={level}
                  data-calls={calls}
                  data-over={over ? "true" : "false"}
                  title={label}
                  aria-label={label}
                >
                  {calls}
                  {limit > 0 && <span class="limit">/{limit}</span>}
                  {over && (
                    <span class="flag" aria-hidden="true">
                      !
                    </span>
                  )}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MonthHeatMap(p: { month: string; days: CalendarDay[] }) {
  const max = Math.max(0, ...p.days.flatMap((d) => d.calls));
  return (
    <table class="heat month" aria-label={`Calls per day and slot in ${p.month}`} data-testid="month-heat-map">
      <thead>
        <tr>
          <th scope="col">Day</th>
          {SLOTS.map((s) => (
            <th scope="col" key={s}>
              {s}
            </th>
          ))}
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        {p.days.map((d) => (
          <tr key={d.date}>
            <th scope="row">{d.date}</th>
            {d.calls.map((calls, i) => {
              const over = d.over_limit[i]!;
              const label = `${d.date} ${SLOTS[i]}: ${calls} calls${over ? ", a load level over its limit" : ""}`;
              return (
                <td
                  key={i}
                  class={`${shade(calls, max)}${over ? " over" : ""}`}
                  data-date={d.date}
                  data-slot={SLOTS[i]}
                  data-calls={calls}
                  data-over={over ? "true" : "false"}
                  title={label}
                  aria-label={label}
                >
                  {calls}
                  {over && (
                    <span class="flag" aria-hidden="true">
                      !
                    </span>
                  )}
                </td>
              );
            })}
            <td class="total">{d.calls.reduce((a, b) => a + b, 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The TDL limits edited on the day's grid: one number per slot and level (0: no limit), with the
 * day's calls beside each for reference. Saving sends the whole matrix; a refusal naming a slot
 * marks its row.
 */
export function LimitsGrid(p: {
  limits: TdlMatrix;
  observed: TdlMatrix;
  bounds: number[];
  save: Action<[TdlMatrix]>;
  onCancel: () => void;
}) {
  const [m, setM] = useState<TdlMatrix>(() =>
    Object.fromEntries(SLOTS.map((s) => [s, LEVELS.map((l) => p.limits[s]?.[l] ?? 0)])),
  );
  const [text, setText] = useState<Record<string, string>>({});
  const bad = p.save.error instanceof ApiError ? p.save.error.field : undefined;
  const set = (slot: string, level: number, v: string) => {
    setText({ ...text, [`${slot}.${level}`]: v });
    const n = Number(v);
    setM({ ...m, [slot]: m[slot]!.map((x, i) => (i === level ? (v.trim() === "" ? 0 : n) : x)) });
  };
  return (
    <form
      aria-label="Edit the TDL limits"
      onSubmit={(e) => {
        e.preventDefault();
        void p.save.run(m);
      }}
    >
      {p.save.error && (
        <p class="error" role="alert">
          {p.save.error.message}
        </p>
      )}
      <table class="heat edit" aria-label="TDL limits per slot and load level (0: no limit)" data-testid="limits-grid">
        <thead>
          <tr>
            <th scope="col">Slot</th>
            <LevelHeads bounds={p.bounds} />
          </tr>
        </thead>
        <tbody>
          {SLOTS.map((slot, i) => (
            <tr key={slot} class={bad?.startsWith(`metadata.tdl_matrix.${slot}`) ? "invalid" : ""}>
              <th scope="row">
                {slot} <span class="muted">{slotHours(i)}</span>
              </th>
              {LEVELS.map((level) => (
                <td key={level}>
                  <input
                    type="number"
                    min={0}
                    step={1}
                    inputMode="numeric"
                    aria-label={`${slot} level ${level} limit (${p.observed[slot]?.[level] ?? 0} calls that day)`}
                    data-slot={slot}
                    data-level={level}
                    value={text[`${slot}.${level}`] ?? String(m[slot]![level])}
                    onInput={(e) => set(slot, level, (e.target as HTMLInputElement).value)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <button type="submit" disabled={p.save.busy}>
        {p.save.busy ? "Working…" : "Save TDL limits"}
      </button>{" "}
      <button type="button" onClick={p.onCancel}>
        Cancel
      </button>
    </form>
  );
}
