// One consumer's page, for the operator or the consumer itself: budget, prepaid credit, usage and
// cost over time by token type and by model, the TDL heat map of a day and of a month, and its invoices.
import { useMemo, useState } from "preact/hooks";
import type { Api } from "../api.ts";
import { TOKEN_TYPES } from "../../domain/token-types.ts";
import type {
  Consumer,
  ConsumerCredit,
  ConsumerUsage,
  CreditLedger,
  ObservedMatrix,
  TdlCalendar,
  TdlMatrix,
  UserMetadata,
} from "../../http/contract/types.ts";
import { useAction } from "../components/forms.tsx";
import { DayHeatMap, LimitsGrid, MonthHeatMap } from "../components/heat-maps.tsx";
import { UsageCharts } from "../components/usage-charts.tsx";
import { count, instant, money, todayIn } from "../format.ts";
import { Status, useLoad } from "../load.tsx";
import { ApiKeys, BudgetPanel, GrantCredit, LimitsPanel, PlanPanel, VoidGrant } from "./consumer-actions.tsx";
import { Invoices } from "./invoices.tsx";

type Viewer = { kind: "admin" } | { kind: "consumer"; consumer_id: string };
export type Ctx = {
  api: Api;
  viewer: Viewer;
  timeZone: string;
  billingZone: string;
  currency: string;
  levelBounds: number[];
};

const DAY_MS = 86_400_000;
/**
 * A range start fixed when a view opens (or its range changes): a path that changed on every render would reload for
 * ever.
 */
const useSince = (ms: number) => useMemo(() => new Date(Date.now() - ms).toISOString(), [ms]);

function Budget(p: Ctx & { id: string }) {
  const state = useLoad<ConsumerUsage>(p.api, `/v1/consumers/${p.id}/usage?group_by=day&from=${useSince(DAY_MS)}`);
  const b = state.data?.budget;
  if (!b) return null;
  return (
    <section aria-labelledby="budget-h">
      <h2 id="budget-h">Budget</h2>
      <dl class="facts" data-testid="budget">
        <dt>Limit ({b.period})</dt>
        <dd>{b.amount ? money(b.amount, b.currency) : `${count(b.tokens)} tokens`}</dd>
        <dt>Committed</dt>
        <dd>{b.amount ? money(b.committed.amount, b.currency) : `${count(b.committed.tokens)} tokens`}</dd>
        <dt>Held for calls in flight</dt>
        <dd>
          {b.held
            ? b.amount
              ? money(b.held.amount, b.currency)
              : `${count(b.held.tokens)} tokens`
            : "unknown (Redis away)"}
        </dd>
        <dt>Remaining</dt>
        <dd>{b.amount ? money(b.remaining.amount, b.currency) : `${count(b.remaining.tokens)} tokens`}</dd>
        <dt>Period</dt>
        <dd>
          {instant(b.current_period.starts_at, p.timeZone)} – {instant(b.current_period.ends_at, p.timeZone)}
        </dd>
      </dl>
    </section>
  );
}

