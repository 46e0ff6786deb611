// Byte-pair merge of one pre-token piece, counting the tokens tiktoken would produce. tiktoken merges
// the adjacent pair of lowest rank, leftmost first, until no pair is a token. Its loop rescans every
// pair after each merge, so one long piece (100 000 repeated letters) takes quadratic time. Short
// pieces use that same simple loop here; longer ones an indexed min-heap of pairs ordered by
// (rank, position), which merges in exactly the same order in O(n log n).
//
// Very long pieces are counted in chunks. A sequence of tokens is the merge of its text exactly
// when every two adjacent tokens are "compatible": merging the two tokens' bytes alone gives back
// those two tokens (a property of byte-pair merging; test/unit/bpe-chunks.test.ts checks the
// chunks against whole-piece merges and tiktoken). So the merge of a window's text is the merge of
// any prefix of its tokens; consecutive chunks join where their boundary tokens are compatible, and
// where they are not, the two chunks are merged as one. A window's last tokens are left to the
// next one: they often change with the bytes that follow, and a boundary there would not join.
// Windows of a run of one character are all the same text, so their merges come from a cache: such
// runs cost about what prose does.

/** Pieces up to this many bytes use the simple loop (fast for the short pieces of real text). */
const HEAP_FROM = 64;
/** Pieces from this many bytes are counted in chunks of about WINDOW bytes. */
const CHUNKED_FROM = 4096;
const WINDOW = 512;
/** Tokens left off a window's end for the next window (boundaries there join more often). */
const WINDOW_TAIL = 2;
/** A chunk grown past this many windows (boundaries that never join) gives way to the heap over the whole piece. */
const CHUNK_GROWTH = 8;
const MAX = Number.MAX_SAFE_INTEGER;

/** Called now and then during long merges; throws to abandon the count (time budget). */
export type Checkpoint = () => void;

/** Number of tokens of `piece`, a latin1 string holding the piece's UTF-8 bytes. */
export function mergeCount(piece: string, ranks: Map<string, number>, checkpoint?: Checkpoint): number {
  if (piece.length <= 1) return piece.length;
  if (ranks.has(piece)) return 1;
  if (piece.length < HEAP_FROM) return simpleMerge(piece, ranks).length;
  if (piece.length < CHUNKED_FROM) return heapMerge(piece, ranks, checkpoint).length;
  return chunkedCount(piece, ranks, WINDOW, checkpoint) ?? heapMerge(piece, ranks, checkpoint).length;
}

/** The lengths of the tokens `piece` merges into, in order. */
export function mergeParts(piece: string, ranks: Map<string, number>, checkpoint?: Checkpoint): number[] {
  if (piece.length <= 1 || ranks.has(piece)) return piece.length === 0 ? [] : [piece.length];
  return piece.length < HEAP_FROM ? simpleMerge(piece, ranks) : heapMerge(piece, ranks, checkpoint);
}

type Chunk = { start: number; end: number; count: number; first: string; last: string };

/** Per rank table: window merges (runs repeat the same window) and boundary verdicts, both bounded. */
type ChunkCaches = { windows: Map<string, number[]>; compatible: Map<string, boolean> };
const chunkCaches = new WeakMap<Map<string, number>, ChunkCaches>();
const CHUNK_CACHE_LIMIT = 4096;

function cachesOf(ranks: Map<string, number>): ChunkCaches {
  let c = chunkCaches.get(ranks);
  if (!c) chunkCaches.set(ranks, (c = { windows: new Map(), compatible: new Map() }));
  return c;
}

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CHUNK_CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** Whether merging the bytes of two adjacent tokens alone gives back those two tokens. */
function compatible(left: string, right: string, ranks: Map<string, number>, caches: ChunkCaches): boolean {
  const key = `${left.length}:${left}${right}`;
  const known = caches.compatible.get(key);
  if (known !== undefined) return known;
  const parts = mergeParts(left + right, ranks);
  return remember(caches.compatible, key, parts.length === 2 && parts[0] === left.length);
}

/**
 * Tokens of a long piece, chunk by chunk (see the top of this file); undefined when the chunks do
 * not join (then the caller merges the whole piece).
 */
