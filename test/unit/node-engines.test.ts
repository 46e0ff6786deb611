// The Node version tokenmeter claims is the one its dependencies accept: package.json's engines
// floor satisfies every installed package's own engines field, the Node running the tests is
// inside it, and the README states the same floor.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import semver from "semver";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8"));
const claim: string = pkg.engines.node;
const floor = semver.minVersion(claim)!;

describe("the Node version claim", () => {
  it("every installed package accepts the lowest Node the project claims", () => {
    const refusing = Object.entries(
      lock.packages as Record<string, { engines?: { node?: string }; optional?: boolean }>,
    )
      .filter(([path, p]) => path && !p.optional && p.engines?.node && !semver.satisfies(floor, p.engines.node))
      .map(([path, p]) => `${path.replace(/^node_modules\//, "")} wants ${p.engines!.node}`);
    assert.deepEqual(refusing, [], `package.json claims ${claim}`);
  });

  it("the Node running here is inside the claim", () => {
    assert.ok(semver.satisfies(process.version, claim), `${process.version} is outside ${claim}`);
  });

  it("the README states the same floor", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    assert.match(readme, new RegExp(`Node\\.js ${floor.major}\\.${floor.minor} or later`));
  });
});
