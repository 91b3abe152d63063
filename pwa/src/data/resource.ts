// useResource: what a screen shows. The last answer for the URL comes from IndexedDB at once (with
// its age), then the network's answer replaces it and is kept for next time. With no network the
// cached answer stays on screen, marked with how old it is; never a blank page.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { auth } from '../auth';
import { ApiProblem, call, Offline } from '../api/client';
import { open } from './db';
import { onQueue } from './queue';

export interface Resource<T> {
  data: T | undefined;
  /** When the server gave this answer (ms since epoch). */
  at: number | undefined;
  /** True while the answer shown comes from the cache because the network failed. */
  stale: boolean;
  error: ApiProblem | null;
  loading: boolean;
  reload: () => void;
}

const changes = new Set<() => void>();
/** Tells every screen to fetch again (after a write went through). */
export function refreshAll() {
  for (const c of changes) c();
}

export async function cached<T>(url: string): Promise<{ data: T; at: number } | undefined> {
  const uid = auth()?.userId;
  if (!uid) return undefined;
  const hit = await (await open()).get('cache', `${uid} ${url}`);
  return hit ? { data: hit.data as T, at: hit.at } : undefined;
}

export async function remember(url: string, data: unknown) {
  const uid = auth()?.userId;
  if (!uid) return;
  await (await open()).put('cache', { key: `${uid} ${url}`, uid, url, data, at: Date.now() });
}

export function useResource<T>(url: string | null): Resource<T> {
  const [state, setState] = useState<Omit<Resource<T>, 'reload'>>({
    data: undefined,
    at: undefined,
    stale: false,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    changes.add(reload);
    const off = onQueue(reload);
    return () => {
      changes.delete(reload);
      off();
    };
  }, [reload]);

  useEffect(() => {
    if (!url) return;
    let live = true;
    (async () => {
      const hit = await cached<T>(url).catch(() => undefined);
      if (live && hit) setState((s) => (s.data === undefined ? { ...s, data: hit.data, at: hit.at } : s));
      try {
        const data = await call<T>('get', url);
        await remember(url, data).catch(() => {});
        if (live) setState({ data, at: Date.now(), stale: false, error: null, loading: false });
      } catch (e) {
        if (!live) return;
        if (e instanceof Offline) {
          setState((s) => ({ ...s, data: s.data ?? hit?.data, at: s.at ?? hit?.at, stale: true, loading: false }));
        } else if (e instanceof ApiProblem) {
          setState((s) => ({ ...s, error: e, loading: false }));
        } else {
          setState((s) => ({ ...s, error: new ApiProblem(0, { title: String(e) }), loading: false }));
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [url, tick]);

  return { ...state, reload };
}
