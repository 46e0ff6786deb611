// A figure that costs database aggregates or Kafka admin calls, computed at most once per interval
// however often it is asked for: callers within the interval get the last answer, and callers
// while it is being computed share that one computation. A probe storm then costs one query.

export function atMostEvery<T>(intervalMs: number, compute: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let running: Promise<T> | undefined;
  return () => {
    if (last && performance.now() - last.at < intervalMs) return Promise.resolve(last.value);
    running ??= compute()
      .then((value) => {
        last = { at: performance.now(), value };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