export function chunkedCount(
  piece: string,
  ranks: Map<string, number>,
  window: number,
  checkpoint?: Checkpoint,
): number | undefined {
  const caches = cachesOf(ranks);
  const n = piece.length;
  const chunks: Chunk[] = [];
  const whole = (start: number, end: number): Chunk => {
    const parts = mergeParts(piece.slice(start, end), ranks, checkpoint);
    return chunkOf(piece, start, parts, parts.length);
  };
  // a chunk whose first token does not join the previous chunk's last is merged with that chunk
  const add = (chunk: Chunk): boolean => {
    let c = chunk;
    while (chunks.length > 0 && !compatible(chunks[chunks.length - 1]!.last, c.first, ranks, caches)) {
      const start = chunks.pop()!.start;
      if (c.end - start > CHUNK_GROWTH * window) return false;
      c = whole(start, c.end);
    }
    chunks.push(c);
    return true;
  };
  for (let at = 0; at < n; ) {
    checkpoint?.();
    if (n - at <= window + (window >> 1)) {
      if (!add(whole(at, n))) return undefined;
      break;
    }
    const text = piece.slice(at, at + window);
    const parts = caches.windows.get(text) ?? remember(caches.windows, text, mergeParts(text, ranks, checkpoint));
    // the window's tokens but its last few: the merge of their own text
    const kept = Math.max(1, parts.length - WINDOW_TAIL);
    const chunk = chunkOf(piece, at, parts, kept);
    if (!add(chunk)) return undefined;
    at = chunk.end;
  }
  return chunks.reduce((sum, c) => sum + c.count, 0);
}

/** The chunk made of the first `count` of `parts`, starting at `start`. */
function chunkOf(piece: string, start: number, parts: number[], count: number): Chunk {
  let end = start;
  for (let i = 0; i < count; i++) end += parts[i]!;
  return {
    start,
    end,
    count,
    first: piece.slice(start, start + parts[0]!),
    last: piece.slice(end - parts[count - 1]!, end),
  };
}

function simpleMerge(piece: string, ranks: Map<string, number>): number[] {
  // starts[i] is where part i begins; pairRank[i] is the rank of parts i and i+1 joined
  const starts: number[] = [];
  const pairRank: number[] = [];
  for (let i = 0; i <= piece.length; i++) starts.push(i);
  const rankAt = (i: number) =>
    i + 2 < starts.length ? (ranks.get(piece.slice(starts[i], starts[i + 2])) ?? MAX) : MAX;
  for (let i = 0; i < starts.length - 1; i++) pairRank.push(rankAt(i));
  for (;;) {
    let min = MAX;
    let at = -1;
    for (let i = 0; i < pairRank.length; i++) {
      if (pairRank[i]! < min) {
        min = pairRank[i]!;
        at = i;
      }
    }
    if (at < 0) return starts.slice(1).map((end, i) => end - starts[i]!);
    starts.splice(at + 1, 1);
    pairRank.splice(at + 1, 1);
    pairRank[at] = rankAt(at);
    if (at > 0) pairRank[at - 1] = rankAt(at - 1);
  }
}

const NONE = 0x7fffffff;

/**
 * Merged rank of two adjacent tokens, keyed by their ranks (every part of a piece is a token at
 * every step), cached per rank table: long repetitive pieces ask for the same few pairs again and
 * again, and numeric keys are much cheaper than slicing and hashing the bytes.
 */
const pairCaches = new WeakMap<Map<string, number>, { byLeft: Array<Map<number, number> | undefined>; size: number }>();
const PAIR_CACHE_LIMIT = 1 << 20;

