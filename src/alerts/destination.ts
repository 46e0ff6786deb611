// Where a webhook may be delivered: public addresses only, unless the operator allows a network
// of their own (WEBHOOK_ALLOWED_NETWORKS). A URL naming a host is resolved once per attempt, every
// address it resolves to is checked (so a second, internal record cannot slip in), and the
// delivery connects to the address that was checked, so a changed DNS answer cannot redirect it.
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Ranges no webhook goes to by default, each with the name a refusal gives it. */
const INTERNAL: Array<[string, "ipv4" | "ipv6", string]> = [
  ["0.0.0.0/8", "ipv4", "unspecified"],
  ["10.0.0.0/8", "ipv4", "private"],
  ["100.64.0.0/10", "ipv4", "private"], // carrier-grade NAT
  ["127.0.0.0/8", "ipv4", "loopback"],
  ["169.254.0.0/16", "ipv4", "link-local"], // cloud metadata services live here
  ["172.16.0.0/12", "ipv4", "private"],
  ["192.0.0.0/24", "ipv4", "reserved"],
  ["192.0.2.0/24", "ipv4", "reserved"],
  ["192.88.99.0/24", "ipv4", "reserved"],
  ["192.168.0.0/16", "ipv4", "private"],
  ["198.18.0.0/15", "ipv4", "reserved"],
  ["198.51.100.0/24", "ipv4", "reserved"],
  ["203.0.113.0/24", "ipv4", "reserved"],
  ["224.0.0.0/4", "ipv4", "multicast"],
  ["240.0.0.0/4", "ipv4", "reserved"], // and the broadcast address
  ["::/128", "ipv6", "unspecified"],
  ["::1/128", "ipv6", "loopback"],
  ["100::/64", "ipv6", "reserved"],
  ["2001:db8::/32", "ipv6", "reserved"],
  ["fc00::/7", "ipv6", "unique-local"],
  ["fe80::/10", "ipv6", "link-local"],
  ["fec0::/10", "ipv6", "private"], // site-local, deprecated
  ["ff00::/8", "ipv6", "multicast"],
];

const blocks = INTERNAL.map(([cidr, type, name]) => {
  const list = new BlockList();
  const [net, bits] = cidr.split("/");
  list.addSubnet(net!, Number(bits), type);
  return { list, type, name };
});

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, compatible), if any: it is where packets go. */
function embeddedIPv4(ip: string): string | undefined {
  const mapped = ip.match(/^(?:::ffff:|::ffff:0:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1];
  const groups = expandIPv6(ip);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!); // 6to4
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0))
    return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0))
    return v4(groups[6]!, groups[7]!);
  return undefined;
}

function expandIPv6(ip: string): number[] | undefined {
  if (isIP(ip) !== 6 || ip.includes(".")) return undefined;
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const h = part(head),
    t = part(tail);
  return tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}

/** Why an address is internal ("loopback", "private", ...), or undefined for a public one. */
export function internalKind(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return "not an address";
  const type = family === 4 ? "ipv4" : "ipv6";
  const own = blocks.find((b) => b.type === type && b.list.check(ip, type))?.name;
  if (own || family === 4) return own;
  const inner = embeddedIPv4(ip);
  return inner === undefined ? undefined : internalKind(inner);
}

/** The operator's own networks webhooks may reach (CIDRs), e.g. "10.20.0.0/16,fd00::/8". */
export class AllowedNetworks {
  private readonly list = new BlockList();
  readonly cidrs: readonly string[];

  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const cidr of cidrs) {
      const [net, bits] = cidr.split("/");
      const type = isIP(net ?? "") === 6 ? "ipv6" : "ipv4";
      this.list.addSubnet(net!, Number(bits ?? (type === "ipv6" ? 128 : 32)), type);
    }
  }

  static parse(text: string): AllowedNetworks {
    const cidrs = text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const cidr of cidrs) {
      const [net, bits, extra] = cidr.split("/");
      const family = isIP(net ?? "");
      const max = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
        throw new Error(`${cidr} is not an address or network (a.b.c.d/n or an IPv6 prefix)`);
      }
    }
    return new AllowedNetworks(cidrs);
  }

  has(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.list.check(ip, family === 6 ? "ipv6" : "ipv4");
  }
}

/** unresolved: the host has no address now (it may later: each delivery checks again). */
export type Destination =
  | { ok: true; address: string; family: 4 | 6 }
  | { ok: false; reason: string; unresolved?: true };

type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;
const resolveAll: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Resolves the URL's host and checks every address. Refusals name the kind of address for the
 * operator who set the URL; the delivery log records only a generic reason.
 */
export async function checkDestination(
  url: URL,
  allowed: AllowedNetworks,
  resolve: Resolver = resolveAll,
): Promise<Destination> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return {
        ok: false,
        reason: `${host} does not resolve (${(err as { code?: string }).code ?? "error"})`,
        unresolved: true,
      };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve`, unresolved: true };
  for (const a of addresses) {
    const kind = internalKind(a.address);
    if (kind && !allowed.has(a.address))
      return {
        ok: false,
        reason: `${host} is a ${kind} address (${a.address}); add its network to WEBHOOK_ALLOWED_NETWORKS to deliver there`,
      };
  }
  const first = addresses[0]!;
  return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
}
