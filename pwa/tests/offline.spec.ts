// On a train: the app opens with no network and shows the last data with its age; check-ins and
// an RSVP made offline wait on the phone and reach the server exactly once each when the network
// returns; a write the server refuses on replay is shown with the server's message.
import { expect, test, type Page } from '@playwright/test';
import { app, cohort, ok, person, signIn } from './support/rt';

async function controlled(page: Page) {
  // The service worker has taken the page (it precached the shell): reload once if needed.
  await page.waitForFunction(() => navigator.serviceWorker?.ready.then(() => true));
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
  await page.waitForFunction(() => !!navigator.serviceWorker.controller);
}

test('offline: cached screens, queued check-ins and RSVP, replayed once each', async ({ page, context }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { cohort: c, sessions } = await cohort(org, [ana]);
  const exp = await ok('POST', `/api/v1/cohorts/${c.id}/experiments`, { title: 'Read a paper a week', success_signal: 'Four papers' }, ana.token);

  await signIn(page, ana);
  await controlled(page);
  await page.goto(app(`experiments/${exp.id}`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Read a paper a week');
  await page.goto(app());
  await expect(page.getByRole('link', { name: sessions[0].title }).first()).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: 'Offline: showing what you saw' }).first()).toBeVisible();
  await expect(page.getByRole('link', { name: sessions[0].title }).first()).toBeVisible();

  // RSVP and two check-ins, offline.
  const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: sessions[0].title }) }).first();
  await card.getByRole('button', { name: 'Maybe' }).click();
  await expect(card.getByText('pending')).toBeVisible();
  await page.goto(app(`experiments/${exp.id}`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Read a paper a week');
  for (const done of ['Read the abstract', 'Read section two']) {
    await page.getByLabel('Done', { exact: true }).fill(done);
    await page.getByRole('button', { name: 'Check in' }).click();
    await expect(page.locator('.pending-item', { hasText: done })).toBeVisible();
  }
  await expect(page.getByText('3 changes waiting to be sent')).toBeVisible();
  // Nothing reached the server yet.
  expect((await ok('GET', `/api/v1/experiments/${exp.id}/check-ins`, undefined, ana.token)).items).toEqual([]);

  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect(page.getByText(/changes? waiting to be sent/)).toHaveCount(0, { timeout: 20_000 });
  const checks = await ok('GET', `/api/v1/experiments/${exp.id}/check-ins`, undefined, ana.token);
  expect(checks.items.map((x: any) => x.done).sort()).toEqual(['Read section two', 'Read the abstract']);
  expect((await ok('GET', `/api/v1/sessions/${sessions[0].id}`, undefined, ana.token)).my_rsvp?.response).toBe('maybe');

  // Replaying again (another start of the app) sends nothing twice.
  await page.reload();
  await page.waitForTimeout(1000);
  expect((await ok('GET', `/api/v1/experiments/${exp.id}/check-ins`, undefined, ana.token)).items).toHaveLength(2);
});

test('a write refused on replay is shown with the server message', async ({ page, context }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { sessions } = await cohort(org, [ana]);
  await signIn(page, ana);
  await controlled(page);
  await context.setOffline(true);
  const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: sessions[0].title }) }).first();
  await card.getByRole('button', { name: 'Going', exact: true }).click();
  await expect(card.getByText('pending')).toBeVisible();
  // Meanwhile the organizer cancels the session.
  await ok('PATCH', `/api/v1/sessions/${sessions[0].id}`, { status: 'cancelled', cancel_reason: 'Room closed' }, org.token);
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  const refused = page.locator('.refused');
  await expect(refused).toContainText('Not saved');
  await expect(refused).toContainText(/cancelled/i);
  await refused.getByRole('button', { name: 'Dismiss' }).click();
  await expect(refused).toHaveCount(0);
});

test('an expired token is refreshed during replay; a refused refresh keeps the queue', async ({ page, context }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { sessions } = await cohort(org, [ana]);
  await signIn(page, ana);
  await controlled(page);
  await context.setOffline(true);
  const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: sessions[0].title }) }).first();
  await card.getByRole('button', { name: 'Not going' }).click();
  // The access token has expired meanwhile (a token the server no longer takes).
  await page.evaluate(() => {
    const a = JSON.parse(localStorage.getItem('rt.auth')!);
    a.access = 'expired.' + a.access.split('.')[1] + '.x';
    a.expiresAt = Date.now() + 600_000;
    localStorage.setItem('rt.auth', JSON.stringify(a));
  });
  await page.reload();
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect.poll(async () => (await ok('GET', `/api/v1/sessions/${sessions[0].id}`, undefined, ana.token)).my_rsvp?.response).toBe('no');

  // Now the whole sign-in ends (refresh refused): the queued write stays, and the app asks to sign in.
  await context.setOffline(true);
  await card.getByRole('button', { name: 'Going', exact: true }).click();
  await page.evaluate(() => {
    const a = JSON.parse(localStorage.getItem('rt.auth')!);
    a.access = 'expired.' + a.access.split('.')[1] + '.x';
    a.refresh = 'rt_rf_not-a-real-one';
    localStorage.setItem('rt.auth', JSON.stringify(a));
  });
  await page.reload();
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect(page.getByText('Your sign-in ended.')).toBeVisible();
  await expect(page.getByText('1 change waiting to be sent')).toBeVisible();
  expect((await ok('GET', `/api/v1/sessions/${sessions[0].id}`, undefined, ana.token)).my_rsvp?.response).toBe('no');
});

test('signing out clears the account data and queue from the phone', async ({ page, context }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  await cohort(org, [ana]);
  await signIn(page, ana);
  await controlled(page);
  await context.setOffline(true);
  await page.getByRole('button', { name: 'Going', exact: true }).first().click();
  await expect(page.getByText('1 change waiting to be sent')).toBeVisible();
  // Still offline: the queued RSVP is dropped with the account, never sent.
  await page.getByRole('link', { name: 'Me', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const left = await page.evaluate(async () => {
    const db: IDBDatabase = await new Promise((ok, fail) => {
      const r = indexedDB.open('roundtable');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const count = (store: string) =>
      new Promise<number>((ok) => {
        const r = db.transaction(store).objectStore(store).count();
        r.onsuccess = () => ok(r.result);
      });
    return { cache: await count('cache'), queue: await count('queue'), auth: localStorage.getItem('rt.auth') };
  });
  expect(left).toEqual({ cache: 0, queue: 0, auth: null });
});
