// The TDL matrix as pictures: a day (12 two-hour slots x 10 load levels) and a month (days x
// slots). Each cell is a table cell with its number in text, so it reads without colour; colour
// only adds how busy it was, and a cell past its configured limit is outlined and says so.
import type { CalendarDay, TdlMatrix } from "../../http/contract/types.ts";
import { slotHours } from "../format.ts";

const SLOTS = Array.from({ length: 12 }, (_, i) => `T${i + 1}`);
const LEVELS = Array.from({ length: 10 }, (_, i) => i);

/** Five steps of blue; text turns white on the dark ones (contrast over 4.5:1 either way). */
function shade(value: number, max: number): string {
  if (value === 0 || max === 0) return "heat-0";
  return `heat-${Math.min(5, 1 + Math.floor((value / max) * 4.999))}`;
}

export function DayHeatMap(p: { date: string; observed: TdlMatrix; limits: TdlMatrix | null }) {
  const max = Math.max(0, ...SLOTS.flatMap((s) => p.observed[s] ?? []));
  return (
    <table class="heat" aria-label={`Calls per slot and load level on ${p.date}`} data-testid="day-heat-map">
      <thead>
        <tr>
          <th scope="col">Slot</th>
          {LEVELS.map((l) => (
            <th scope="col" key={l}>
              Level {l}
            </th>
          ))}
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
