// One delivery attempt: resolve the endpoint's host, check every address (destination.ts), and
// POST to the address that was checked: the connection's lookup answers with it, so a DNS answer
// that changes between check and connect cannot send the alert inside. TLS still verifies the
// certificate against the URL's host name. Redirects are not followed: a signed alert goes to the
// URL the operator registered, nowhere else.
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { checkDestination, type AllowedNetworks } from "./destination.ts";

export type Attempt = { statusCode: number | null; error: string | null; durationMs: number };

const MAX_ERROR_LENGTH = 500;
/** What the delivery log says of a refused destination: never which internal address or port it was. */
export const REFUSED_DESTINATION = "destination refused: not a public address, and not in WEBHOOK_ALLOWED_NETWORKS";

type Post = { url: string; body: string; headers: Record<string, string>; timeoutMs: number; allowed: AllowedNetworks };

function send(url: URL, address: string, family: 4 | 6, p: Post): Promise<number> {
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const client = url.protocol === "https:" ? https : http;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        method: "POST",
        hostname: host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...p.headers, "content-length": Buffer.byteLength(p.body) },
        lookup: pinned,
        ...(isIP(host) ? {} : { servername: host }),
        signal: AbortSignal.timeout(p.timeoutMs),
      },
      (res) => {
        res.resume(); // the answer's body is not needed
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(p.body);
  });
}

export async function postWebhook(p: Post): Promise<Attempt & { refused?: string }> {
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  const url = new URL(p.url);
  const dest = await checkDestination(url, p.allowed);
  if (!dest.ok) return { statusCode: null, error: REFUSED_DESTINATION, durationMs: elapsed(), refused: dest.reason };
  try {
    const status = await send(url, dest.address, dest.family, p);
    const ok = status >= 200 && status < 300;
    return { statusCode: status, error: ok ? null : `endpoint answered ${status}`, durationMs: elapsed() };
  } catch (err) {
    const e = err as Error & { code?: string };
    const error = `${e.name}: ${e.code ?? e.message}`;
    return { statusCode: null, error: error.slice(0, MAX_ERROR_LENGTH), durationMs: elapsed() };
  }
}
