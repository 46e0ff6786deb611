// Posts batches as Kong's http-log queue does: any answer that is not 2xx, or no answer, is retried
// with exponential backoff (Kong: initial_retry_delay 0.01 s, doubling) for max_retry_time (60 s),
// after which Kong drops the batch. The outcome of every batch is kept for the audit.
export type BatchOutcome = { acknowledged: boolean; attempts: number; lastStatus: number | string };

export class KongLikeClient {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly maxRetryMs = 60_000,
    private readonly maxDelayMs = 2_000,
  ) {}

  async post(body: string): Promise<BatchOutcome> {
    const deadline = Date.now() + this.maxRetryMs;
    let delay = 10;
    let lastStatus: number | string = "";
    for (let attempts = 1; ; attempts++) {
      try {
        const res = await fetch(this.url, {
          method: "POST",
          headers: { authorization: `Bearer ${this.secret}`, "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(10_000), // Kong's http-log timeout
        });
        await res.arrayBuffer();
        lastStatus = res.status;
        if (res.status < 300) return { acknowledged: true, attempts, lastStatus };
      } catch (err) {
        lastStatus = (err as Error).name;
      }
      if (Date.now() + delay > deadline) return { acknowledged: false, attempts, lastStatus };
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, this.maxDelayMs);
    }
  }
}
