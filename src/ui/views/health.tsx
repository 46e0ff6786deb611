// The pipeline's health: readiness and the meter's lag, dead letters by reason (the dead letters
// page acts on them), and calls no price covers, each consumer and model with a form that gives
// the consumer its own price for the model (its calls are repriced at once).
import { useState } from "preact/hooks";
import type { ConsumerList, DeadLetterList, FlaggedEvents, Ready } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ActionForm, PerTokenPrices, useAction } from "../components/forms.tsx";
import { count } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

type Unpriced = { consumer: string; model: string; calls: number };

function PriceIt(p: { api: Api; u: Unpriced; onPriced: () => void }) {
  const [input, setInput] = useState("");
  const [output, setOutput] = useState("");
  const price = useAction(
    () =>
      p.api.send("POST", `/v1/consumers/${p.u.consumer}/prices`, {
        model: p.u.model,
        input_cost_per_token: input.trim(),
        output_cost_per_token: output.trim(),
      }),
    p.onPriced,
  );
  const at = { form: `price-${p.u.consumer}-${p.u.model}`, error: price.error };
  return (
    <ActionForm
      label={`Price ${p.u.model} for this consumer`}
      submit="Price its calls"
      action={price}
      fields={["input_cost_per_token", "output_cost_per_token", "model"]}
    >
      <PerTokenPrices at={at} input={input} setInput={setInput} output={output} setOutput={setOutput} />
    </ActionForm>
  );
}

function UnpricedCalls(p: { api: Api }) {
  const unpriced = useLoad<FlaggedEvents>(p.api, "/v1/reports/anomalies?anomaly=unpriced&limit=1000");
  const consumers = useLoad<ConsumerList>(p.api, "/v1/consumers?limit=500");
  const nameOf = new Map((consumers.data?.consumers ?? []).map((c) => [c.id, c.username ?? c.kong_id ?? c.id]));
  const byModel = new Map<string, Unpriced>();
  for (const e of unpriced.data?.events ?? []) {
    if (!e.consumer_id || !e.model) continue; // an unattributed call has no one to price it for
    const key = `${e.consumer_id} ${e.model}`;
    byModel.set(key, { consumer: e.consumer_id, model: e.model, calls: (byModel.get(key)?.calls ?? 0) + 1 });
  }
  return (
    <section aria-labelledby="unpriced-h">
      <h2 id="unpriced-h">Unpriced calls, last 30 days</h2>
      <p>
        Billable calls no price covers: they cost nothing until a price book, plan or rate prices their model, and hold
        their invoice as a draft. A price given here is the consumer's own for that model and reprices its calls; a
        draft invoice that held them is re-drafted from its review page.
      </p>
      <Status state={unpriced} what="unpriced calls" />
      {unpriced.data &&
        (byModel.size === 0 ? (
          <p>None.</p>
        ) : (
          <table aria-label="Unpriced calls by consumer and model" data-testid="unpriced">
            <thead>
              <tr>
                <th scope="col">Consumer</th>
                <th scope="col">Model</th>
                <th scope="col" class="num">
                  Calls
                </th>
                <th scope="col">Give it a price</th>
              </tr>
            </thead>
            <tbody>
              {[...byModel.values()].map((u) => (
                <tr key={`${u.consumer} ${u.model}`} data-consumer={u.consumer} data-model={u.model}>
                  <th scope="row">
                    <a href={`#/consumers/${u.consumer}`}>{nameOf.get(u.consumer) ?? u.consumer}</a>
                  </th>
                  <td>{u.model}</td>
                  <td class="num">{count(u.calls)}</td>
                  <td>
                    <PriceIt api={p.api} u={u} onPriced={unpriced.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

export function Health(p: { api: Api }) {
  const ready = useLoad<Ready>(p.api, "/readyz");
  const dead = useLoad<DeadLetterList>(p.api, "/v1/dead-letters?limit=500");
  const byReason = new Map<string, number>();
  for (const d of dead.data?.dead_letters ?? [])
    byReason.set(`${d.stage}: ${d.kind}`, (byReason.get(`${d.stage}: ${d.kind}`) ?? 0) + 1);
  return (
    <article>
      <h1>Pipeline health</h1>
      <section aria-labelledby="ready-h">
        <h2 id="ready-h">Readiness</h2>
        {ready.data ? (
          <>
            <p data-testid="readiness">
              Status: <strong>{ready.data.status}</strong>
            </p>
            <ul>
              {Object.entries(ready.data.checks).map(([name, c]) => (
                <li key={name}>
                  {name}: {c.ok ? "up" : `down (${c.error ?? "no answer"})`}
                </li>
              ))}
            </ul>
            {ready.data.meter && (
              <p data-testid="meter">
                Meter: {ready.data.meter.status}, lag{" "}
                {count(ready.data.meter.partitions.reduce((s, q) => s + q.lag, 0))} messages
              </p>
            )}
          </>
        ) : (
          <Status state={ready} what="readiness" />
        )}
      </section>
      <section aria-labelledby="dead-h">
        <h2 id="dead-h">Dead letters by reason</h2>
        <Status state={dead} what="dead letters" />
        {dead.data &&
          (byReason.size === 0 ? (
            <p>None.</p>
          ) : (
            <>
              <table aria-label="Dead letters by reason" data-testid="dead-letters">
                <thead>
                  <tr>
                    <th scope="col">Stage and reason</th>
                    <th scope="col" class="num">
                      Messages
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {[...byReason].map(([k, n]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td class="num">{n}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p>
                <a href="#/dead-letters">Inspect and replay them</a>
              </p>
            </>
          ))}
      </section>
      <UnpricedCalls api={p.api} />
    </article>
  );
}
