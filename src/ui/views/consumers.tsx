// The operator's consumers: searched and paged, with their state and this period's spend, and a
// form that creates one (on a plan, when a price book is chosen) and opens its page.
import { useState } from "preact/hooks";
import type { Consumer, ConsumerList, PriceBookList, Spend } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ActionForm, Input, Select, useAction } from "../components/forms.tsx";
import { count, instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

const PAGE = 50;

function NewConsumer(p: { api: Api }) {
  const books = useLoad<PriceBookList>(p.api, "/v1/price-books");
  const [username, setUsername] = useState("");
  const [customId, setCustomId] = useState("");
  const [kongId, setKongId] = useState("");
  const [book, setBook] = useState("");
  const [markup, setMarkup] = useState("");
  const create = useAction(
    () =>
      p.api.send<Consumer>("POST", "/v1/consumers", {
        username: username.trim() || undefined,
        custom_id: customId.trim() || undefined,
        kong_id: kongId.trim() || undefined,
        plan: book ? { price_book: book, markup_percent: markup.trim() || undefined } : undefined,
      }),
    (c) => {
      location.hash = `#/consumers/${c.id}`;
    },
  );
  const at = { form: "new-consumer", error: create.error };
  return (
    <details class="panel">
      <summary>New consumer</summary>
      <ActionForm
        label="New consumer"
        submit="Create consumer"
        action={create}
        fields={["username", "custom_id", "kong_id", "plan.price_book", "plan.markup_percent"]}
      >
        <Input {...at} label="Username" name="username" value={username} set={setUsername} />
        <Input {...at} label="Custom id" name="custom_id" value={customId} set={setCustomId} />
        <Input
          {...at}
          label="Kong consumer id"
          name="kong_id"
          value={kongId}
          set={setKongId}
          hint="Optional: learnt from its first call otherwise."
        />
        <Select
          {...at}
          label="Plan (price book)"
          name="plan.price_book"
          value={book}
          set={setBook}
          options={[
            ["", "none: its own rates"],
            ...(books.data?.price_books ?? []).map((b) => [b.name, b.name] as [string, string]),
          ]}
        />
        {book && (
          <Input
            {...at}
            label="Markup %"
            name="plan.markup_percent"
            value={markup}
            set={setMarkup}
            inputMode="decimal"
            hint="Optional; negative for a discount."
          />
        )}
      </ActionForm>
    </details>
  );
}

export function Consumers(p: { api: Api; currency: string; timeZone: string }) {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [pages, setPages] = useState<string[]>([]); // the `after` of each page shown before this one
  const after = pages.at(-1);
  const list = useLoad<ConsumerList>(
    p.api,
    `/v1/consumers?limit=${PAGE}${search ? `&q=${encodeURIComponent(search)}` : ""}${after ? `&after=${after}` : ""}`,
  );
  const spend = useLoad<Spend>(p.api, "/v1/spend");
  const byId = new Map((spend.data?.consumers ?? []).map((s) => [s.consumer_id, s]));
  return (
    <article>
      <h1>Consumers</h1>
      <NewConsumer api={p.api} />
      <form
        aria-label="Find a consumer"
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([]);
          setSearch(q.trim());
        }}
      >
        <label for="consumer-search">Find a consumer</label>
        <input
          id="consumer-search"
          type="search"
          value={q}
          placeholder="username, custom id or Kong id"
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      {!list.data ? (
        <Status state={list} what="consumers" />
      ) : list.data.consumers.length === 0 ? (
        <p>{search ? `No consumer matches “${search}”.` : "No consumers yet."}</p>
      ) : (
        <table aria-label="Consumers" data-testid="consumers">
          <caption>
            Spend in the current billing period{spend.data ? ` (from ${spend.data.period.key})` : ""}
            {search ? `, matching “${search}”` : ""}
          </caption>
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
                    <a href={`#/consumers/${c.id}`}>{c.username ?? c.custom_id ?? c.kong_id ?? c.id}</a>
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
      )}
      <nav aria-label="Consumer pages" class="pager">
        <button type="button" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {pages.length + 1}</span>
        <button
          type="button"
          disabled={!list.data?.next_after}
          onClick={() => setPages([...pages, list.data!.next_after!])}
        >
          Next page
        </button>
      </nav>
    </article>
  );
}
