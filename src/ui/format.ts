// Numbers, money and times as the dashboard shows them. Money is formatted from the API's exact
// decimal string by Intl.NumberFormat (src/domain/money-format.ts): the minor unit for amounts,
// full precision for unit prices, never rounded through a float.
export { formatExactMoney as exactMoney, formatMoney as money } from "../domain/money-format.ts";

/** A count for people; null (no such limit) reads as a dash. */
export const count = (n: number | string | null) => (n === null ? "—" : Number(n).toLocaleString("en-US"));

export function instant(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    dateStyle: "short",
    timeStyle: "short",
    hourCycle: "h23",
  }).format(new Date(iso));
}

/** A two-hour slot's local hours: T1 is 00:00–02:00. */
export const slotHours = (i: number) => `${String(i * 2).padStart(2, "0")}:00–${String(i * 2 + 2).padStart(2, "0")}:00`;

export function todayIn(timeZone: string): string {
  return new Date().toLocaleDateString("en-CA", { timeZone });
}
