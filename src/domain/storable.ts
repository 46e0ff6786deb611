// Values taken from a log are made storable before anything reads them, so that no log entry can
// make PostgreSQL refuse a batch:
// - text: PostgreSQL's text type cannot hold NUL, and UTF-8 cannot hold a lone surrogate; both
//   become U+FFFD. Names are cut to a bounded length (never inside a surrogate pair).
// - identifiers: used as they are when short and clean; otherwise replaced by a hash of their
//   UTF-8 bytes, so an over-long or odd id still identifies the same thing every time.
// - counts: integers in a range a real call can have; anything else is not a count.
import { createHash } from "node:crypto";

/** Longest name kept (model, route, service, provider); longer ones are cut. */
export const MAX_NAME_LENGTH = 256;
/** Longest identifier used as is (request id, consumer id/username/custom_id). */
export const MAX_ID_LENGTH = 256;
/**
 * More tokens than any model's context holds, with a wide margin (the largest today are a few
 * million). A provider figure above it is not believed; it also keeps sums inside a 32-bit column.
 */
export const MAX_TOKENS_PER_CALL = 100_000_000;

const NOT_STORABLE = /\u0000/g;

/** Text PostgreSQL can store: NUL and lone surrogates replaced by U+FFFD, at most `max` UTF-16 units. */
export function storableText(value: string, max = MAX_NAME_LENGTH): string {
  let s = value.isWellFormed() ? value : value.toWellFormed();
  if (s.includes("\u0000")) s = s.replace(NOT_STORABLE, "\ufffd");
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** `value` itself when it is short, storable text; otherwise `<prefix>:<sha256 of its UTF-8>`. */
export function storableId(value: string, prefix = "sha256", max = MAX_ID_LENGTH): string {
  if (value.length <= max && value.isWellFormed() && !value.includes("\u0000")) return value;
  return `${prefix}:${createHash("sha256").update(value, "utf8").digest("hex")}`;
}

/** A token count a call can really have: a whole number from 0 to MAX_TOKENS_PER_CALL. */
export function plausibleCount(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS_PER_CALL;
}
