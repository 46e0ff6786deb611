// A consumer's invoices; one opens with its lines. The FOCUS CSV of an invoice's period downloads
// with the same key (the API answers a consumer key with its own rows only).
import { useState } from "preact/hooks";
import type { Invoice, InvoiceList } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { count, instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

const periodKey = (i: Invoice) => i.period.key;

async function downloadCsv(api: Api, consumerId: string, period: string) {
  const csv = await api.text(`/v1/reports/focus?period=${period}&consumer=${consumerId}`);
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `tokenmeter-focus-${period}.csv`;
  a.click();
  URL.revokeObjectURL(url);
}

function InvoiceLines(p: { api: Api; id: string; timeZone: string }) {
  const state = useLoad<Invoice>(p.api, `/v1/invoices/${p.id}`);
  if (!state.data) return <Status state={state} what="invoice" />;
  const inv = state.data;
  return (
    <table data-testid="invoice-lines" aria-label={`Lines of the invoice for ${periodKey(inv)}`}>
      <caption>
        Invoice {periodKey(inv)}, {inv.status}, issued {instant(inv.issued_at, p.timeZone)}: total{" "}
        <strong data-testid="invoice-total">{money(inv.total, inv.currency)}</strong>
      </caption>
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
        </tr>
      </thead>
      <tbody>
        {(inv.lines ?? []).map((l) => (
          <tr key={l.position}>
            <td>{l.position}</td>
            <td>{l.kind}</td>
            <td>{l.model}</td>
            <td>{l.token_type}</td>
            <td class="num">{count(l.quantity)}</td>
            <td class="num">{l.unit_price}</td>
            <td class="num" data-testid="line-amount">
              {l.amount}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Invoices(p: { api: Api; consumerId: string; timeZone: string }) {
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
              <td>{periodKey(i)}</td>
              <td>{i.status}</td>
              <td class="num">{money(i.total, i.currency)}</td>
              <td>{instant(i.issued_at, p.timeZone)}</td>
              <td>
                <button
                  type="button"
                  onClick={() => setOpen(open === i.id ? null : i.id)}
                  aria-expanded={open === i.id}
                >
                  {open === i.id ? "Hide lines" : "Show lines"}
                </button>{" "}
                <button type="button" onClick={() => void downloadCsv(p.api, p.consumerId, periodKey(i))}>
                  Download CSV
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && <InvoiceLines api={p.api} id={open} timeZone={p.timeZone} />}
    </>
  );
}
