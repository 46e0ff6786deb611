// Price books (operator): every book with its fee and minimum per period; a new book; one book's
// prices, every version, with a form that adds a price (it reprices the calls it covers) and a
// button that imports the list prices shipped with tokenmeter.
import { useState } from "preact/hooks";
import type { CatalogImport, PriceBook, PriceBookList } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ActionForm, Input, PerTokenPrices, useAction } from "../components/forms.tsx";
import { exactMoney, instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

const orNull = (s: string) => (s.trim() ? s.trim() : undefined);

function NewBook(p: { api: Api }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [fee, setFee] = useState("");
  const [minimum, setMinimum] = useState("");
  const create = useAction(
    () =>
      p.api.send<PriceBook>("POST", "/v1/price-books", {
        name: name.trim(),
        description: orNull(description),
        fee_per_period: orNull(fee),
        minimum_per_period: orNull(minimum),
      }),
    (b) => {
      location.hash = `#/price-books/${encodeURIComponent(b.name)}`;
    },
  );
  const at = { form: "new-book", error: create.error };
  return (
    <details class="panel">
      <summary>New price book</summary>
      <ActionForm
        label="New price book"
        submit="Create price book"
        action={create}
        fields={["name", "description", "fee_per_period", "minimum_per_period"]}
      >
        <Input {...at} label="Name" name="name" value={name} set={setName} required />
        <Input {...at} label="Description" name="description" value={description} set={setDescription} />
        <Input
          {...at}
          label="Fee per period"
          name="fee_per_period"
          value={fee}
          set={setFee}
          inputMode="decimal"
          hint="Optional; billed once per period."
        />
        <Input
          {...at}
          label="Minimum per period"
          name="minimum_per_period"
          value={minimum}
          set={setMinimum}
          inputMode="decimal"
          hint="Optional; usage below it is topped up."
        />
      </ActionForm>
    </details>
  );
}

export function PriceBooks(p: { api: Api; currency: string }) {
  const list = useLoad<PriceBookList>(p.api, "/v1/price-books");
  return (
    <article>
      <h1>Price books</h1>
      <p>A price book is a plan: the prices of the models its consumers call, and optional charges per period.</p>
      <NewBook api={p.api} />
      {!list.data ? (
        <Status state={list} what="price books" />
      ) : list.data.price_books.length === 0 ? (
        <p>No price books yet.</p>
      ) : (
        <table aria-label="Price books" data-testid="price-books">
          <thead>
            <tr>
              <th scope="col">Book</th>
              <th scope="col">Description</th>
              <th scope="col" class="num">
                Fee per period
              </th>
              <th scope="col" class="num">
                Minimum per period
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.price_books.map((b) => (
              <tr key={b.id} data-book={b.name}>
                <th scope="row">
                  <a href={`#/price-books/${encodeURIComponent(b.name)}`}>{b.name}</a>
                </th>
                <td>{b.description ?? ""}</td>
                <td class="num">{b.fee_per_period ? money(b.fee_per_period, p.currency) : "—"}</td>
                <td class="num">{b.minimum_per_period ? money(b.minimum_per_period, p.currency) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

function AddPrice(p: { api: Api; book: string; onAdded: () => void }) {
  const [model, setModel] = useState("");
  const [input, setInput] = useState("");
  const [output, setOutput] = useState("");
  const [cached, setCached] = useState("");
  const [fee, setFee] = useState("");
  const [from, setFrom] = useState("");
  const add = useAction(
    () =>
      p.api.send("POST", `/v1/price-books/${encodeURIComponent(p.book)}/prices`, {
        model: model.trim(),
        input_cost_per_token: input.trim(),
        output_cost_per_token: output.trim(),
        cached_input_cost_per_token: orNull(cached),
        request_fee: orNull(fee),
        effective_from: from ? new Date(from).toISOString() : undefined,
      }),
    p.onAdded,
  );
  const at = { form: "add-price", error: add.error };
  return (
    <ActionForm
      label="Add a price"
      submit="Add price"
      action={add}
      done="Price added; the calls it covers are repriced."
      fields={[
        "model",
        "input_cost_per_token",
        "output_cost_per_token",
        "cached_input_cost_per_token",
        "request_fee",
        "effective_from",
      ]}
    >
      <Input
        {...at}
        label="Model"
        name="model"
        value={model}
        set={setModel}
        required
        hint="A model, a pattern with *, or * for every other model."
      />
      <PerTokenPrices at={at} input={input} setInput={setInput} output={output} setOutput={setOutput} />
      <Input
        {...at}
        label="Cached input per token"
        name="cached_input_cost_per_token"
        value={cached}
        set={setCached}
        inputMode="decimal"
        hint="Optional; the input price otherwise."
      />
      <Input
        {...at}
        label="Fee per call"
        name="request_fee"
        value={fee}
        set={setFee}
        inputMode="decimal"
        hint="Optional."
      />
      <Input
        {...at}
        label="Effective from"
        name="effective_from"
        value={from}
        set={setFrom}
        type="datetime-local"
        hint="Optional; from the beginning of time otherwise."
      />
    </ActionForm>
  );
}

export function PriceBookPage(p: { api: Api; name: string; currency: string; timeZone: string }) {
  const book = useLoad<PriceBook>(p.api, `/v1/price-books/${encodeURIComponent(p.name)}`);
  const [imported, setImported] = useState<CatalogImport | null>(null);
  const importShipped = useAction(
    () =>
      p.api.send<CatalogImport>("POST", `/v1/price-books/${encodeURIComponent(p.name)}/import`, { format: "shipped" }),
    (r) => {
      setImported(r);
      book.reload();
    },
  );
  if (!book.data) return <Status state={book} what="price book" />;
  const b = book.data;
  return (
    <article>
      <h1>Price book {b.name}</h1>
      <p>
        {b.description ?? ""} Fee per period: {b.fee_per_period ? money(b.fee_per_period, p.currency) : "none"}; minimum
        per period: {b.minimum_per_period ? money(b.minimum_per_period, p.currency) : "none"}.
      </p>
      <section aria-labelledby="add-price-h" class="panel">
        <h2 id="add-price-h">Add a price</h2>
        <AddPrice api={p.api} book={b.name} onAdded={book.reload} />
        <p>
          <button type="button" onClick={() => void importShipped.run()} disabled={importShipped.busy}>
            Import the list prices shipped with tokenmeter
          </button>
        </p>
        {importShipped.error && (
          <p class="error" role="alert">
            {importShipped.error.message}
          </p>
        )}
        {imported && (
          <p role="status">
            Imported: {imported.added.length} new prices, {imported.unchanged.length} unchanged,{" "}
            {imported.rejected.length} rejected; {imported.repriced_events} calls repriced.
          </p>
        )}
      </section>
      <table aria-label="Prices" data-testid="prices">
        <caption>Every price version, per token</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">From</th>
            <th scope="col" class="num">
              Input
            </th>
            <th scope="col" class="num">
              Output
            </th>
            <th scope="col" class="num">
              Cached input
            </th>
            <th scope="col" class="num">
              Fee per call
            </th>
          </tr>
        </thead>
        <tbody>
          {(b.prices ?? []).map((x) => (
            <tr key={x.id} data-model={x.model}>
              <th scope="row">{x.model}</th>
              <td>{instant(x.effective_from, p.timeZone)}</td>
              <td class="num">{exactMoney(x.input_cost_per_token, p.currency)}</td>
              <td class="num">{exactMoney(x.output_cost_per_token, p.currency)}</td>
              <td class="num">
                {x.cached_input_cost_per_token ? exactMoney(x.cached_input_cost_per_token, p.currency) : "as input"}
              </td>
              <td class="num">{x.request_fee ? exactMoney(x.request_fee, p.currency) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
