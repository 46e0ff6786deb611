// Counts tokens exactly as tiktoken's encode_ordinary does (its ranks, its pre-tokenizer), in time
// close to linear in the text for any input, and within a time budget when one is given.
import { mergeCount, type Checkpoint } from "./bpe.ts";
import { cl100kPieceEnd, o200kPieceEnd, type PieceEnd } from "./ascii-pieces.ts";
import { PieceCounts, TextCounts } from "./count-cache.ts";
import { pretokenizer } from "./pretokenize.ts";
import { loadEncoding, type EncodingName } from "./ranks.ts";

export type { EncodingName } from "./ranks.ts";

/** What the chat and response recipes need: the tokens of one text. */
export type TextCounter = { count(text: string): number };

/** Thrown when counting passes its deadline; callers fall back (see tokenize and authorize). */
export class CountBudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`token counting took longer than its budget of ${budgetMs} ms`);
    this.name = "CountBudgetExceeded";
  }
}

const ASCII = /^[\x00-\x7f]*$/;
const NON_ASCII = /[^\x00-\x7f]/g;
const ASCII_SCANNERS: Partial<Record<EncodingName, PieceEnd>> = {
  o200k_base: o200kPieceEnd,
  cl100k_base: cl100kPieceEnd,
};
/** How many pieces are counted between two looks at the clock. */
const CHECK_EVERY = 512;
/** Pieces longer than this are rare and not worth keeping. */
const CACHED_PIECE_MAX = 32;
const PIECE_CACHE_ENTRIES = 100_000;
/** Texts from this length are looked up by content hash (a resent chat message costs a hash, not a count). */
const TEXT_CACHE_FROM = 256;
const TEXT_CACHE_ENTRIES = 50_000;

export class TokenCounter implements TextCounter {
  private readonly pattern: RegExp;
  /** The pattern written out for ASCII text, where one is (o200k_base and cl100k_base). */
  private readonly asciiPieceEnd: PieceEnd | undefined;
  /** The pattern matching only where it is asked to (lastIndex), beside the scanner. */
  private readonly stickyPattern: RegExp;
  /** Null when turned off (the benchmark measures with and without). */
  readonly pieces: PieceCounts | null;
  readonly texts: TextCounts | null;

  constructor(
    readonly name: EncodingName,
    private readonly ranks: Map<string, number>,
    patStr: string,
    caches: { pieces?: boolean; texts?: boolean } = {},
  ) {
    this.pattern = pretokenizer(patStr);
    this.asciiPieceEnd = ASCII_SCANNERS[name];
    this.stickyPattern = new RegExp(this.pattern.source, "yv");
    this.pieces = caches.pieces === false ? null : new PieceCounts(PIECE_CACHE_ENTRIES);
    this.texts = caches.texts === false ? null : new TextCounts(TEXT_CACHE_ENTRIES);
  }

  /**
   * Tokens of `text`; special-token spellings count as ordinary text. Lone surrogates count as
   * U+FFFD, as tiktoken receives them. Past `deadline` (performance.now() time) it throws
   * CountBudgetExceeded.
   */
  count(text: string, deadline = Infinity, budgetMs = 0): number {
    if (!this.texts || text.length < TEXT_CACHE_FROM) return this.countPieces(text, deadline, budgetMs);
    const key = TextCounts.keyOf(text);
    const known = this.texts.get(key);
    if (known !== undefined) return known;
    const n = this.countPieces(text, deadline, budgetMs);
    this.texts.set(key, n);
    return n;
  }

  private countPieces(text: string, deadline: number, budgetMs: number): number {
    if (text === "") return 0;
    const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
    const checkpoint =
      deadline === Infinity
        ? undefined
        : () => {
            if (performance.now() > deadline) throw new CountBudgetExceeded(budgetMs);
          };
    if (this.asciiPieceEnd) return this.countScanned(wellFormed, this.asciiPieceEnd, checkpoint);
    const ascii = ASCII.test(wellFormed);
    // one RegExp, rewound: a copy per call would hash the pattern's whole source again (tens of KB with the pinned
    // classes)
    const re = this.pattern;
    re.lastIndex = 0;
    let n = 0;
    let pieces = 0;
    for (let m = re.exec(wellFormed); m !== null; m = re.exec(wellFormed)) {
      n += this.pieceCount(m[0], ascii, checkpoint);
      if (checkpoint && ++pieces % CHECK_EVERY === 0) checkpoint();
    }
    return n;
  }

  /**
   * Pieces found by the ASCII scanner, and by the pattern where a piece may reach a character above
   * U+007F (the scanner has looked at most two characters past a piece's end). A piece depends only
   * on the text from where it starts, so both find the same pieces.
   */
  private countScanned(text: string, scan: PieceEnd, checkpoint: Checkpoint | undefined): number {
    const nextWide = (from: number) => {
      NON_ASCII.lastIndex = from;
      return NON_ASCII.exec(text)?.index ?? Infinity;
    };
    const sticky = this.stickyPattern;
    let q = nextWide(0);
    let n = 0;
    let pieces = 0;
    for (let i = 0; i < text.length; ) {
      let end = i < q ? scan(text, i) : -1;
      if (end < 0 || end + 2 >= q) {
        sticky.lastIndex = i;
        end = i + sticky.exec(text)![0].length;
      }
      n += this.pieceCount(text.slice(i, end), end <= q, checkpoint);
      i = end;
      if (i > q) q = nextWide(i);
      if (checkpoint && ++pieces % CHECK_EVERY === 0) checkpoint();
    }
    return n;
  }

  private pieceCount(piece: string, ascii: boolean, checkpoint: Checkpoint | undefined): number {
    // most ASCII pieces are one token: one look in the rank table, no cache needed
    if (ascii && this.ranks.has(piece)) return 1;
    const cacheable = this.pieces !== null && piece.length <= CACHED_PIECE_MAX;
    const known = cacheable ? this.pieces!.get(piece) : undefined;
    if (known !== undefined) return known;
    const k = mergeCount(ascii ? piece : Buffer.from(piece, "utf8").toString("latin1"), this.ranks, checkpoint);
    if (cacheable) this.pieces!.set(piece, k);
    return k;
  }

  /** A view of this counter that gives up `budgetMs` from now. */
  within(budgetMs: number): TextCounter {
    const deadline = performance.now() + budgetMs;
    return { count: (text) => this.count(text, deadline, budgetMs) };
  }
}

const counters = new Map<EncodingName, TokenCounter>();

/** One counter per encoding per process (building the rank table takes ~100 ms). */
export function counterFor(name: EncodingName): TokenCounter {
  let c = counters.get(name);
  if (!c) {
    const data = loadEncoding(name);
    c = new TokenCounter(name, data.ranks, data.patStr);
    counters.set(name, c);
  }
  return c;
}
