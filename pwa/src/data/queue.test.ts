// The offline queue against a scripted server: order, exactly-once keys, refusals kept with the
// server's message, waiting on 5xx / network failures, and the token refresh on a 401.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signedIn } from '../auth';
import { enqueue, pending, replay } from './queue';
import { clearAccount } from './db';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'offline';
let script: ((req: { method: string; url: string; key: string | null; auth: string | null }) => Reply)[] = [];
const seen: { method: string; url: string; key: string | null; auth: string | null }[] = [];
const unexpected: string[] = [];
afterEach(() => expect(unexpected).toEqual([]));

function jwt(sub: string) {
  return `h.${btoa(JSON.stringify({ sub }))}.s`;
}

beforeEach(async () => {
  seen.length = 0;
  unexpected.length = 0;
  script = [];
  signedIn({ access_token: jwt('u1'), refresh_token: 'r1', expires_in: 900, token_type: 'Bearer' });
  await clearAccount('u1');
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const req = { method: String(init.method), url, key: headers['Idempotency-Key'] ?? null, auth: headers.Authorization ?? null };
    seen.push(req);
    const next = script.shift();
    if (!next) {
      unexpected.push(`${req.method} ${url}`);
      throw new TypeError('unscripted');
    }
    const r = next(req);
    if (r === 'offline') throw new TypeError('Failed to fetch');
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: r.headers });
  });
});

const offline = () => 'offline' as const;
const okReply = () => ({ status: 200, body: {} });

describe('the offline queue', () => {
  it('keeps writes made offline, then sends them in order, each with its own fixed key', async () => {
    script = [offline];
    await enqueue({ method: 'post', url: '/a', body: { n: 1 }, label: 'first' });
    await replay();
    script = [offline];
    await enqueue({ method: 'put', url: '/b', body: { n: 2 }, label: 'second' });
    await replay();
    expect((await pending()).map((w) => w.label)).toEqual(['first', 'second']);
    const keys = (await pending()).map((w) => w.key);

    seen.length = 0;
    script = [okReply, okReply];
    await replay();
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /a', 'PUT /b']);
    expect(seen.map((r) => r.key)).toEqual(keys);
    expect(await pending()).toEqual([]);
  });

  it('a replay after a lost answer sends the same key again (the server answers it once)', async () => {
    script = [offline];
    await enqueue({ method: 'post', url: '/c', label: 'check-in' });
    await replay();
    script = [offline]; // sent, but the answer never came back
    await replay();
    script = [okReply];
    await replay();
    const keys = seen.map((r) => r.key);
    expect(new Set(keys).size).toBe(1);
    expect(await pending()).toEqual([]);
  });

  it('a refused write stays, with the server message, and does not block the next one', async () => {
    script = [offline];
    await enqueue({ method: 'put', url: '/rsvp', body: {}, label: 'RSVP' });
    await replay();
    script = [offline];
    await enqueue({ method: 'post', url: '/checkin', label: 'check-in' });
    await replay();
    script = [() => ({ status: 409, body: { title: 'Conflict', detail: 'The session was cancelled.', code: 'session_cancelled' } }), okReply];
    await replay();
    const left = await pending();
    expect(left.map((w) => [w.label, w.failed?.status, w.failed?.message])).toEqual([['RSVP', 409, 'The session was cancelled.']]);
    // It is not sent again.
    seen.length = 0;
    await replay();
    expect(seen).toEqual([]);
  });

  it('waits on 5xx, 429 and 409 request_in_progress, and keeps the write', async () => {
    script = [offline];
    await enqueue({ method: 'post', url: '/x', label: 'x' });
    await replay();
    for (const reply of [{ status: 503 }, { status: 429 }, { status: 409, headers: { 'retry-after': '1' }, body: { code: 'request_in_progress' } }]) {
      script = [() => reply];
      await replay();
      expect((await pending()).map((w) => [w.label, w.failed])).toEqual([['x', undefined]]);
    }
  });

  it('refreshes an expired token and goes on; a refused refresh keeps the queue', async () => {
    script = [offline];
    await enqueue({ method: 'post', url: '/y', label: 'y' });
    await replay();
    seen.length = 0;
    script = [
      () => ({ status: 401 }),
      () => ({ status: 200, body: { access_token: jwt('u1') + 'new', refresh_token: 'r2', expires_in: 900, token_type: 'Bearer' } }),
      okReply,
    ];
    await replay();
    expect(seen.map((r) => r.url)).toEqual(['/y', '/api/v1/auth/refresh', '/y']);
    expect(seen[2].auth).toBe(`Bearer ${jwt('u1')}new`);
    expect(await pending()).toEqual([]);

    script = [offline];
    await enqueue({ method: 'post', url: '/z', label: 'z' });
    await replay();
    script = [() => ({ status: 401 }), () => ({ status: 401, body: { code: 'invalid_token' } })];
    await replay();
    expect((await pending()).map((w) => [w.label, w.failed])).toEqual([['z', undefined]]);
  });
});
