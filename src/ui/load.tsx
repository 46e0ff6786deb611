// Data for a view: loads when the path changes; an error is kept to be shown, never thrown.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type Api } from "./api.ts";

export type Loaded<T> = { data?: T; error?: ApiError | Error; loading: boolean };

export function useLoad<T>(api: Api, path: string | null): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState({ loading: true });
    api.get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [api, path]);
  return state;
}

export function Status(p: { state: Loaded<unknown>; what: string }) {
  if (p.state.loading)
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
