// CSV for reports people open in spreadsheets.

/**
 * What a spreadsheet may run as a formula: a cell whose first character is = + - @ (or their
 * full-width forms), also behind leading spaces or control characters, or a cell that starts with
 * a TAB or CR at all (OWASP's CSV injection list). Plain numbers ("-1") are not formulas.
 */
const FORMULA = /^[\s\p{Cc}]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/u;
const mayRunAsFormula = (s: string): boolean =>
  (FORMULA.test(s) || /^[\t\r]/.test(s)) && !(s.trim() !== "" && Number.isFinite(Number(s)));

/**
 * RFC 4180 CSV. A text cell a spreadsheet could run as a formula is prefixed with ' (usernames and
 * model names come from Kong and are not ours to trust).
 */
export function toCsv<R extends object>(rows: R[], columns: readonly (keyof R & string)[]): string {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return "";
    let s = String(v);
    if (typeof v === "string" && mayRunAsFormula(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n")}\r\n`;
}
