// What the browser tests share: the server's address, its mail, and a few API calls to set up a
// cohort the way its organizer would (the browser then does what a member does).
import { expect, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BASE = () => process.env.RT_BASE!;
export const app = (path = '') => `${BASE()}/app/${path}`;

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export function allMail(): Mail[] {
  const dir = process.env.RT_MAILDIR!;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

/** Waits for a mail to `to` whose text contains a link to `/app/{path}`; returns that link. */
export async function mailedLink(to: string, path: string, wait = 15_000): Promise<string> {
  const re = new RegExp(`${BASE().replace(/[.]/g, '\\.')}/app/${path}#[a-z]+=[A-Za-z0-9_-]+`);
  const deadline = Date.now() + wait;
  for (;;) {
    for (const m of allMail().reverse()) {
      if (!m.to.includes(to)) continue;
      const hit = m.text.match(re);
      if (hit) return hit[0];
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a link to /app/${path}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${BASE()}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function ok<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const r = await api<T>(method, path, body, token);
  if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface Person {
  name: string;
  email: string;
  password: string;
  token: string;
  id: string;
}

let seq = 0;
export function unique(name: string): string {
  return `${name.toLowerCase()}-${Date.now().toString(36)}-${++seq}@example.org`;
}

/** An account made through the API, its address confirmed from the mailed link's token. */
export async function person(name: string): Promise<Person> {
  const email = unique(name);
  const password = 'long enough password';
  const user = await ok('POST', '/api/v1/auth/signup', { email, password, display_name: name, time_zone: 'Europe/Berlin' });
  const link = await mailedLink(email, 'verify-email');
  const login = await ok('POST', '/api/v1/auth/login', { email, password });
  // Signed in while confirming, as the app does: the sign-in and the password stay good.
  await ok('POST', '/api/v1/auth/email-verifications/redeem', { token: link.split('#token=')[1] }, login.access_token);
  return { name, email, password, token: login.access_token, id: user.id };
}

/** A cohort run by `organizer`, with `members` joined by an invite link and one session a week. */
export async function cohort(organizer: Person, members: Person[], opts: { weeks?: number } = {}) {
  const c = await ok('POST', '/api/v1/cohorts', { name: `Cohort ${++seq}`, time_zone: 'Europe/Berlin' }, organizer.token);
  const link = await ok('POST', `/api/v1/cohorts/${c.id}/invite-links`, {}, organizer.token);
  for (const m of members) await ok('POST', '/api/v1/invite-links/join', { code: link.code }, m.token);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await ok('POST', `/api/v1/cohorts/${c.id}/series`, { rrule: 'FREQ=WEEKLY', starts_on: tomorrow, local_time: '18:00', duration_minutes: 90, title: 'Weekly circle' }, organizer.token);
  await ok('POST', `/api/v1/cohorts/${c.id}/rota/plan`, { weeks: opts.weeks ?? 4 }, organizer.token);
  const sessions = await ok('GET', `/api/v1/cohorts/${c.id}/sessions?limit=10`, undefined, organizer.token);
  return { cohort: c, sessions: sessions.items as any[] };
}

export async function signIn(page: Page, p: Person) {
  await page.goto(app('sign-in'));
  await page.getByLabel('Email').fill(p.email);
  await page.getByLabel('Password').fill(p.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${p.name}`);
}