function heapMerge(piece: string, ranks: Map<string, number>, checkpoint?: Checkpoint): number[] {
  const n = piece.length;
  let cache = pairCaches.get(ranks);
  if (!cache) pairCaches.set(ranks, (cache = { byLeft: [], size: 0 }));
  const pairCache = cache;
  // Parts form a linked list over byte positions (a part starts where the previous one ends).
  // token[s] is the rank of the part starting at s; pair[s] the rank of that part joined with the
  // next one (NONE if that is not a token). The heap holds each position with a pair once.
  const next = new Int32Array(n + 1);
  const prev = new Int32Array(n + 1);
  const token = new Int32Array(n);
  const pair = new Int32Array(n).fill(NONE);
  for (let i = 0; i <= n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    if (i < n) token[i] = ranks.get(piece[i]!)!;
  }
  const pairRank = (start: number): number => {
    const mid = next[start]!;
    if (mid >= n) return NONE;
    const left = token[start]!;
    const byRight = pairCache.byLeft[left];
    const cached = byRight?.get(token[mid]!);
    if (cached !== undefined) return cached;
    const r = ranks.get(piece.slice(start, next[mid]!)) ?? NONE;
    if (pairCache.size < PAIR_CACHE_LIMIT) {
      (byRight ?? (pairCache.byLeft[left] = new Map())).set(token[mid]!, r);
      pairCache.size++;
    }
    return r;
  };
  const heap = new PairHeap(pair, n);
  for (let i = 0; i < n - 1; i++) pair[i] = pairRank(i);
  heap.build();
  let parts = n;
  let steps = 0;
  while (heap.size > 0) {
    if (checkpoint && (++steps & 0xffff) === 0) checkpoint();
    const start = heap.top();
    const right = next[start]!;
    heap.set(right, NONE); // absorbed into start
    next[start] = next[right]!;
    prev[next[right]!] = start;
    token[start] = pair[start]!;
    parts--;
    heap.set(start, pairRank(start));
    if (start > 0) heap.set(prev[start]!, pairRank(prev[start]!));
  }
  const lengths = new Array<number>(parts);
  for (let at = 0, i = 0; at < n; at = next[at]!, i++) lengths[i] = next[at]! - at;
  return lengths;
}

/**
 * A 4-ary min-heap of positions ordered by (pair rank, position): the lowest rank first and, among
 * equal ranks, the leftmost pair, which is tiktoken's merge order. `where` finds a position in the
 * heap so that its key can change in place. (Four children per node: half the depth of a binary
 * heap, and siblings share a cache line.)
 */
class PairHeap {
  private readonly heap: Int32Array;
  private readonly where: Int32Array;
  size = 0;

  constructor(
    private readonly key: Int32Array,
    n: number,
  ) {
    this.heap = new Int32Array(n);
    this.where = new Int32Array(n).fill(-1);
  }

  build(): void {
    for (let i = 0; i < this.key.length; i++) {
      if (this.key[i] === NONE) continue;
      this.where[i] = this.size;
      this.heap[this.size++] = i;
    }
    for (let i = (this.size - 2) >> 2; i >= 0; i--) this.down(i);
  }

  top(): number {
    return this.heap[0]!;
  }

  /** Changes a position's pair rank; NONE takes it out of the heap. */
  set(pos: number, rank: number): void {
    this.key[pos] = rank;
    const at = this.where[pos]!;
    if (at < 0) {
      if (rank === NONE) return;
      this.where[pos] = this.size;
      this.heap[this.size++] = pos;
      this.up(this.size - 1);
      return;
    }
    if (rank === NONE) {
      const last = this.heap[--this.size]!;
      this.where[pos] = -1;
      if (at === this.size) return;
      this.heap[at] = last;
      this.where[last] = at;
      this.up(at);
      this.down(this.where[last]!);
      return;
    }
    this.up(at);
    this.down(this.where[pos]!);
  }

  private up(i: number): void {
    const { heap: h, where: w, key: k } = this;
    const item = h[i]!;
    const ki = k[item]!;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const parent = h[p]!;
      const kp = k[parent]!;
      if (kp < ki || (kp === ki && parent < item)) break;
      h[i] = parent;
      w[parent] = i;
      i = p;
    }
    h[i] = item;
    w[item] = i;
  }

  private down(i: number): void {
    const { heap: h, where: w, key: k } = this;
    const size = this.size;
    const item = h[i]!;
    const ki = k[item]!;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= size) break;
      let best = first;
      let bestItem = h[first]!;
      let kb = k[bestItem]!;
      const end = Math.min(first + 4, size);
      for (let c = first + 1; c < end; c++) {
        const ci = h[c]!;
        const kc = k[ci]!;
        if (kc < kb || (kc === kb && ci < bestItem)) {
          best = c;
          bestItem = ci;
          kb = kc;
        }
      }
      if (ki < kb || (ki === kb && item < bestItem)) break;
      h[i] = bestItem;
      w[bestItem] = i;
      i = best;
    }
    h[i] = item;
    w[item] = i;
  }
}
