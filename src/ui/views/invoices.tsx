// Invoices: a consumer's list, one invoice with its lines (each line's calls and their share of
// it), its document (the HTML page, printable, and the PDF), and for the operator the review
// actions: re-draft, finalize, void with a reason. The review page lists every draft awaiting
// review across consumers, with when a billing run finalizes it.
import { useState } from "preact/hooks";
import type { BillingRun, Invoice, InvoiceList, LineEvents, RunStarted } from "../../http/contract/types.ts";
import { type Api, download } from "../api.ts";
import { ActionForm, Check, ConfirmButton, Input, useAction, Toggle } from "../components/forms.tsx";
import { count, exactMoney, instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

const LINE_KIND: Record<string, string> = {
  usage: "usage",
  late_usage: "late usage",
  usage_correction: "usage correction",
  price_correction: "price correction",
  tier_adjustment: "tier adjustment",
  plan_fee: "plan fee",
  minimum_top_up: "minimum top-up",
  request_fee: "request fees",
  credit: "credit applied",
};

function LineCalls(p: { api: Api; invoice: Invoice; position: number; timeZone: string }) {
  const page = useLoad<LineEvents>(p.api, `/v1/invoices/${p.invoice.id}/lines/${p.position}/events?limit=100`);
  if (!page.data) return <Status state={page} what="calls" />;
  if (page.data.events.length === 0) return <p class="muted">This line is a charge, not calls.</p>;
  return (
    <table aria-label={`Calls on line ${p.position}`} data-testid="line-events">
      <caption>
        The calls on line {p.position}: each one's share of the line (its {page.data.token_type ?? "requests"} ×{" "}
        {exactMoney(page.data.unit_price, p.invoice.currency)}), beside the whole call's cost
      </caption>
      <thead>
        <tr>
          <th scope="col">Call</th>
          <th scope="col">When</th>
          <th scope="col" class="num">
            Quantity
          </th>
          <th scope="col" class="num">
            Share of the line
          </th>
          <th scope="col" class="num">
            Whole call
          </th>
        </tr>
      </thead>
      <tbody>
        {page.data.events.map((e) => (
          <tr key={e.id}>
            <td>
              <code>{e.id}</code>
            </td>
            <td>{instant(e.occurred_at, p.timeZone)}</td>
            <td class="num">{count(e.quantity)}</td>
            <td class="num" data-testid="event-share">
              {exactMoney(e.amount, p.invoice.currency)}
            </td>
            <td class="num">{exactMoney(e.cost, p.invoice.currency)}</td>
          </tr>
        ))}
      </tbody>
      {page.data.next_cursor && (
        <tfoot>
          <tr>
            <td colSpan={5}>The first 100 calls; the API pages through the rest.</td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

function Lines(p: { api: Api; inv: Invoice; timeZone: string }) {
  const [open, setOpen] = useState<number | null>(null);
  const inv = p.inv;
  return (
    <>
      <table data-testid="invoice-lines" aria-label={`Lines of the invoice for ${inv.period.key}`}>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Kind</th>
            <th scope="col">Model</th>
            <th scope="col">Token type</th>
            <th scope="col" class="num">
              Quantity
            </th>
            <th scope="col" class="num">
              Unit price
            </th>
            <th scope="col" class="num">
              Amount
            </th>
            <th scope="col">
              <span class="sr-only">Calls</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(inv.lines ?? []).map((l) => (
            <tr key={l.position}>
              <td>{l.position}</td>
              <td>{LINE_KIND[l.kind] ?? l.kind}</td>
              <td>{l.model}</td>
              <td>{l.token_type ?? "—"}</td>
              <td class="num">{count(l.quantity)}</td>
              <td class="num">{exactMoney(l.unit_price, inv.currency)}</td>
              <td class="num" data-testid="line-amount">
                {money(l.amount, inv.currency)}
              </td>
              <td>
                <Toggle item={l.position} open={open} setOpen={setOpen} show="Calls" hide="Hide calls" />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={6} class="num">
              Subtotal
            </th>
            <td class="num" data-testid="invoice-subtotal">
              {exactMoney(inv.subtotal, inv.currency)}
            </td>
            <td />
          </tr>
          <tr>
            <th scope="row" colSpan={6} class="num">
              Rounding to the minor unit ({inv.rounding.replace("_", " ")})
            </th>
            <td class="num">{exactMoney(inv.rounding_amount, inv.currency)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row" colSpan={6} class="num">
              Total
            </th>
            <td class="num">
              <strong data-testid="invoice-total">{money(inv.total, inv.currency)}</strong>
            </td>
            <td />
          </tr>
        </tfoot>
      </table>
      {open !== null && <LineCalls api={p.api} invoice={inv} position={open} timeZone={p.timeZone} />}
    </>
  );
}

function Review(p: { api: Api; inv: Invoice; onChange: () => void }) {
  const inv = p.inv;
  const [reason, setReason] = useState("");
  const [allowUnpriced, setAllowUnpriced] = useState(false);
  const [voidReason, setVoidReason] = useState("");
  const [rebill, setRebill] = useState(false);
  const redraft = useAction(() => p.api.send("POST", `/v1/invoices/${inv.id}/redraft`), p.onChange);
  const finalize = useAction(
    () =>
      p.api.send("POST", `/v1/invoices/${inv.id}/finalize`, {
        reason: reason.trim() || undefined,
        allow_unpriced: allowUnpriced,
      }),
    p.onChange,
  );
  const voided = useAction(
    () => p.api.send("POST", `/v1/invoices/${inv.id}/void`, { reason: voidReason.trim(), rebill }),
    p.onChange,
  );
  const f = `review-${inv.id}`;
  return (
    <div class="toolbar" data-testid="invoice-actions">
      {inv.status === "draft" && (
        <>
          <button type="button" onClick={() => void redraft.run()} disabled={redraft.busy}>
            Re-draft from usage
          </button>
          <ConfirmButton
            label="Finalize"
            title="Finalize this invoice?"
            confirm="Finalize"
            action={finalize}
            fields={["reason"]}
          >
            <p>
              It is re-drafted from the usage once more, gets its number and cannot change afterwards (only be voided).
            </p>
            <Input
              form={f}
              label="Note for its history"
              name="reason"
              value={reason}
              set={setReason}
              error={finalize.error}
            />
            <Check
              form={f}
              name="allow_unpriced"
              label="Bill calls that have no price at nothing"
              checked={allowUnpriced}
              set={setAllowUnpriced}
            />
          </ConfirmButton>
        </>
      )}
      {inv.status !== "void" && (
        <ConfirmButton
          label="Void"
          title="Void this invoice?"
          confirm="Void invoice"
          action={voided}
          fields={["reason"]}
        >
          <p>A void invoice is not payable; it keeps its number and stays in the history.</p>
          <Input
            form={`${f}-void`}
            label="Reason"
            name="reason"
            value={voidReason}
            set={setVoidReason}
            error={voided.error}
            required
          />
          <Check
            form={`${f}-void`}
            name="rebill"
            label="Bill its usage again on the next invoice"
            checked={rebill}
            set={setRebill}
          />
        </ConfirmButton>
      )}
      {redraft.error && (
        <p class="error" role="alert">
          {redraft.error.message}
        </p>
      )}
      {redraft.done && !redraft.error && (
        <span role="status" class="ok-note">
          Re-drafted.
        </span>
      )}
    </div>
  );
}

/** The invoice's HTML page, shown in a frame to read and print; the PDF downloads. */
function Documents(p: { api: Api; inv: Invoice }) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = `invoice-${p.inv.number ?? `draft-${p.inv.period.key}`}`;
  return (
    <div class="documents">
      <button
        type="button"
        onClick={() =>
          p.api.text(`/v1/invoices/${p.inv.id}/document.html`).then(setHtml, (e: Error) => setError(e.message))
        }
      >
        View the document
      </button>{" "}
      <button
        type="button"
        onClick={() =>
          download(p.api, `/v1/invoices/${p.inv.id}/document.pdf`, `${name}.pdf`).catch((e: Error) =>
            setError(e.message),
          )
        }
      >
        Download PDF
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {html && (
        <div class="document">
          <iframe title={`Invoice document ${p.inv.number ?? "(draft)"}`} srcdoc={html} id={`doc-${p.inv.id}`} />
          <button
            type="button"
            onClick={() => (document.getElementById(`doc-${p.inv.id}`) as HTMLIFrameElement).contentWindow?.print()}
          >
            Print
          </button>{" "}
          <button type="button" onClick={() => setHtml(null)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}

function InvoiceDetail(p: { api: Api; id: string; timeZone: string; admin: boolean; onChange: () => void }) {
  const state = useLoad<Invoice>(p.api, `/v1/invoices/${p.id}`);
  if (!state.data) return <Status state={state} what="invoice" />;
  const inv = state.data;
  const changed = () => {
    state.reload();
    p.onChange();
  };
  return (
    <section class="invoice" aria-label={`Invoice for ${inv.period.key}`} data-testid="invoice-detail">
      <h3>
        {inv.number ? `Invoice ${inv.number}` : "Draft invoice"}, {inv.period.key}
      </h3>
      <p>
        <span class={`badge ${inv.status === "finalized" ? "ok" : "warn"}`} data-testid="invoice-status">
          {inv.status}
        </span>{" "}
        {inv.issued_at ? `issued ${instant(inv.issued_at, p.timeZone)}` : ""}
        {inv.finalizes_at ? `finalizes by itself ${instant(inv.finalizes_at, p.timeZone)} unless reviewed first` : ""}
      </p>
      {p.admin && <Review api={p.api} inv={inv} onChange={changed} />}
      <Documents api={p.api} inv={inv} />
      <Lines api={p.api} inv={inv} timeZone={p.timeZone} />
      {inv.history.length > 0 && (
        <ul class="history" aria-label="History">
          {inv.history.map((h) => (
            <li key={h.at}>
              {instant(h.at, p.timeZone)}: {h.from ?? "new"} → {h.to} by {h.actor}
              {h.reason ? ` (${h.reason})` : ""}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

async function downloadCsv(api: Api, consumerId: string, period: string) {
  await download(api, `/v1/reports/focus?period=${period}&consumer=${consumerId}`, `tokenmeter-focus-${period}.csv`);
}

export function Invoices(p: { api: Api; consumerId: string; timeZone: string; admin: boolean }) {
  const state = useLoad<InvoiceList>(p.api, `/v1/consumers/${p.consumerId}/invoices`);
  const [open, setOpen] = useState<string | null>(null);
  if (!state.data) return <Status state={state} what="invoices" />;
  if (state.data.invoices.length === 0) return <p class="muted">No invoices yet.</p>;
  return (
    <>
      <table aria-label="Invoices">
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col">Number</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Total
            </th>
            <th scope="col">Issued</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {state.data.invoices.map((i) => (
            <tr key={i.id} data-invoice={i.id}>
              <td>{i.period.key}</td>
              <td>{i.number ?? "—"}</td>
              <td>{i.status}</td>
              <td class="num">{money(i.total, i.currency)}</td>
              <td>{instant(i.issued_at, p.timeZone)}</td>
              <td>
                <Toggle item={i.id} open={open} setOpen={setOpen} show="Open" hide="Close" />{" "}
                <button type="button" onClick={() => void downloadCsv(p.api, p.consumerId, i.period.key)}>
                  Download CSV
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && (
        <InvoiceDetail key={open} api={p.api} id={open} timeZone={p.timeZone} admin={p.admin} onChange={state.reload} />
      )}
    </>
  );
}

/** Closes an ended period now (a billing run): its invoices are drafted for review. */
function RunBilling(p: { api: Api; period: string; onDone: () => void }) {
  const [key, setKey] = useState("");
  const [state, setState] = useState<BillingRun | null>(null);
  const run = useAction(
    () => p.api.send<RunStarted>("POST", "/v1/billing/runs", { period: key.trim() }),
    async (started) => {
      // a run closes the period, then drafts one invoice per consumer in jobs of their own: follow it
      // until every consumer it visits has its draft (or it failed), then show them
      for (let i = 0; i < 120; i++) {
        const s = await p.api.get<BillingRun>(started.status_url);
        setState(s);
        const drafted = Object.values(s.invoices).reduce((a, b) => a + b, 0);
        if (s.state === "failed" || (s.state === "completed" && drafted >= (s.consumers ?? 0))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      p.onDone();
    },
  );
  return (
    <details class="panel">
      <summary>Close a period now</summary>
      <p>
        Billing runs close each {p.period} period by themselves when it ends. Close an ended one now to draft its
        invoices at once.
      </p>
      <ActionForm label="Close a period now" submit="Draft its invoices" action={run} fields={["period"]}>
        <Input
          form="run"
          label="Period"
          name="period"
          value={key}
          set={setKey}
          error={run.error}
          type="date"
          required
          hint="Its first day, in the billing time zone."
        />
      </ActionForm>
      {state && (
        <p role="status" data-testid="run-state">
          Run {state.period}: {state.state}
          {state.consumers !== null
            ? `, ${Object.values(state.invoices).reduce((a, b) => a + b, 0)} of ${state.consumers} consumers drafted`
            : ""}
          {state.failed_reason ? ` (${state.failed_reason})` : ""}
        </p>
      )}
    </details>
  );
}

/** Every draft awaiting review, soonest to finalize first. */
export function ReviewQueue(p: { api: Api; timeZone: string; period: string }) {
  const drafts = useLoad<InvoiceList>(p.api, "/v1/invoices?status=draft&limit=500");
  const [open, setOpen] = useState<string | null>(null);
  const list = [...(drafts.data?.invoices ?? [])].sort((a, b) =>
    (a.finalizes_at ?? "9").localeCompare(b.finalizes_at ?? "9"),
  );
  return (
    <article>
      <h1>Invoices to review</h1>
      <p>
        Drafts of closed periods. A billing run finalizes each at the time shown unless it is finalized or voided first;
        re-draft one after pricing its calls.
      </p>
      <RunBilling api={p.api} period={p.period} onDone={drafts.reload} />
      {!drafts.data ? (
        <Status state={drafts} what="drafts" />
      ) : list.length === 0 ? (
        <p>Nothing awaits review.</p>
      ) : (
        <table aria-label="Drafts awaiting review" data-testid="review-queue">
          <thead>
            <tr>
              <th scope="col">Consumer</th>
              <th scope="col">Period</th>
              <th scope="col" class="num">
                Total
              </th>
              <th scope="col">Finalizes</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((i) => (
              <tr key={i.id} data-invoice={i.id}>
                <th scope="row">
                  <a href={`#/consumers/${i.consumer_id}`}>{i.username ?? i.consumer_id}</a>
                </th>
                <td>{i.period.key}</td>
                <td class="num">{money(i.total, i.currency)}</td>
                <td>{i.finalizes_at ? instant(i.finalizes_at, p.timeZone) : "when an operator finalizes it"}</td>
                <td>
                  <Toggle item={i.id} open={open} setOpen={setOpen} show="Review" hide="Close" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && (
        <InvoiceDetail key={open} api={p.api} id={open} timeZone={p.timeZone} admin={true} onChange={drafts.reload} />
      )}
    </article>
  );
}
