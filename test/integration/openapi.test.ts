// The OpenAPI document is made from the route schemas: it must validate as OpenAPI 3.1, describe
// every operation with its credential and its refusals, and be browsable at /docs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({}, { meter: false });
});
after(() => stack.close());

/** "METHOD /full/path" of every route in Fastify's route tree (each level indents by 4). */
function routesOf(tree: string): string[] {
  const parents: string[] = [];
  return tree.split("\n").flatMap((line) => {
    const m = line.match(/^(.*?)[├└]── (\S+) \(([A-Z, ]+)\)$/);
    if (!m) return [];
    const depth = [...m[1]!].length / 4;
    parents.length = depth;
    const path = (depth ? parents[depth - 1]! : "") + m[2]!;
    parents[depth] = path;
    return m[3]!.split(", ").map((method) => `${method} ${path}`);
  });
}

describe("OpenAPI document", () => {
  it("validates as OpenAPI 3.1 and every operation has a summary, its credential and a documented 400 in the error shape", async () => {
    const res = await stack.app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, "3.1.0");
    const result = await new Validator().validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors)?.slice(0, 2000));
    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([m, op]) => ({ key: `${m} ${path}`, op })),
    );
    // probes and the dashboard's files need no key (the dashboard asks for one, then calls the API)
    const api = ops.filter((o) => !/ \/(livez|healthz|readyz|metrics)$/.test(o.key) && !o.key.startsWith("get /ui"));
    assert.ok(api.length >= 30, `${api.length} operations`);
    const incomplete = api
      .filter(({ op }) => !op.summary || !op.security?.length || !op.responses?.["400"])
      .map((o) => o.key);
    assert.deepEqual(incomplete, []);
    assert.ok(doc.components.schemas.Error, "the error shape is a shared component");
  });

  it("every registered route is in the document", async () => {
    const doc = (await stack.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const documented = new Set(
      Object.entries(doc.paths as Record<string, object>).flatMap(([p, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ":$1")}`),
      ),
    );
    const routes = routesOf(stack.app.printRoutes({ commonPrefix: false })).filter(
      (r) => !r.startsWith("HEAD ") && !/ \/(docs|openapi\.json)/.test(r),
    );
    assert.ok(routes.length >= 30, `${routes.length} routes read`);
    assert.deepEqual(
      routes.filter((r) => !documented.has(r)),
      [],
    );
  });

  it("/docs serves the interactive page", async () => {
    const res = await stack.app.inject({ method: "GET", url: "/docs/" });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /swagger/i);
  });
});
