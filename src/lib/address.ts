// Where a service URL points, for people: host, port and path (a database name), never the
// credentials the URL may carry.
const DEFAULT_PORTS: Record<string, string> = {
  "postgresql:": "5432",
  "postgres:": "5432",
  "redis:": "6379",
  "rediss:": "6379",
};

export function addressOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || DEFAULT_PORTS[u.protocol] || ""}${u.pathname.length > 1 ? u.pathname : ""}`;
}
