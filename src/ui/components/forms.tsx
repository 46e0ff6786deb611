// Forms that act through the API. An action is busy until its answer arrives; a refusal is shown
// beside the field it names (or above the form when it names none of its fields); a destructive
// action asks first, in a modal dialog; a secret the API shows once is shown once here too.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";

export type Action<A extends unknown[]> = {
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  error: ApiError | Error | undefined;
  done: boolean;
};

/** Runs an API call; `run` answers whether it succeeded, and the error stays to be shown. */
export function useAction<A extends unknown[], T>(
  fn: (...args: A) => Promise<T>,
  onDone?: (t: T) => void | Promise<void>,
): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | undefined>();
  const [done, setDone] = useState(false);
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    setDone(false);
    try {
      const t = await fn(...args);
      await onDone?.(t);
      setDone(true);
      return true;
    } catch (err) {
      setError(err as Error);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, done };
}

/** Whether a refusal names this field (or a part of it: metadata.tdl_matrix.T5 names metadata.tdl_matrix). */
const names = (error: unknown, name: string) =>
  error instanceof ApiError &&
  !!error.field &&
  (error.field === name || error.field.startsWith(`${name}.`) || error.field.startsWith(`${name}[`));

/** The refusal's message without the field prefix the API adds ("amount: must be ..."). */
const messageOf = (error: Error) =>
  error instanceof ApiError && error.field && error.message.startsWith(`${error.field}: `)
    ? error.message.slice(error.field.length + 2)
    : error.message;

type FieldProps = {
  label: string;
  name: string;
  error?: Error;
  hint?: string;
  /** Field ids must be unique on the page: a form's prefix keeps two forms' fields apart. */
  form: string;
};

/** What an input needs to be labelled and described: its id, and its error and hint when there are. */
type Described = { id: string; "aria-invalid": boolean; "aria-describedby"?: string };