/** Prepaid credit: the balance, the grants and the latest movements (nothing for a consumer never granted any). */
function Credit(p: Ctx & { id: string; onChange: () => void }) {
  const state = useLoad<ConsumerCredit>(p.api, `/v1/consumers/${p.id}/credits`);
  const ledger = useLoad<CreditLedger>(p.api, `/v1/consumers/${p.id}/credits/ledger?limit=1000`);
  const c = state.data;
  const admin = p.viewer.kind === "admin";
  if (!c || c.grants.length === 0) return null;
  const latest = (ledger.data?.entries ?? []).slice(-10).reverse();
  return (
    <section aria-labelledby="credit-h">
      <h2 id="credit-h">Prepaid credit</h2>
      <dl class="facts" data-testid="credit">
        <dt>Balance</dt>
        <dd data-testid="credit-balance">{money(c.balance, c.currency)}</dd>
        {c.pool && (
          <>
            <dt>Drawn from</dt>
            <dd>the pool of tag {c.pool}, shared with the tag's other consumers</dd>
          </>
        )}
        <dt>Prepaid</dt>
        <dd>
          {c.prepaid
            ? "yes: calls are admitted while the balance holds them"
            : "no: credit pays invoices, calls are not held"}
        </dd>
        <dt>Starting later</dt>
        <dd>{money(c.scheduled, c.currency)}</dd>
        <dt>Next expiry</dt>
        <dd>
          {c.next_expiry
            ? `${money(c.next_expiry.amount, c.currency)} on ${instant(c.next_expiry.at, p.timeZone)}`
            : "none"}
        </dd>
      </dl>
      <table aria-label="Credit grants">
        <caption>Grants, in the order they are used</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Granted
            </th>
            <th scope="col" class="num">
              Used
            </th>
            <th scope="col" class="num">
              Left
            </th>
            <th scope="col">Expires</th>
            <th scope="col">Note</th>
            {admin && (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {c.grants.map((g) => (
            <tr key={g.id} data-grant={g.id}>
              <th scope="row">{g.kind}</th>
              <td>{g.status}</td>
              <td class="num">{money(g.amount, c.currency)}</td>
              <td class="num">{money(g.burnt, c.currency)}</td>
              <td class="num">{money(g.remaining, c.currency)}</td>
              <td>{g.expires_at ? instant(g.expires_at, p.timeZone) : "never"}</td>
              <td>{g.note ?? ""}</td>
              {admin && (
                <td>
                  {(g.status === "active" || g.status === "scheduled") && (
                    <VoidGrant
                      api={p.api}
                      consumerId={p.id}
                      grantId={g.id}
                      left={money(g.remaining, c.currency)}
                      onChange={p.onChange}
                    />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {latest.length > 0 && (
        <table aria-label="Latest credit movements">
          <caption>Latest movements</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Movement</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Call</th>
            </tr>
          </thead>
          <tbody>
            {latest.map((m) => (
              <tr key={m.id}>
                <td>{instant(m.at, p.timeZone)}</td>
                <th scope="row">{m.kind}</th>
                <td class="num">{money(m.amount, c.currency)}</td>
                <td>{m.event_id ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Usage(p: Ctx & { id: string }) {
  const [days, setDays] = useState(30);
  const from = useSince(days * DAY_MS);
  const byDay = useLoad<ConsumerUsage>(p.api, `/v1/consumers/${p.id}/usage?group_by=day&from=${from}`);
  const byModel = useLoad<ConsumerUsage>(p.api, `/v1/consumers/${p.id}/usage?group_by=model&from=${from}`);
  const totals = byDay.data?.totals;
  return (
    <section aria-labelledby="usage-h">
      <h2 id="usage-h">Usage and cost</h2>
      <label>
        Range{" "}
        <select value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
          <option value={7}>last 7 days</option>
          <option value={30}>last 30 days</option>
          <option value={90}>last 90 days</option>
        </select>
      </label>
      <Status state={byDay} what="usage" />
      {totals && (
        <>
          <p data-testid="usage-totals">
            <strong>{count(totals.billable_calls)}</strong> billable calls,{" "}
            <strong>{count(totals.input_tokens)}</strong> input and <strong>{count(totals.output_tokens)}</strong>{" "}
            output tokens, cost <strong data-testid="usage-cost">{money(totals.cost, p.currency)}</strong>
          </p>
          <UsageCharts days={byDay.data!.groups} currency={p.currency} from={from} />
          <table aria-label="Tokens and cost by token type">
            <caption>By token type</caption>
            <thead>
              <tr>
                <th scope="col">Token type</th>
                <th scope="col" class="num">
                  Tokens
                </th>
                <th scope="col" class="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {TOKEN_TYPES.map((t) => (
                <tr key={t} data-token-type={t}>
                  <th scope="row">{t}</th>
                  <td class="num">{count(totals.by_token_type[t].tokens)}</td>
                  <td class="num">{money(totals.by_token_type[t].cost, p.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table aria-label="Usage by day">
            <caption>By day ({p.billingZone})</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" class="num">
                  Calls
                </th>
                {TOKEN_TYPES.map((t) => (
                  <th scope="col" class="num" key={t}>
                    {t}
                  </th>
                ))}
                <th scope="col" class="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {byDay.data!.groups.map((g) => (
                <tr key={g.key}>
                  <th scope="row">{g.key}</th>
                  <td class="num">{count(g.calls)}</td>
                  {TOKEN_TYPES.map((t) => (
                    <td class="num" key={t}>
                      {count(g.by_token_type[t]?.tokens ?? 0)}
                    </td>
                  ))}
                  <td class="num">{money(g.cost, p.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {byModel.data && (
        <table aria-label="Usage by model">
          <caption>By model</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" class="num">
                Calls
              </th>
              <th scope="col" class="num">
                Input tokens
              </th>
              <th scope="col" class="num">
                Output tokens
              </th>
              <th scope="col" class="num">
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {byModel.data.groups.map((g) => (
              <tr key={g.key} data-model={g.key}>
                <th scope="row">{g.key}</th>
                <td class="num">{count(g.calls)}</td>
                <td class="num">{count(g.input_tokens)}</td>
                <td class="num">{count(g.output_tokens)}</td>
                <td class="num">{money(g.cost, p.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function HeatMaps(p: Ctx & { id: string }) {
  const [date, setDate] = useState(todayIn(p.billingZone));
  const [month, setMonth] = useState(todayIn(p.billingZone).slice(0, 7));
  const [editing, setEditing] = useState(false);
  const admin = p.viewer.kind === "admin";
  const observed = useLoad<ObservedMatrix>(p.api, `/v1/consumers/${p.id}/tdl-matrix?date=${date}`);
  const limits = useLoad<Consumer | UserMetadata>(p.api, admin ? `/v1/consumers/${p.id}` : "/api/user-metadata");
  const calendar = useLoad<TdlCalendar>(p.api, `/v1/consumers/${p.id}/tdl-calendar?month=${month}`);
  const limitMatrix = limits.data
    ? "metadata" in limits.data
      ? limits.data.metadata.tdl_matrix
      : limits.data.tdl_matrix
    : null;
  const save = useAction(
    (m: TdlMatrix) => p.api.send("PATCH", `/v1/consumers/${p.id}`, { metadata: { tdl_matrix: m } }),
    () => {
      setEditing(false);
      limits.reload();
      calendar.reload();
    },
  );
  return (
    <section aria-labelledby="tdl-h">
      <h2 id="tdl-h">TDL matrix</h2>
      <p class="muted">
        Slots are two-hour windows of the day in the billing time zone, {p.billingZone}; a call's load level is set by
        its input tokens (the range under each level). Each cell shows calls made, and the calls allowed where a limit
        is set; a cell past its limit is outlined in red and marked “!”.
      </p>
      <label>
        Day <input type="date" value={date} onChange={(e) => setDate((e.target as HTMLInputElement).value)} />
      </label>
      {admin && !editing && limitMatrix && (
        <button type="button" onClick={() => setEditing(true)}>
          Edit limits
        </button>
      )}
      <Status state={observed} what="TDL matrix" />
      {observed.data &&
        (editing && limitMatrix ? (
          <LimitsGrid
            limits={limitMatrix}
            observed={observed.data.tdl_matrix}
            bounds={p.levelBounds}
            save={save}
            onCancel={() => setEditing(false)}
          />
        ) : (
          <DayHeatMap date={date} observed={observed.data.tdl_matrix} limits={limitMatrix} bounds={p.levelBounds} />
        ))}
      <h3>Across a month</h3>
      <label>
        Month <input type="month" value={month} onChange={(e) => setMonth((e.target as HTMLInputElement).value)} />
      </label>
      <Status state={calendar} what="month" />
      {calendar.data && <MonthHeatMap month={month} days={calendar.data.days} />}
    </section>
  );
}

export function ConsumerPage(p: Ctx & { id: string }) {
  const since = useSince(1000);
  const admin = p.viewer.kind === "admin";
  // an action that changes what several sections show remounts them: each reads its data afresh
  const [round, setRound] = useState(0);
  const changed = () => setRound((r) => r + 1);
  const who = useLoad<Consumer | ConsumerUsage>(
    p.api,
    admin ? `/v1/consumers/${p.id}` : `/v1/consumers/${p.id}/usage?from=${since}`,
  );
  if (!who.data) return <Status state={who} what="consumer" />;
  // the operator reads the consumer itself; a consumer reads its usage (it cannot list consumers)
  const consumer = "metadata_version" in who.data ? who.data : undefined;
  const name = consumer?.username ?? consumer?.custom_id ?? p.id;
  const refresh = () => {
    who.reload();
    changed();
  };
  const actions = { api: p.api, timeZone: p.timeZone, currency: p.currency, onChange: refresh };
  return (
    <article>
      <h1>{admin ? `Consumer ${name}` : "Your usage"}</h1>
      {consumer && (
        <p>
          {consumer.configured ? (
            <span class="badge ok">configured</span>
          ) : (
            <span class="badge warn">not configured</span>
          )}{" "}
          metadata version {consumer.metadata_version}
          {consumer.plan ? `, on the plan ${consumer.plan.price_book.name}` : ", no plan"}
        </p>
      )}
      {consumer && (
        <nav aria-label="On this page" class="toc">
          <a href="#budget-h">Budget</a> <a href="#usage-h">Usage</a> <a href="#tdl-h">TDL matrix</a>{" "}
          <a href="#invoices-h">Invoices</a> <a href="#manage-h">Manage</a>
        </nav>
      )}
      <Budget key={`budget-${round}`} {...p} />
      <Credit key={`credit-${round}`} {...p} onChange={refresh} />
      <Usage {...p} />
      <HeatMaps key={`tdl-${round}`} {...p} />
      <section aria-labelledby="invoices-h">
        <h2 id="invoices-h">Invoices</h2>
        <Invoices api={p.api} consumerId={p.id} timeZone={p.timeZone} admin={admin} />
      </section>
      {consumer && (
        <section aria-labelledby="manage-h" class="manage">
          <h2 id="manage-h">Manage {name}</h2>
          {/* not remounted after a change: each keeps what was typed and its "saved" note */}
          <PlanPanel {...actions} consumer={consumer} />
          <BudgetPanel {...actions} consumer={consumer} />
          <GrantCredit {...actions} consumer={consumer} />
          <LimitsPanel {...actions} consumer={consumer} />
          <ApiKeys {...actions} consumer={consumer} />
        </section>
      )}
    </article>
  );
}
