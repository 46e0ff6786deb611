// A broker's retriable answers (a coordinator or leader still being elected on a fresh broker) are
// not errors: kafkajs retries them, so they log at debug; a group rebalancing logs at info; anything
// else keeps its level.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logLevel } from "kafkajs";
import { isRebalance, levelOf, REBALANCING } from "../../src/kafka/client.ts";

describe("kafkajs log levels", () => {
  it("a retriable broker answer is debug, whatever level kafkajs gave it", () => {
    for (const error of [
      "The group coordinator is not available",
      "There is no leader for this topic-partition as we are in the middle of a leadership election",
      "This is not the correct coordinator for this group",
    ])
      assert.equal(levelOf(logLevel.ERROR, { error }), "debug", error);
  });

  it("the group rebalancing is info, in kafkajs' log and as the error a batch ends with", () => {
    assert.equal(levelOf(logLevel.ERROR, { error: REBALANCING }), "info");
    assert.ok(isRebalance(Object.assign(new Error(REBALANCING), { type: "REBALANCE_IN_PROGRESS" })));
    assert.ok(!isRebalance(new Error("connection refused")));
  });

  it("anything else keeps its level", () => {
    assert.equal(levelOf(logLevel.ERROR, { error: "Topic authorization failed" }), "error");
    assert.equal(levelOf(logLevel.ERROR, {}), "error");
    assert.equal(levelOf(logLevel.WARN, { error: "Connection timeout" }), "warn");
    assert.equal(levelOf(logLevel.INFO, {}), "info");
  });
});
