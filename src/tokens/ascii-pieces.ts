// tiktoken's pre-tokenizer for text with no character above U+007F, written out by hand. On ASCII
// the patterns' classes come down to a few ranges (letters A-Z a-z, digits, six white-space
// characters), and a scan over character codes finds each piece's end as the regex does (the same
// alternatives, leftmost first, with the same backtracking) without building a match per piece.
// Each function answers where the piece starting at `i` ends.

/** Where the piece starting at `i` of `t` ends. */
export type PieceEnd = (t: string, i: number) => number;

const isUpper = (c: number) => c >= 65 && c <= 90;
const isLower = (c: number) => c >= 97 && c <= 122;
const isLetter = (c: number) => isUpper(c) || isLower(c);
const isDigit = (c: number) => c >= 48 && c <= 57;
/** Rust's `\s` on ASCII: tab, line feed, vertical tab, form feed, carriage return, space. */
const isSpace = (c: number) => (c >= 9 && c <= 13) || c === 32;
const isNewline = (c: number) => c === 10 || c === 13;
/** `[^\r\n\p{L}\p{N}]`: what may stand before a word. */
const isWordPrefix = (c: number) => !isNewline(c) && !isLetter(c) && !isDigit(c);
/** `[^\s\p{L}\p{N}]`: punctuation and symbols. */
const isSymbol = (c: number) => !isSpace(c) && !isLetter(c) && !isDigit(c);

/** `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`: its end, or `i` when there is none. */
function contractionEnd(t: string, i: number): number {
  if (t.charCodeAt(i) !== 39) return i;
  const a = t.charCodeAt(i + 1) | 32; // lower case (NaN past the end becomes 32: no letter)
  if (a === 115 || a === 116 || a === 109 || a === 100) return i + 2; // s t m d
  const b = t.charCodeAt(i + 2) | 32;
  if ((a === 114 && b === 101) || (a === 118 && b === 101) || (a === 108 && b === 108)) return i + 3; // re ve ll
  return i;
}

/** `\s*[\r\n]+|\s+(?!\S)|\s+` at `i`, which is white space. */
function spaceEnd(t: string, i: number): number {
  const n = t.length;
  let end = i;
  let lastNewline = -1;
  while (end < n && isSpace(t.charCodeAt(end))) {
    if (isNewline(t.charCodeAt(end))) lastNewline = end;
    end++;
  }
  if (lastNewline >= 0) return lastNewline + 1;
  if (end === n || end - i < 2) return end;
  return end - 1; // the last space goes with the word after it
}

/** The end of the run of symbols at `start`, then of the characters in `trail` (`[\r\n]*` or `[\r\n/]*`). */
function symbolsEnd(t: string, start: number, slashes: boolean): number {
  const n = t.length;
  let k = start;
  while (k < n && isSymbol(t.charCodeAt(k))) k++;
  for (let c = t.charCodeAt(k); k < n && (isNewline(c) || (slashes && c === 47)); c = t.charCodeAt(++k));
  return k;
}

const digitsEnd = (t: string, i: number) => {
  let k = i + 1;
  while (k < i + 3 && isDigit(t.charCodeAt(k))) k++;
  return k;
};

/** o200k_base's pattern. */
export function o200kPieceEnd(t: string, i: number): number {
  const n = t.length;
  const c = t.charCodeAt(i);
  // a word, after at most one character that is no letter, digit or line break
  const start = isLetter(c) ? i : isWordPrefix(c) && i + 1 < n && isLetter(t.charCodeAt(i + 1)) ? i + 1 : -1;
  if (start >= 0) {
    let k = start;
    while (k < n && isUpper(t.charCodeAt(k))) k++;
    // [Lu]*[Ll]+ when lower case follows the capitals, else [Lu]+[Ll]* (which then has no lower case)
    while (k < n && isLower(t.charCodeAt(k))) k++;
    return contractionEnd(t, k);
  }
  if (isDigit(c)) return digitsEnd(t, i);
  if (c === 32 && i + 1 < n && isSymbol(t.charCodeAt(i + 1))) return symbolsEnd(t, i + 1, true);
  if (isSymbol(c)) return symbolsEnd(t, i, true);
  return spaceEnd(t, i);
}

/** cl100k_base's pattern. */
export function cl100kPieceEnd(t: string, i: number): number {
  const n = t.length;
  const contraction = contractionEnd(t, i);
  if (contraction > i) return contraction;
  const c = t.charCodeAt(i);
  const start = isLetter(c) ? i : isWordPrefix(c) && i + 1 < n && isLetter(t.charCodeAt(i + 1)) ? i + 1 : -1;
  if (start >= 0) {
    let k = start;
    while (k < n && isLetter(t.charCodeAt(k))) k++;
    return k;
  }
  if (isDigit(c)) return digitsEnd(t, i);
  if (c === 32 && i + 1 < n && isSymbol(t.charCodeAt(i + 1))) return symbolsEnd(t, i + 1, false);
  if (isSymbol(c)) return symbolsEnd(t, i, false);
  return spaceEnd(t, i);
}
