// Data for a view: loads when the path changes or when the view asks again (after an action
// changed it); an error is kept to be shown, never thrown.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type Api } from "./api.ts";

export type Loaded<T> = { data?: T; error?: ApiError | Error; loading: boolean; reload: () => void };

export function useLoad<T>(api: Api, path: string | null): Loaded<T> {
  const [round, setRound] = useState(0);
  const [state, setState] = useState<Omit<Loaded<T>, "reload">>({ loading: true });
  useEffect(() => {
    if (!path) return;
    let live = true;
    // the data on screen stays while it reloads: an action's result replaces it, no flicker
    setState((s) => ({ ...s, loading: true }));
    api.get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [api, path, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

export function Status(p: { state: Omit<Loaded<unknown>, "reload">; what: string }) {
  if (p.state.loading && !p.state.data)
    return (
      <p class="muted" role="status">
        Loading {p.what}…
      </p>
    );
  if (p.state.error) {
    const notFound = p.state.error instanceof ApiError && p.state.error.status === 404;
    return (
      <p class="error" role="alert">
        {notFound ? `No ${p.what} here for this key.` : `Could not load ${p.what}: ${p.state.error.message}`}
      </p>
    );
  }
  return null;
}
