// What an operator changes on a consumer's page, each through the public API: its plan, its
// limits (token limits, capabilities, tags; the TDL limits are edited on the heat-map grid), its
// budget, credit grants and voids, and its API keys. A consumer key sees none of this.
import { useState } from "preact/hooks";
import type {
  ApiKeyList,
  Consumer,
  ConsumerBudget,
  ConsumerCredit,
  Granted,
  IssuedApiKey,
  PriceBookList,
} from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ActionForm, Check, ConfirmButton, Input, SecretOnce, Select, useAction } from "../components/forms.tsx";
import { instant, money } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

type Props = { api: Api; consumer: Consumer; timeZone: string; currency: string; onChange: () => void };

export function PlanPanel(p: Props) {
  const books = useLoad<PriceBookList>(p.api, "/v1/price-books");
  const [book, setBook] = useState(p.consumer.plan?.price_book.name ?? "");
  const [markup, setMarkup] = useState(p.consumer.plan?.markup_percent ?? "");
  const save = useAction(
    () =>
      p.api.send("PUT", `/v1/consumers/${p.consumer.id}/plan`, {
        price_book: book || null,
        markup_percent: book && markup.trim() ? markup.trim() : undefined,
      }),
    p.onChange,
  );
  const at = { form: "plan", error: save.error };
  return (
    <section aria-labelledby="plan-h" class="panel">
      <h2 id="plan-h">Plan</h2>
      <p data-testid="plan">
        {p.consumer.plan
          ? `Billed by the price book ${p.consumer.plan.price_book.name}${p.consumer.plan.markup_percent ? ` with a markup of ${p.consumer.plan.markup_percent} %` : ""}.`
          : "No plan: billed by its own rates only."}
      </p>
      <ActionForm
        label="Change the plan"
        submit="Save plan"
        action={save}
        fields={["price_book", "markup_percent"]}
        done="Plan saved; its calls are repriced."
      >
        <Select
          {...at}
          label="Price book"
          name="price_book"
          value={book}
          set={setBook}
          options={[["", "none"], ...(books.data?.price_books ?? []).map((b) => [b.name, b.name] as [string, string])]}
        />
        <Input {...at} label="Markup %" name="markup_percent" value={markup} set={setMarkup} inputMode="decimal" />
      </ActionForm>
    </section>
  );
}

/** Capabilities are flags by position; CAPABILITY_MAP says which routes and models each one covers. */
const CAPABILITIES = [0, 1, 2, 3, 4];

export function LimitsPanel(p: Props) {
  const m = p.consumer.metadata;
  const [maxIn, setMaxIn] = useState(m.max_input_tokens?.toString() ?? "");
  const [maxOut, setMaxOut] = useState(m.max_output_tokens?.toString() ?? "");
  const [caps, setCaps] = useState(m.capabilities);
  const [tags, setTags] = useState(m.tags.join(", "));
  const tokens = (s: string) => (s.trim() ? Number(s.trim()) : null);
  const save = useAction(
    () =>
      p.api.send("PATCH", `/v1/consumers/${p.consumer.id}`, {
        metadata: {
          max_input_tokens: tokens(maxIn),
          max_output_tokens: tokens(maxOut),
          capabilities: caps,
          tags: tags
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean),
        },
      }),
    p.onChange,
  );
  const at = { form: "limits", error: save.error };
  return (
    <section aria-labelledby="limits-h" class="panel">
      <h2 id="limits-h">Limits and capabilities</h2>
      <ActionForm
        label="Limits and capabilities"
        submit="Save limits and capabilities"
        action={save}
        done="Saved; the gateway applies them within seconds."
        fields={["metadata.max_input_tokens", "metadata.max_output_tokens", "metadata.capabilities", "metadata.tags"]}
      >
        <Input
          {...at}
          label="Max input tokens"
          name="metadata.max_input_tokens"
          value={maxIn}
          set={setMaxIn}
          inputMode="numeric"
          hint="Empty: no limit."
        />
        <Input
          {...at}
          label="Max output tokens"
          name="metadata.max_output_tokens"
          value={maxOut}
          set={setMaxOut}
          inputMode="numeric"
          hint="Empty: no limit."
        />
        <Input {...at} label="Tags" name="metadata.tags" value={tags} set={setTags} hint="Comma-separated." />
        <fieldset class="types">
          <legend>Capabilities granted (flags by position, see CAPABILITY_MAP)</legend>
          {CAPABILITIES.map((c, i) => (
            <Check
              key={c}
              form={at.form}
              name={`capability-${c}`}
              label={`capability ${c}`}
              checked={caps[i] === 1}
              set={(on) => setCaps(caps.map((v, j) => (j === i ? (on ? 1 : 0) : v)))}
            />
          ))}
        </fieldset>
      </ActionForm>
    </section>
  );
}

