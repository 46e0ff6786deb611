// A usage event stores our counted and the provider's input and output in their own columns; its
// figures column keeps only the rest (lower-bound marks, estimates, other token types, Kong's
// events), and NULL when there is no rest. Most calls then store no figures at all.
import type { SourceFigures } from "../domain/billing-policy.ts";

/** The columns that hold the counted and provider sources' input and output. */
export type FigureColumns = {
  countedInputTokens?: number | null;
  countedOutputTokens?: number | null;
  providerInputTokens?: number | null;
  providerOutputTokens?: number | null;
};

const IN_COLUMNS = {
  counted: ["countedInputTokens", "countedOutputTokens"],
  provider: ["providerInputTokens", "providerOutputTokens"],
} as const;
type SourceWithColumns = keyof typeof IN_COLUMNS;
const hasColumns = (s: string): s is SourceWithColumns => s in IN_COLUMNS;
type Figures = Record<string, Record<string, unknown>>;

/** What the figures column stores: every figure the columns do not hold (null: none). */
export function figuresToStore(figures: SourceFigures, columns: FigureColumns): SourceFigures | null {
  const rest: Figures = {};
  for (const [source, f] of Object.entries(figures as Figures)) {
    if (!f) continue;
    const kept = { ...f };
    if (hasColumns(source)) {
      const [input, output] = IN_COLUMNS[source];
      if (kept.input !== undefined && kept.input === columns[input]) delete kept.input;
      if (kept.output !== undefined && kept.output === columns[output]) delete kept.output;
    }
    if (Object.keys(kept).length > 0) rest[source] = kept;
  }
  return Object.keys(rest).length > 0 ? (rest as SourceFigures) : null;
}

/** Every source's figures of a stored call: the column's rest with the columns' input and output put back. */
export function storedFigures(rest: unknown, columns: FigureColumns): SourceFigures {
  const out: Figures = {};
  for (const source of Object.keys(IN_COLUMNS) as SourceWithColumns[]) {
    const [input, output] = IN_COLUMNS[source];
    const f: Record<string, unknown> = {};
    if (columns[input] !== null && columns[input] !== undefined) f.input = columns[input];
    if (columns[output] !== null && columns[output] !== undefined) f.output = columns[output];
    if (Object.keys(f).length > 0) out[source] = f;
  }
  for (const [source, f] of Object.entries((rest ?? {}) as Figures)) out[source] = { ...out[source], ...f };
  return out as SourceFigures;
}
