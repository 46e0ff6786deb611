// Which addresses a webhook may reach: every address of an internal range is refused, in IPv4 and
// in each IPv6 form that carries an IPv4 address; public addresses pass; a host with one internal
// record among public ones is refused; the operator's networks are allowed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AllowedNetworks, checkDestination, internalKind } from "../../src/alerts/destination.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);
const NONE = new AllowedNetworks([]);

/** Internal IPv4 ranges as [first octets, prefix]. */
const INTERNAL_V4: Array<[number[], number]> = [
  [[0], 8],
  [[10], 8],
  [[100, 64], 10],
  [[127], 8],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 168], 16],
  [[224], 4],
  [[240], 4],
];

const inRange = ([octets, prefix]: [number[], number]) =>
  fc.integer({ min: 0, max: 2 ** (32 - prefix) - 1 }).map((host) => {
    const base = octets
      .concat([0, 0, 0, 0])
      .slice(0, 4)
      .reduce((n, o) => n * 256 + o, 0);
    const n = base + host;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  });

const hex = (ip: string) => {
  const [a, b, c, d] = ip.split(".").map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
};

describe("webhook destinations", () => {
  it("property: every address of an internal IPv4 range is internal, and so is each IPv6 form carrying it", () => {
    fc.assert(
      fc.property(fc.oneof(...INTERNAL_V4.map(inRange)), (ip) => {
        const [hi, lo] = hex(ip);
        for (const form of [ip, `::ffff:${ip}`, `::ffff:${hi}:${lo}`, `64:ff9b::${hi}:${lo}`, `2002:${hi}:${lo}::1`]) {
          assert.ok(internalKind(form), `${form} passed as public`);
        }
      }),
      { numRuns: runs },
    );
  });

  it("property: addresses outside every internal range are public", () => {
    const publicV4 = fc
      .tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255))
      .filter(
        ([a, b]) =>
          ![0, 10, 127].includes(a) &&
          !(a === 100 && b >= 64 && b < 128) &&
          !(a === 169 && b === 254) &&
          !(a === 172 && b >= 16 && b < 32) &&
          !(a === 192 && [0, 88, 168].includes(b)) &&
          !(a === 198 && [18, 19, 51].includes(b)) &&
          !(a === 203 && b === 0),
      );
    fc.assert(
      fc.property(publicV4, (parts) => assert.equal(internalKind(parts.join(".")), undefined, parts.join("."))),
      { numRuns: runs },
    );
    for (const ip of ["2606:4700:4700::1111", "2a00:1450:4001::200e", "8.8.8.8"])
      assert.equal(internalKind(ip), undefined, ip);
  });

  it("checks every record a host resolves to, and allows the operator's networks", async () => {
    const records =
      (...ips: string[]) =>
      async () =>
        ips.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    const url = new URL("https://hooks.example.com/x");
    assert.deepEqual(await checkDestination(url, NONE, records("93.184.216.34")), {
      ok: true,
      address: "93.184.216.34",
      family: 4,
    });
    const mixed = await checkDestination(url, NONE, records("93.184.216.34", "10.0.0.7"));
    assert.equal(mixed.ok, false, "one internal record refuses the host");
    assert.match(!mixed.ok ? mixed.reason : "", /private address \(10\.0\.0\.7\)/);
    assert.equal((await checkDestination(url, AllowedNetworks.parse("10.0.0.0/8"), records("10.0.0.7"))).ok, true);
    const none = await checkDestination(url, NONE, async () => {
      throw Object.assign(new Error("x"), { code: "ENOTFOUND" });
    });
    assert.deepEqual(none, { ok: false, reason: "hooks.example.com does not resolve (ENOTFOUND)", unresolved: true });
  });

  it("refuses an allow-list entry that is not an address or network", () => {
    for (const bad of ["10.0.0.0/33", "fd00::/129", "example.com", "10.0.0.0/8/1", "10.0.0.0/-1"])
      assert.throws(() => AllowedNetworks.parse(bad), /is not an address or network/, bad);
    assert.deepEqual(AllowedNetworks.parse(" 10.0.0.0/8 , fd00::/8,127.0.0.1 ").cidrs, [
      "10.0.0.0/8",
      "fd00::/8",
      "127.0.0.1",
    ]);
  });
});