export function BudgetPanel(p: Props) {
  const current = useLoad<ConsumerBudget>(p.api, `/v1/consumers/${p.consumer.id}/budget`);
  const b = current.data;
  const [period, setPeriod] = useState("monthly");
  const [amount, setAmount] = useState("");
  const [tokens, setTokens] = useState("");
  const [thresholds, setThresholds] = useState("50, 80");
  const refresh = () => {
    current.reload();
    p.onChange();
  };
  const save = useAction(
    () =>
      p.api.send("PUT", `/v1/consumers/${p.consumer.id}/budget`, {
        period,
        amount: amount.trim() || undefined,
        tokens: tokens.trim() ? Number(tokens.trim()) : undefined,
        thresholds: thresholds
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean)
          .map(Number),
      }),
    refresh,
  );
  const remove = useAction(() => p.api.send("DELETE", `/v1/consumers/${p.consumer.id}/budget`), refresh);
  const at = { form: "budget", error: save.error };
  return (
    <section aria-labelledby="budget-edit-h" class="panel">
      <h2 id="budget-edit-h">Set the budget</h2>
      <p>
        {b
          ? `Now: ${b.amount ? money(b.amount, b.currency) : `${b.tokens} tokens`} ${b.period} (version ${b.version}).`
          : "No budget: calls are limited by the TDL matrix and token limits only."}
      </p>
      <ActionForm
        label="Set the budget"
        submit={b ? "Change budget" : "Set budget"}
        action={save}
        done="Budget saved."
        fields={["period", "amount", "tokens", "thresholds"]}
      >
        <Select
          {...at}
          label="Period"
          name="period"
          value={period}
          set={setPeriod}
          options={[
            ["daily", "daily"],
            ["weekly", "weekly"],
            ["monthly", "monthly"],
          ]}
        />
        <Input
          {...at}
          label={`Amount (${p.currency})`}
          name="amount"
          value={amount}
          set={setAmount}
          inputMode="decimal"
          hint="A hard limit in money; optional if tokens are set."
        />
        <Input
          {...at}
          label="Tokens"
          name="tokens"
          value={tokens}
          set={setTokens}
          inputMode="numeric"
          hint="A hard limit in tokens; optional."
        />
        <Input
          {...at}
          label="Alert at %"
          name="thresholds"
          value={thresholds}
          set={setThresholds}
          hint="Comma-separated percentages."
        />
      </ActionForm>
      {b && (
        <ConfirmButton label="Remove budget" title="Remove the budget?" confirm="Remove" action={remove}>
          <p>Calls are no longer held against a budget. The budget stays in the consumer's history.</p>
        </ConfirmButton>
      )}
    </section>
  );
}

