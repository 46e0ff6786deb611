// The dashboard: a key in, then the operator's pages (admin key) or the consumer's own page
// (a consumer key). Pages are addressed by the URL's hash, so the back button and links work.
import { type JSX, render } from "preact";
import type { Me } from "../http/contract/types.ts";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createApi, savedKey, saveKey, type Api } from "./api.ts";
import { ConsumerPage } from "./views/consumer.tsx";
import { Consumers } from "./views/consumers.tsx";
import { DeadLetters } from "./views/dead-letters.tsx";
import { Health } from "./views/health.tsx";
import { ReviewQueue } from "./views/invoices.tsx";
import { PriceBookPage, PriceBooks } from "./views/price-books.tsx";
import { Webhooks } from "./views/webhooks.tsx";
import "./styles.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function SignIn(p: { onKey: (key: string) => void; error?: string }) {
  const [key, setKey] = useState("");
  return (
    <main id="main" class="signin">
      <h1>tokenmeter</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) p.onKey(key.trim());
        }}
      >
        <label for="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-describedby="key-help"
          required
        />
        <p id="key-help" class="muted">
          The admin key shows every consumer; a consumer key (tmk_…) shows that consumer's own usage. It stays in this
          tab only.
        </p>
        {p.error && (
          <p class="error" role="alert">
            {p.error}
          </p>
        )}
        <button type="submit">Open the dashboard</button>
      </form>
    </main>
  );
}

const ZONES = (billing: string) => [...new Set([billing, Intl.DateTimeFormat().resolvedOptions().timeZone, "UTC"])];

function Shell(p: { api: Api; me: Me; signOut: () => void }) {
  const hash = useHash();
  const [timeZone, setTimeZone] = useState(p.me.billing.time_zone);
  const ctx = {
    api: p.api,
    viewer: p.me,
    timeZone,
    billingZone: p.me.billing.time_zone,
    currency: p.me.billing.currency,
    levelBounds: p.me.tdl.level_bounds,
  };
  const consumerId = /^#\/consumers\/([^/]+)$/.exec(hash)?.[1];
  const bookName = /^#\/price-books\/([^/]+)$/.exec(hash)?.[1];
  let page: JSX.Element;
  if (p.me.kind === "consumer")
    page = <ConsumerPage key={consumerId ?? p.me.consumer_id} {...ctx} id={consumerId ?? p.me.consumer_id} />;
  else if (consumerId) page = <ConsumerPage key={consumerId} {...ctx} id={consumerId} />;
  else if (bookName)
    page = (
      <PriceBookPage
        key={bookName}
        api={p.api}
        name={decodeURIComponent(bookName)}
        currency={ctx.currency}
        timeZone={timeZone}
      />
    );
  else if (hash === "#/health") page = <Health api={p.api} />;
  else if (hash === "#/review") page = <ReviewQueue api={p.api} timeZone={timeZone} period={p.me.billing.period} />;
  else if (hash === "#/price-books") page = <PriceBooks api={p.api} currency={ctx.currency} />;
  else if (hash === "#/dead-letters") page = <DeadLetters api={p.api} timeZone={timeZone} />;
  else if (hash === "#/webhooks") page = <Webhooks api={p.api} timeZone={timeZone} />;
  else page = <Consumers api={p.api} currency={ctx.currency} timeZone={timeZone} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <strong>tokenmeter</strong>
          {p.me.kind === "admin" ? (
            <>
              <a href="#/">Consumers</a>
              <a href="#/review">Invoices to review</a>
              <a href="#/price-books">Price books</a>
              <a href="#/dead-letters">Dead letters</a>
              <a href="#/webhooks">Webhooks</a>
              <a href="#/health">Health</a>
            </>
          ) : (
            <a href="#/">Your usage ({p.me.username ?? "consumer"})</a>
          )}
        </nav>
        <label>
          Time zone{" "}
          <select value={timeZone} onChange={(e) => setTimeZone((e.target as HTMLSelectElement).value)}>
            {ZONES(p.me.billing.time_zone).map((z) => (
              <option key={z} value={z}>
                {z === p.me.billing.time_zone ? `${z} (billing)` : z}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={p.signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

function App() {
  const [key, setKey] = useState<string | null>(savedKey());
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | undefined>();
  const api = useMemo(() => (key ? createApi(key) : null), [key]);
  useEffect(() => {
    if (!api) return;
    api.get<Me>("/v1/me").then(
      (m) => {
        setMe(m);
        setError(undefined);
      },
      (err: Error) => {
        setError(`That key was not accepted: ${err.message}`);
        setKey(null);
        saveKey(null);
      },
    );
  }, [api]);
  if (!api || !me)
    return (
      <SignIn
        error={error}
        onKey={(k) => {
          saveKey(k);
          setKey(k);
        }}
      />
    );
  return (
    <Shell
      api={api}
      me={me}
      signOut={() => {
        saveKey(null);
        setKey(null);
        setMe(null);
        location.hash = "#/";
      }}
    />
  );
}

render(<App />, document.getElementById("app")!);
