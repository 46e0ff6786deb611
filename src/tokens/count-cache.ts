// Bounded caches of token counts. Natural text repeats its pre-token pieces (" the", " token"), and
// multi-turn chat resends every earlier message with each request, so most counts have been
// computed before. Both caches are bounded in entries and never change an answer: a count is a
// pure function of (encoding, text).
import { createHash } from "node:crypto";

export type CacheStats = { hits: number; misses: number; size: number };

/**
 * Counts of short pieces keyed by the piece itself. When full it starts over (cheaper than
 * tracking recency on every hit, and the frequent pieces come back within a few texts).
 */
export class PieceCounts {
  private readonly counts = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(private readonly limit: number) {}

  get(piece: string): number | undefined {
    const n = this.counts.get(piece);
    if (n === undefined) this.misses++;
    else this.hits++;
    return n;
  }

  set(piece: string, n: number): void {
    if (this.counts.size >= this.limit) this.counts.clear();
    this.counts.set(piece, n);
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.counts.size };
  }
}

/**
 * Counts of whole texts (chat messages, tool arguments) keyed by a hash of their content, least
 * recently used first out. The counter keeps only texts long enough to be worth a hash.
 */
export class TextCounts {
  private readonly counts = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(private readonly limit: number) {}

  static keyOf(text: string): string {
    return createHash("sha256").update(text).digest("base64");
  }

  get(key: string): number | undefined {
    const n = this.counts.get(key);
    if (n === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.counts.delete(key); // most recently used goes last
    this.counts.set(key, n);
    return n;
  }

  set(key: string, n: number): void {
    if (this.counts.size >= this.limit) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(key, n);
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.counts.size };
  }
}