export function GrantCredit(p: Props & { credit?: ConsumerCredit }) {
  const [amount, setAmount] = useState("");
  const [kind, setKind] = useState("purchase");
  const [expires, setExpires] = useState("");
  const [note, setNote] = useState("");
  const grant = useAction(
    () =>
      p.api.send<Granted>("POST", `/v1/consumers/${p.consumer.id}/credits/grants`, {
        amount: amount.trim(),
        kind,
        expires_at: expires || undefined,
        note: note.trim() || undefined,
      }),
    () => {
      setAmount("");
      setNote("");
      p.onChange();
    },
  );
  const at = { form: "grant", error: grant.error };
  return (
    <section aria-labelledby="grant-h" class="panel">
      <h2 id="grant-h">Grant credit</h2>
      <ActionForm
        label="Grant credit"
        submit="Grant credit"
        action={grant}
        done="Credit granted."
        fields={["amount", "kind", "expires_at", "note"]}
      >
        <Input
          {...at}
          label={`Amount (${p.currency})`}
          name="amount"
          value={amount}
          set={setAmount}
          inputMode="decimal"
          required
        />
        <Select
          {...at}
          label="Kind"
          name="kind"
          value={kind}
          set={setKind}
          options={[
            ["purchase", "purchase (bought)"],
            ["promotion", "promotion (given)"],
            ["adjustment", "adjustment (a correction)"],
          ]}
        />
        <Input
          {...at}
          label="Expires on"
          name="expires_at"
          value={expires}
          set={setExpires}
          type="date"
          hint="Optional; never otherwise."
        />
        <Input {...at} label="Note" name="note" value={note} set={setNote} hint="An order number, a campaign." />
      </ActionForm>
    </section>
  );
}

export function VoidGrant(p: { api: Api; consumerId: string; grantId: string; left: string; onChange: () => void }) {
  const [reason, setReason] = useState("");
  const voided = useAction(
    () =>
      p.api.send("POST", `/v1/consumers/${p.consumerId}/credits/grants/${p.grantId}/void`, { reason: reason.trim() }),
    p.onChange,
  );
  return (
    <ConfirmButton
      label="Void"
      title="Void what is left of this grant?"
      confirm="Void grant"
      action={voided}
      fields={["reason"]}
    >
      <p>{p.left} of credit is taken away. Calls it already paid for stay paid.</p>
      <Input
        form={`void-${p.grantId}`}
        label="Reason"
        name="reason"
        value={reason}
        set={setReason}
        error={voided.error}
        required
      />
    </ConfirmButton>
  );
}

export function ApiKeys(p: Props) {
  const keys = useLoad<ApiKeyList>(p.api, `/v1/consumers/${p.consumer.id}/api-keys`);
  const [issued, setIssued] = useState<string | null>(null);
  const issue = useAction(
    () => p.api.send<IssuedApiKey>("POST", `/v1/consumers/${p.consumer.id}/api-keys`, {}),
    (k) => {
      setIssued(k.key);
      keys.reload();
    },
  );
  return (
    <section aria-labelledby="keys-h" class="panel">
      <h2 id="keys-h">API keys</h2>
      <p>A consumer key reads this consumer's own usage, budget, credit and invoices, and nothing else.</p>
      {issued && <SecretOnce label="The new key." secret={issued} onDismiss={() => setIssued(null)} />}
      <button type="button" onClick={() => void issue.run()} disabled={issue.busy}>
        Issue a key
      </button>
      {issue.error && (
        <p class="error" role="alert">
          {issue.error.message}
        </p>
      )}
      {!keys.data ? (
        <Status state={keys} what="keys" />
      ) : (
        keys.data.api_keys.length > 0 && (
          <table aria-label="API keys" data-testid="api-keys">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.api_keys.map((k) => (
                <tr key={k.id} data-key={k.id}>
                  <th scope="row">
                    <code>{k.prefix}…</code>
                  </th>
                  <td>{instant(k.created_at, p.timeZone)}</td>
                  <td>{instant(k.last_used_at, p.timeZone)}</td>
                  <td>
                    {k.revoked_at ? (
                      `revoked ${instant(k.revoked_at, p.timeZone)}`
                    ) : (
                      <RevokeKey {...p} id={k.id} prefix={k.prefix} onRevoked={keys.reload} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
    </section>
  );
}

function RevokeKey(p: Props & { id: string; prefix: string; onRevoked: () => void }) {
  const revoke = useAction(() => p.api.send("DELETE", `/v1/consumers/${p.consumer.id}/api-keys/${p.id}`), p.onRevoked);
  return (
    <ConfirmButton label="Revoke" title={`Revoke the key ${p.prefix}…?`} confirm="Revoke key" action={revoke}>
      <p>Whoever holds it can no longer read this consumer's data. This cannot be undone.</p>
    </ConfirmButton>
  );
}
