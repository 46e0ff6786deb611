// A report is one source's account of one call. Several reports of the same call (Kong's request
// id) make one usage event; each report is merged in once (its key is kept on the event).

/** Kong's http-log: every copy of one call's entry is the same report (two http-log plugins, retries). */
export const HTTP_LOG_REPORT = "http-log";

/** A CloudEvent is deduplicated by (source, id), as CloudEvents 1.0 defines its identity. */
export function cloudEventReport(source: string, id: string): string {
  return `ce:${source} ${id}`;
}
