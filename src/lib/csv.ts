// CSV for reports people open in spreadsheets.

/**
 * RFC 4180 CSV. A text cell starting with = + - @ is prefixed with ' so that a spreadsheet does not
 * run it as a formula (usernames come from Kong and are not ours to trust).
 */
export function toCsv<R extends object>(rows: R[], columns: readonly (keyof R & string)[]): string {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return "";
    let s = String(v);
    if (typeof v === "string" && /^[=+\-@]/.test(s) && Number.isNaN(Number(s))) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}
