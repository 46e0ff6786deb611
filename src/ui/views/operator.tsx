// The operator's pages: every consumer with its state and this period's spend, and the
// pipeline's health (readiness, the meter's lag, dead letters by reason, calls no price covers).
import type { ConsumerList, DeadLetterList, FlaggedEvents, Ready, Spend } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { count, instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

export function Consumers(p: { api: Api; currency: string; timeZone: string }) {
  const list = useLoad<ConsumerList>(p.api, "/v1/consumers?limit=500");
  const spend = useLoad<Spend>(p.api, "/v1/spend");
  if (!list.data) return <Status state={list} what="consumers" />;
  const byId = new Map((spend.data?.consumers ?? []).map((s) => [s.consumer_id, s]));
  return (
    <article>
      <h1>Consumers</h1>
      <table aria-label="Consumers" data-testid="consumers">
        <caption>Spend in the current billing period{spend.data ? ` (from ${spend.data.period.key})` : ""}</caption>
        <thead>
          <tr>
            <th scope="col">Consumer</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Billable calls
            </th>
            <th scope="col" class="num">
              Spend
            </th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data.consumers.map((c) => {
            const s = byId.get(c.id);
            return (
              <tr key={c.id} data-consumer={c.id}>
                <th scope="row">
                  <a href={`#/consumers/${c.id}`}>{c.username ?? c.kong_id ?? c.id}</a>
                </th>
                <td>
                  {c.configured ? (
                    <span class="badge ok">configured</span>
                  ) : (
                    <span class="badge warn">not configured</span>
                  )}
                </td>
                <td class="num">{count(s?.billable_calls ?? 0)}</td>
                <td class="num" data-testid="spend">
                  {money(s?.cost ?? "0", p.currency)}
                </td>
                <td>{instant(c.created_at, p.timeZone)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </article>
  );
}

export function Health(p: { api: Api }) {
  const ready = useLoad<Ready>(p.api, "/readyz");
  const dead = useLoad<DeadLetterList>(p.api, "/v1/dead-letters?limit=500");
  const unpriced = useLoad<FlaggedEvents>(p.api, "/v1/reports/anomalies?anomaly=unpriced&limit=1000");
  const consumers = useLoad<ConsumerList>(p.api, "/v1/consumers?limit=500");
  const nameOf = new Map((consumers.data?.consumers ?? []).map((c) => [c.id, c.username ?? c.kong_id ?? c.id]));
  const byModel = new Map<string, { consumer: string; model: string; calls: number }>();
  for (const e of unpriced.data?.events ?? []) {
    const consumer = e.consumer_id ?? "(no consumer)";
    const model = e.model ?? "(no model)";
    const key = `${consumer} ${model}`;
    byModel.set(key, { consumer, model, calls: (byModel.get(key)?.calls ?? 0) + 1 });
  }
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
          ))}
      </section>
      <section aria-labelledby="unpriced-h">
        <h2 id="unpriced-h">Unpriced calls, last 30 days</h2>
        <p>
          Billable calls no price covers: they cost nothing until a price book, plan or rate prices their model, and
          hold their invoice as a draft.
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
                </tr>
              </thead>
              <tbody>
                {[...byModel.values()].map((u) => (
                  <tr key={`${u.consumer} ${u.model}`} data-consumer={u.consumer}>
                    <th scope="row">
                      <a href={`#/consumers/${u.consumer}`}>{nameOf.get(u.consumer) ?? u.consumer}</a>
                    </th>
                    <td>{u.model}</td>
                    <td class="num">{count(u.calls)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
    </article>
  );
}
