// Counts tokens exactly as tiktoken's encode_ordinary does (its ranks, its pre-tokenizer), in time
// close to linear in the text for any input, and within a time budget when one is given.
import { mergeCount } from "./bpe.ts";
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
/** How many pieces are counted between two looks at the clock. */
const CHECK_EVERY = 512;

export class TokenCounter implements TextCounter {
  private readonly pattern: RegExp;

  constructor(
    readonly name: EncodingName,
    private readonly ranks: Map<string, number>,
    patStr: string,
  ) {
    this.pattern = pretokenizer(patStr);
  }

  /**
   * Tokens of `text`; special-token spellings count as ordinary text. Lone surrogates count as
   * U+FFFD, as tiktoken receives them. Past `deadline` (performance.now() time) it throws
   * CountBudgetExceeded.
   */
  count(text: string, deadline = Infinity, budgetMs = 0): number {
    if (text === "") return 0;
    const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
    const ascii = ASCII.test(wellFormed);
    const checkpoint = deadline === Infinity ? undefined : () => {
      if (performance.now() > deadline) throw new CountBudgetExceeded(budgetMs);
    };
    const re = new RegExp(this.pattern);
    let n = 0;
    let pieces = 0;
    for (let m = re.exec(wellFormed); m !== null; m = re.exec(wellFormed)) {
      const piece = m[0];
      n += mergeCount(ascii ? piece : Buffer.from(piece, "utf8").toString("latin1"), this.ranks, checkpoint);
      if (checkpoint && ++pieces % CHECK_EVERY === 0) checkpoint();
    }
    return n;
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
