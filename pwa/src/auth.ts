// The sign-in: tokens kept in localStorage (the app's own origin only), refreshed before they
// expire. Refresh tokens are single use, so two tabs must never spend the same one: a refresh runs
// under a Web Lock and re-reads the stored tokens once it holds it.
import type { TokenResponse } from './api/types';

export interface Auth {
  access: string;
  refresh: string;
  expiresAt: number; // ms since epoch
  userId: string;
}

const KEY = 'rt.auth';
type Listener = (auth: Auth | null) => void;
const listeners = new Set<Listener>();

function read(): Auth | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Auth) : null;
  } catch {
    return null;
  }
}

let current: Auth | null = read();
/** True when a refresh was refused: the queue is kept, the person is asked to sign in again. */
export let signInNeeded = false;

export function auth(): Auth | null {
  return current;
}

export function onAuth(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function publish() {
  for (const l of listeners) l(current);
}

function subject(jwt: string): string {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return String(payload.sub ?? '');
  } catch {
    return '';
  }
}

export function signedIn(tokens: TokenResponse) {
  current = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    userId: subject(tokens.access_token),
  };
  localStorage.setItem(KEY, JSON.stringify(current));
  signInNeeded = false;
  publish();
}

/** Forgets the tokens of this device (the caller clears the account's cached data and queue). */
export function forget() {
  current = null;
  localStorage.removeItem(KEY);
  publish();
}

export function markSignInNeeded() {
  signInNeeded = true;
  publish();
}

window.addEventListener('storage', (e) => {
  if (e.key === KEY) {
    current = read();
    publish();
  }
});

async function withLock<T>(f: () => Promise<T>): Promise<T> {
  if (navigator.locks) return navigator.locks.request('rt-refresh', f);
  return f();
}

/**
 * Spends the refresh token for a new pair. Returns false when the server refused it (the sign-in
 * ended); throws on a network failure (try again later).
 */
export async function refresh(spent: string | null = null): Promise<boolean> {
  return withLock(async () => {
    const stored = read();
    if (!stored) return false;
    // Another tab (or an earlier call) already refreshed: use its tokens.
    if (spent !== null && stored.access !== spent) {
      current = stored;
      return true;
    }
    const res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: stored.refresh }),
    });
    if (res.ok) {
      signedIn((await res.json()) as TokenResponse);
      return true;
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      markSignInNeeded();
      return false;
    }
    throw new Error(`refresh answered ${res.status}`);
  });
}

/** An access token that is good for at least 30 more seconds, or null when signed out. */
export async function accessToken(): Promise<string | null> {
  if (!current) return null;
  if (current.expiresAt - Date.now() < 30_000) {
    await refresh(current.access);
  }
  return current?.access ?? null;
}
