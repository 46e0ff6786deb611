// The dashboard's only way to the API: same origin, the key the user gave, JSON in and out. A
// refusal keeps the API's code and the field it names, so a form shows it beside that field.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Method = "POST" | "PUT" | "PATCH" | "DELETE";

/** `get<T>`/`send<T>`: T is the route's answer type from the contract (src/http/contract/types.ts). */
export type Api = {
  get<T>(path: string): Promise<T>;
  send<T>(method: Method, path: string, body?: unknown): Promise<T>;
  text(path: string): Promise<string>;
  blob(path: string): Promise<Blob>;
};

export function createApi(key: string): Api {
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.body ? { "content-type": "application/json" } : {}) },
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as {
        error?: { message?: string; code?: string; field?: string };
      } | null;
      const e = body?.error;
      throw new ApiError(res.status, e?.message ?? `${res.status} ${res.statusText}`, e?.code, e?.field);
    }
    return res;
  };
  return {
    get: async <T>(path: string) => (await (await call(path)).json()) as T,
    send: async <T>(method: Method, path: string, body?: unknown) => {
      const res = await call(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      return (res.status === 204 ? undefined : await res.json()) as T;
    },
    text: async (path) => (await call(path)).text(),
    blob: async (path) => (await call(path)).blob(),
  };
}

/** Saves what the API answered as a file, named as given. */
export async function download(api: Api, path: string, name: string): Promise<void> {
  const url = URL.createObjectURL(await api.blob(path));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const KEY = "tokenmeter.key";
export const savedKey = () => sessionStorage.getItem(KEY);
export const saveKey = (key: string | null) =>
  key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY);
