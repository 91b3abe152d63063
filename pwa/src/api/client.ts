// One way to call the API: JSON in and out, the bearer token added, one refresh on a 401, and
// RFC 9457 problems turned into a message a person can read.
import { accessToken, auth, refresh } from '../auth';
import type { BodyOf, paths, Problem, ReplyOf } from './types';

export class ApiProblem extends Error {
  constructor(
    public status: number,
    public problem: Partial<Problem>,
  ) {
    super(describe(problem, status));
  }
}

/** Thrown when the request never reached the server (offline, or the server is down). */
export class Offline extends Error {
  constructor() {
    super('No connection to the server.');
  }
}

export function describe(p: Partial<Problem>, status: number): string {
  // "weekly_minutes: is required" reads as "Weekly minutes is required."
  const fields = (p.errors ?? []).map((e) => {
    const name = e.field.replace(/[_.]/g, ' ').replace(/\[(\d+)\]/g, (_, i) => ` ${Number(i) + 1}`);
    return `${name.charAt(0).toUpperCase()}${name.slice(1)} ${e.message}.`;
  });
  if (fields.length) return fields.join(' ');
  return p.detail || p.title || `The server answered ${status}.`;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface CallOptions {
  idempotencyKey?: string;
  /** Send without a token (sign-in, sign-up, redeeming a mailed link). */
  anonymous?: boolean;
}

/** Fills `{name}` placeholders of a route with the values given (URL-encoded). */
export function route(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k] ?? ''));
}

export async function raw(method: Method, url: string, body?: unknown, opts: CallOptions = {}): Promise<Response> {
  const send = async (token: string | null) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    try {
      return await fetch(url, {
        method: method.toUpperCase(),
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new Offline();
    }
  };
  const token = opts.anonymous ? null : await accessToken().catch(() => auth()?.access ?? null);
  let res = await send(token);
  if (res.status === 401 && token) {
    let ok = false;
    try {
      ok = await refresh(token);
    } catch {
      throw new Offline();
    }
    if (ok) res = await send(auth()?.access ?? null);
  }
  return res;
}

export async function call<T = unknown>(method: Method, url: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const res = await raw(method, url, body, opts);
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiProblem(res.status, (data ?? {}) as Partial<Problem>);
  return data as T;
}

type WithMethod<M extends string> = { [P in keyof paths]: paths[P] extends Record<M, object> ? P : never }[keyof paths];

/** Typed GET: the path template, its parameters and query. */
export function get<P extends WithMethod<'get'>>(
  path: P,
  params: Record<string, string> = {},
  query?: Record<string, string | number | undefined>,
): Promise<ReplyOf<P, 'get' & keyof paths[P]>> {
  return call('get', withQuery(route(path, params), query));
}

export function withQuery(url: string, query?: Record<string, string | number | undefined>): string {
  if (!query) return url;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${url}?${s}` : url;
}

/** Typed write, sent now (for what cannot wait: signing in, joining, settings). */
export function send<P extends keyof paths, M extends Method & keyof paths[P]>(
  method: M,
  path: P,
  params: Record<string, string>,
  body: BodyOf<P, M> | undefined,
  opts: CallOptions = {},
): Promise<ReplyOf<P, M>> {
  return call(method, route(path as string, params), body, { idempotencyKey: crypto.randomUUID(), ...opts });
}
