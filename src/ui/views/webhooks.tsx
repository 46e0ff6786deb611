// Webhook endpoints (operator): add one (its signing secret shown once), send it a test event,
// read its delivery log (each attempt's answer), and disable it.
import { useEffect, useState } from "preact/hooks";
import { ALERT_TYPES } from "../../alerts/alert-types.ts";
import type { CreatedEndpoint, Deliveries, EndpointList } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ActionForm, ConfirmButton, Input, SecretOnce, useAction } from "../components/forms.tsx";
import { instant } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

function AddEndpoint(p: { api: Api; onAdded: () => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<Set<string>>(new Set());
  const [secret, setSecret] = useState<string | null>(null);
  const add = useAction(
    () =>
      p.api.send<CreatedEndpoint>("POST", "/v1/webhook-endpoints", {
        url: url.trim(),
        description: description.trim() || undefined,
        event_types: [...types],
      }),
    (e) => {
      setSecret(e.secret);
      setUrl("");
      setDescription("");
      p.onAdded();
    },
  );
  const at = { form: "new-endpoint", error: add.error };
  return (
    <section aria-labelledby="add-endpoint-h" class="panel">
      <h2 id="add-endpoint-h">Add an endpoint</h2>
      {secret && (
        <SecretOnce label="The endpoint's signing secret." secret={secret} onDismiss={() => setSecret(null)} />
      )}
      <ActionForm
        label="Add an endpoint"
        submit="Add endpoint"
        action={add}
        fields={["url", "description", "event_types"]}
      >
        <Input {...at} label="URL" name="url" value={url} set={setUrl} type="url" required />
        <Input {...at} label="Description" name="description" value={description} set={setDescription} />
        <fieldset class="types">
          <legend>Alert types (none ticked: every type)</legend>
          {ALERT_TYPES.filter((t) => t !== "webhook.test").map((t) => (
            <label key={t} class="check">
              <input
                type="checkbox"
                checked={types.has(t)}
                onChange={() => {
                  const next = new Set(types);
                  if (next.has(t)) next.delete(t);
                  else next.add(t);
                  setTypes(next);
                }}
              />{" "}
              {t}
            </label>
          ))}
        </fieldset>
      </ActionForm>
    </section>
  );
}

function DeliveryLog(p: { api: Api; id: string; timeZone: string; round: number }) {
  const log = useLoad<Deliveries>(p.api, `/v1/webhook-endpoints/${p.id}/deliveries?limit=50`);
  // a test event lands in the log a moment after it is sent: the log follows the sends
  useReloadOn(p.round, log.reload);
  if (!log.data) return <Status state={log} what="deliveries" />;
  if (log.data.deliveries.length === 0) return <p class="muted">Nothing sent yet.</p>;
  return (
    <table aria-label="Delivery log" data-testid="delivery-log">
      <thead>
        <tr>
          <th scope="col">Alert</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">
            Attempts
          </th>
          <th scope="col">Last answer</th>
          <th scope="col">Sent</th>
        </tr>
      </thead>
      <tbody>
        {log.data.deliveries.map((d) => (
          <tr key={d.id} data-delivery={d.id} data-status={d.status}>
            <td>{d.alert_type}</td>
            <td>{d.status}</td>
            <td class="num">{d.attempts}</td>
            <td>{d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error ?? "—")}</td>
            <td>{instant(d.created_at, p.timeZone)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Reloads a few times after `round` changes, while a delivery is on its way. */
function useReloadOn(round: number, reload: () => void) {
  useEffect(() => {
    if (round === 0) return;
    const timers = [300, 1000, 2500, 5000].map((ms) => setTimeout(reload, ms));
    return () => timers.forEach(clearTimeout);
  }, [round]);
}

function EndpointRow(p: { api: Api; e: EndpointList["endpoints"][number]; timeZone: string; onChange: () => void }) {
  const [round, setRound] = useState(0);
  const [showLog, setShowLog] = useState(false);
  const test = useAction(
    () => p.api.send("POST", `/v1/webhook-endpoints/${p.e.id}/test`),
    () => {
      setShowLog(true);
      setRound(round + 1);
    },
  );
  const disable = useAction(() => p.api.send("DELETE", `/v1/webhook-endpoints/${p.e.id}`), p.onChange);
  return (
    <li data-endpoint={p.e.id} class="endpoint">
      <p>
        <strong>{p.e.url}</strong>{" "}
        {p.e.enabled ? <span class="badge ok">enabled</span> : <span class="badge warn">disabled</span>}{" "}
        <span class="muted">
          {p.e.description ? `${p.e.description}; ` : ""}
          {p.e.event_types.length ? p.e.event_types.join(", ") : "every alert type"}
        </span>
      </p>
      {p.e.enabled && (
        <div class="toolbar">
          <button type="button" onClick={() => void test.run()} disabled={test.busy}>
            Send a test event
          </button>
          <ConfirmButton label="Disable" title="Disable this endpoint?" confirm="Disable" action={disable}>
            <p>Nothing more is sent to {p.e.url}. This cannot be undone; add it again to resume.</p>
          </ConfirmButton>
        </div>
      )}
      {test.error && (
        <p class="error" role="alert">
          {test.error.message}
        </p>
      )}
      {test.done && !test.error && (
        <p role="status" class="ok-note">
          Test event sent; its delivery shows in the log.
        </p>
      )}
      <button type="button" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
        {showLog ? "Hide the delivery log" : "Show the delivery log"}
      </button>
      {showLog && <DeliveryLog api={p.api} id={p.e.id} timeZone={p.timeZone} round={round} />}
    </li>
  );
}

export function Webhooks(p: { api: Api; timeZone: string }) {
  const list = useLoad<EndpointList>(p.api, "/v1/webhook-endpoints");
  return (
    <article>
      <h1>Webhooks</h1>
      <AddEndpoint api={p.api} onAdded={list.reload} />
      <h2>Endpoints</h2>
      {!list.data ? (
        <Status state={list} what="endpoints" />
      ) : list.data.endpoints.length === 0 ? (
        <p>No endpoints yet.</p>
      ) : (
        <ul class="endpoints">
          {list.data.endpoints.map((e) => (
            <EndpointRow key={e.id} api={p.api} e={e} timeZone={p.timeZone} onChange={list.reload} />
          ))}
        </ul>
      )}
    </article>
  );
}