function FieldShell(p: FieldProps & { children: (a: Described) => ComponentChildren }) {
  const id = `${p.form}-${p.name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const invalid = names(p.error, p.name);
  const described = [p.hint ? `${id}-hint` : "", invalid ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class={`field${invalid ? " invalid" : ""}`}>
      <label for={id}>{p.label}</label>
      {p.children({ id, "aria-invalid": invalid, "aria-describedby": described || undefined })}
      {p.hint && (
        <span id={`${id}-hint`} class="hint">
          {p.hint}
        </span>
      )}
      {invalid && (
        <span id={`${id}-error`} class="field-error" role="alert">
          {messageOf(p.error!)}
        </span>
      )}
    </div>
  );
}

type InputProps = FieldProps & {
  value: string;
  set: (v: string) => void;
  type?: "text" | "url" | "date" | "datetime-local" | "number";
  required?: boolean;
  placeholder?: string;
  inputMode?: "decimal" | "numeric" | "text";
};

export function Input(p: InputProps) {
  return (
    <FieldShell {...p}>
      {(a) => (
        <input
          {...a}
          name={p.name}
          type={(p.type ?? "text") as "text"}
          value={p.value}
          required={p.required}
          placeholder={p.placeholder}
          inputMode={p.inputMode}
          onInput={(e) => p.set((e.target as HTMLInputElement).value)}
        />
      )}
    </FieldShell>
  );
}

export function Select(p: FieldProps & { value: string; set: (v: string) => void; options: Array<[string, string]> }) {
  return (
    <FieldShell {...p}>
      {(a) => (
        <select {...a} name={p.name} value={p.value} onChange={(e) => p.set((e.target as HTMLSelectElement).value)}>
          {p.options.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      )}
    </FieldShell>
  );
}

export function Check(p: { label: string; name: string; form: string; checked: boolean; set: (v: boolean) => void }) {
  const id = `${p.form}-${p.name}`;
  return (
    <div class="field check">
      <input
        id={id}
        type="checkbox"
        name={p.name}
        checked={p.checked}
        onChange={(e) => p.set((e.target as HTMLInputElement).checked)}
      />
      <label for={id}>{p.label}</label>
    </div>
  );
}

/** The refusal when it names none of the form's fields, or the request failed as a whole. */
function FormError(p: { error?: Error; fields: string[] }) {
  if (!p.error || p.fields.some((f) => names(p.error, f))) return null;
  return (
    <p class="error" role="alert">
      {p.error.message}
    </p>
  );
}

/** A form whose submit runs an action; the submit button says what it does and is busy meanwhile. */
export function ActionForm(p: {
  label: string;
  submit: string;
  action: Action<[]>;
  fields: string[];
  children: ComponentChildren;
  done?: string;
}) {
  return (
    <form
      aria-label={p.label}
      class="action-form"
      onSubmit={(e) => {
        e.preventDefault();
        void p.action.run();
      }}
    >
      <FormError error={p.action.error} fields={p.fields} />
      <div class="fields">{p.children}</div>
      <button type="submit" disabled={p.action.busy}>
        {p.action.busy ? "Working…" : p.submit}
      </button>
      {p.done && p.action.done && !p.action.error && (
        <span class="ok-note" role="status">
          {p.done}
        </span>
      )}
    </form>
  );
}

/**
 * A destructive action: the button opens a modal dialog that says what will happen; only its
 * confirm button acts. Children (a reason field, say) sit in the dialog above the buttons.
 */
export function ConfirmButton(p: {
  label: string;
  title: string;
  confirm: string;
  action: Action<[]>;
  fields?: string[];
  children?: ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open) dialog.current?.showModal();
    else dialog.current?.close();
  }, [open]);
  return (
    <>
      <button type="button" class="danger" onClick={() => setOpen(true)}>
        {p.label}
      </button>
      <dialog ref={dialog} aria-label={p.title} onClose={() => setOpen(false)}>
        <form
          method="dialog"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await p.action.run()) setOpen(false);
          }}
        >
          <h2>{p.title}</h2>
          <FormError error={p.action.error} fields={p.fields ?? []} />
          {p.children}
          <div class="buttons">
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={p.action.busy}>
              {p.action.busy ? "Working…" : p.confirm}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** A secret the API shows once (a consumer key, a signing secret): shown here once, to copy now. */
export function SecretOnce(p: { label: string; secret: string; onDismiss: () => void }) {
  return (
    <div class="secret" role="status">
      <p>
        <strong>{p.label}</strong> It is shown only now: copy it somewhere safe.
      </p>
      <code data-testid="secret">{p.secret}</code>{" "}
      <button type="button" onClick={() => void navigator.clipboard?.writeText(p.secret)}>
        Copy
      </button>{" "}
      <button type="button" onClick={p.onDismiss}>
        Done
      </button>
    </div>
  );
}

/** Shows or hides one item of a list below it (an invoice, a line's calls): `open` is the one shown. */
export function Toggle<T>(p: { item: T; open: T | null; setOpen: (v: T | null) => void; show: string; hide: string }) {
  const shown = p.open === p.item;
  return (
    <button type="button" aria-expanded={shown} onClick={() => p.setOpen(shown ? null : p.item)}>
      {shown ? p.hide : p.show}
    </button>
  );
}

/** The two prices every price has, per token: input and output (decimal strings, checked by the API). */
export function PerTokenPrices(p: {
  at: { form: string; error?: Error };
  input: string;
  setInput: (v: string) => void;
  output: string;
  setOutput: (v: string) => void;
}) {
  return (
    <>
      {(
        [
          ["Input per token", "input_cost_per_token", p.input, p.setInput],
          ["Output per token", "output_cost_per_token", p.output, p.setOutput],
        ] as const
      ).map(([label, name, value, set]) => (
        <Input key={name} {...p.at} label={label} name={name} value={value} set={set} inputMode="decimal" required />
      ))}
    </>
  );
}
