// tiktoken's pre-tokenizer patterns, translated from Rust regex syntax to an equivalent JavaScript
// RegExp. Three differences need care:
// - Rust's `\s` is Unicode White_Space; JavaScript's also matches U+FEFF and misses U+0085.
// - JavaScript (Node 20) has no inline `(?i:...)`; the contractions are spelled out case by case.
// - `\p{L}`, `\p{N}`, `\p{M}` and the letter cases follow each engine's Unicode tables, and Node's
//   move with Node. Each `\p{X}` keeps Node's property (its fast path) corrected by set operations
//   (the `v` flag) to exactly the class tiktoken's own engine has (unicode-classes.ts, generated
//   from it), so a count never depends on the Node version.
// Both engines are leftmost-first backtracking engines here, so the same pattern splits the same.
import { UNICODE_CLASSES } from "./unicode-classes.ts";

const WS = "\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
// Rust's (?i) folds case the Unicode way: `s` also matches U+017F (long s); no other letter here
// has a third form.
const CONTRACTIONS = "'(?:[sS\u017f]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])";

/**
 * Planes where Unicode assigns letters, marks and numbers (BMP, SMP, SIP, TIP; SSP's variation selectors are marks).
 */
const PLANES = [0, 1, 2, 3, 14];

type ClassName = keyof typeof UNICODE_CLASSES;

function tableMembers(name: ClassName): Set<number> {
  const out = new Set<number>();
  for (const r of UNICODE_CLASSES[name].split(",")) {
    const [a, b = a] = r.split("-").map((h) => parseInt(h, 16)) as [number, number?];
    for (let cp = a; cp <= b!; cp++) out.add(cp);
  }
  return out;
}

let everyCodePoint: string | undefined;
/** The scanned planes' code points in order, as one string (surrogates left out). */
function allCodePoints(): string {
  if (everyCodePoint !== undefined) return everyCodePoint;
  const units: number[] = [];
  for (const plane of PLANES) {
    for (let cp = plane << 16; cp < (plane + 1) << 16; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (cp < 0x10000) units.push(cp);
      else units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    }
  }
  return (everyCodePoint = Buffer.from(Uint16Array.from(units).buffer).toString("utf16le"));
}

const u = (cp: number) => `\\u{${cp.toString(16)}}`;

/**
 * Ascending code points as [first, last] runs: a few ranges keep V8's class matching fast, thousands of single
 * characters do not.
 */
function asRanges(cps: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const cp of [...cps].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}

const corrections = new Map<ClassName, string>();
/** `\p{X}` as a `v`-flag class operand equal to the engine's class: Node's property, plus and minus the differences. */
function pinned(name: ClassName): string {
  const known = corrections.get(name);
  if (known !== undefined) return known;
  const engine = tableMembers(name);
  const node = new Set<number>();
  for (const ch of allCodePoints().replace(new RegExp(`\\P{${name}}+`, "gu"), "")) node.add(ch.codePointAt(0)!);
  const esc = (cps: number[]) =>
    asRanges(cps)
      .map(([a, b]) => (a === b ? u(a) : `${u(a)}-${u(b)}`))
      .join("");
  const extra = [...engine].filter((cp) => !node.has(cp));
  const missing = [...node].filter((cp) => !engine.has(cp));
  let operand = `\\p{${name}}`;
  if (extra.length > 0) operand = `[${operand}${esc(extra)}]`;
  if (missing.length > 0) operand = `[${operand}--[${esc(missing)}]]`;
  corrections.set(name, operand);
  return operand;
}

/** Every `\p{X}` pinned to the engine's class; `/` escaped in classes, as the `v` flag requires. */
function pinUnicodeClasses(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const property = /^\\p\{(\w+)\}/.exec(pattern.slice(i));
      if (property) {
        if (!(property[1]! in UNICODE_CLASSES))
          throw new Error(`no table for \\p{${property[1]}}: add it to scripts/unicode-classes.ts`);
        out += pinned(property[1] as ClassName);
        i += property[0].length - 1;
      } else {
        out += pattern.slice(i, i + 2);
        i++;
      }
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "]") inClass = false;
    out += inClass && ch === "/" ? "\\/" : ch;
  }
  return out;
}

/** Rust regex syntax (as tiktoken's pat_str uses it) -> JavaScript source for a `gv` RegExp. */
function toJsPattern(patStr: string): string {
  return pinUnicodeClasses(patStr)
    .replaceAll("(?i:'s|'t|'re|'ve|'m|'ll|'d)", `(?:${CONTRACTIONS})`)
    .replaceAll("[^\\s", `[^${WS}`)
    .replaceAll("\\s", `[${WS}]`)
    .replaceAll("\\S", `[^${WS}]`);
}

export function pretokenizer(patStr: string): RegExp {
  return new RegExp(toJsPattern(patStr), "gv");
}
