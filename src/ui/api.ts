// The dashboard's only way to the API: same origin, the key the user gave, JSON in and out.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `get<T>`: T is the route's answer type from the contract (src/http/contract/types.ts). */
export type Api = { get<T>(path: string): Promise<T>; text(path: string): Promise<string> };

export function createApi(key: string): Api {
  const call = async (path: string) => {
    const res = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new ApiError(res.status, body?.error?.message ?? `${res.status} ${res.statusText}`);
    }
    return res;
  };
  return {
    get: async <T>(path: string) => (await (await call(path)).json()) as T,
    text: async (path) => (await call(path)).text(),
  };
}

const KEY = "tokenmeter.key";
export const savedKey = () => sessionStorage.getItem(KEY);
export const saveKey = (key: string | null) =>
  key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY);
