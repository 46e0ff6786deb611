import { admin, startStack } from "../test/helpers/stack.ts";
const stack = await startStack({ BILLING_TIMEZONE: "UTC", LOG_LEVEL: "error" }, { meter: false });
const c = await admin(stack, "POST", "/v1/consumers", { username: "x1", metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" } });
const r = await admin(stack, "PUT", `/v1/consumers/${c.json().id}/budget`, { period: "day", amount: "1000" });
console.log(r.statusCode, r.body);
await stack.close();
