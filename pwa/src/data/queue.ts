// Writes that may be made offline (check-ins, RSVPs, confirmations, sign-ups, comments) go through
// this queue: stored in IndexedDB with an Idempotency-Key first, then sent in order. A replay never
// duplicates (the server keeps the answer per key); a write the server refuses stays in the queue,
// marked with the server's message, until the person dismisses it; nothing is dropped silently.
import { auth, refresh, signInNeeded } from '../auth';
import { ApiProblem, describe, Method, Offline, raw } from '../api/client';
import { open, type QueuedWrite } from './db';

type Listener = () => void;
const listeners = new Set<Listener>();
export function onQueue(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
function changed() {
  for (const l of listeners) l();
}

export async function pending(): Promise<QueuedWrite[]> {
  const uid = auth()?.userId;
  if (!uid) return [];
  return (await open()).getAllFromIndex('queue', 'uid', uid);
}

export async function enqueue(w: { method: Exclude<Method, 'get'>; url: string; body?: unknown; label: string }) {
  const uid = auth()?.userId;
  if (!uid) throw new Error('not signed in');
  const item: QueuedWrite = { ...w, uid, key: crypto.randomUUID(), created: Date.now() };
  await (await open()).add('queue', item);
  changed();
  // Where the browser has Background Sync, the service worker wakes the app when the network is back.
  navigator.serviceWorker?.ready
    .then((r) => (r as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }).sync?.register('replay'))
    .catch(() => {});
  void replay();
}

export async function dismiss(id: number) {
  await (await open()).delete('queue', id);
  changed();
}

let running: Promise<void> | null = null;

/** Sends what is queued, oldest first. Safe to call at any time; calls while running join it. */
export function replay(): Promise<void> {
  running ??= run().finally(() => {
    running = null;
  });
  return running;
}

async function run() {
  const go = async (refreshed = false): Promise<void> => {
    for (const item of await pending()) {
      if (item.failed) continue;
      let res: Response;
      try {
        res = await raw(item.method, item.url, item.body, { idempotencyKey: item.key });
      } catch (e) {
        if (e instanceof Offline) return; // still offline: try again later
        throw e;
      }
      const d = await open();
      if (res.ok) {
        await d.delete('queue', item.id!);
        changed();
        continue;
      }
      if (res.status === 401) {
        // raw() already tried one refresh: when that was refused the sign-in has ended (keep the
        // queue; the app asks to sign in). Otherwise the fresh token was refused too: try once more.
        if (signInNeeded) return;
        const ok = !refreshed && (await refresh(null).catch(() => false));
        if (!ok) return; // keep the queue; the app asks to sign in
        return go(true);
      }
      if (res.status === 429 || res.status >= 500 || (res.status === 409 && res.headers.has('retry-after'))) {
        return; // the server asks to wait: leave it for the next round
      }
      let message = `The server refused this (${res.status}).`;
      try {
        message = describe(await res.json(), res.status);
      } catch {
        /* not JSON */
      }
      await d.put('queue', { ...item, failed: { status: res.status, message } });
      changed();
    }
  };
  if (navigator.locks) await navigator.locks.request('rt-replay', () => go());
  else await go();
}

/** Starts replaying on app start, when the network returns, on a timer and when the worker asks. */
export function startReplaying() {
  void replay();
  window.addEventListener('online', () => void replay());
  setInterval(() => {
    if (navigator.onLine) void replay();
  }, 20_000);
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data?.type === 'replay') void replay();
  });
}

export { ApiProblem };
