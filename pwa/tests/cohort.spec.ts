// A member's week on the phone: join by the invitation mail or a shared link, answer an RSVP in one
// tap, confirm a duty, ask a peer to swap (who accepts on their phone), commit and check in.
import { expect, test } from '@playwright/test';
import { app, cohort, mailedLink, ok, person, signIn } from './support/rt';

test('join from the invitation mail, signed out at first', async ({ page }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { cohort: c } = await cohort(org, []);
  await ok('POST', `/api/v1/cohorts/${c.id}/invitations`, { emails: [ana.email] }, org.token);
  const link = await mailedLink(ana.email, 'invitation');

  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Accept your invitation' })).toBeVisible();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(ana.email);
  await page.getByLabel('Password').fill(ana.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Back on the invitation, signed in now: one button joins.
  await page.getByRole('button', { name: 'Join the cohort' }).click();
  await expect(page.getByRole('heading', { name: `Welcome to ${c.name}` })).toBeVisible();
  const members = await ok('GET', `/api/v1/cohorts/${c.id}/members`, undefined, org.token);
  expect(members.items.map((m: any) => m.user_id)).toContain(ana.id);
});

test('join by an invite link', async ({ page }) => {
  const org = await person('Olga');
  const ben = await person('Ben');
  const { cohort: c } = await cohort(org, []);
  const link = await ok('POST', `/api/v1/cohorts/${c.id}/invite-links`, {}, org.token);
  await signIn(page, ben);
  await page.goto(link.url);
  await page.getByRole('button', { name: 'Join the cohort' }).click();
  await expect(page.getByRole('heading', { name: `Welcome to ${c.name}` })).toBeVisible();
  await page.getByRole('link', { name: `Open ${c.name}` }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(c.name);
});

test('RSVP, confirm a duty, swap with a peer, commit and check in', async ({ page, browser }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const peers = [await person('Ben'), await person('Cy'), await person('Dee'), await person('Eve')];
  const { cohort: c, sessions } = await cohort(org, [ana, ...peers]);
  await signIn(page, ana);

  // RSVP in one tap on the first session.
  const first = sessions[0];
  const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: first.title }) }).first();
  await card.getByRole('button', { name: 'Going', exact: true }).click();
  await expect(card.getByRole('button', { name: 'Going', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await ok('GET', `/api/v1/sessions/${first.id}`, undefined, ana.token)).my_rsvp?.response).toBe('yes');

  // Confirm a duty from Home.
  const rota = await ok('GET', `/api/v1/cohorts/${c.id}/rota?limit=20`, undefined, org.token);
  const duties = rota.items.flatMap((r: any) => r.duties.map((d: any) => ({ ...d, session: r })));
  const mine = duties.find((d: any) => d.user_id === ana.id)!;
  await page.getByRole('button', { name: `Confirm ${mine.role}` }).first().click();
  await expect.poll(async () => {
    const r = await ok('GET', `/api/v1/cohorts/${c.id}/rota?limit=20`, undefined, org.token);
    return r.items.flatMap((x: any) => x.duties).find((d: any) => d.id === mine.id).confirmed;
  }).toBe(true);

  // Ask a peer to swap, from the session's screen.
  await page.goto(app(`sessions/${mine.session_id}`));
  const select = page.getByLabel(`Swap your ${mine.role} with`);
  // Offered: only duties a peer could exchange (none in a session where either already serves).
  const value = await select.locator('option').first().getAttribute('value');
  const theirs = duties.find((d: any) => d.id === value)!;
  const ben = [org, ...peers].find((p) => p.id === theirs.user_id)!;
  expect(duties.some((d: any) => d.session_id === theirs.session_id && d.user_id === ana.id)).toBe(false);
  expect(duties.some((d: any) => d.session_id === mine.session_id && d.user_id === ben.id)).toBe(false);
  await select.selectOption(theirs.id);
  await page.getByRole('button', { name: 'Ask to swap' }).click();
  await expect(page.getByText('Asked.')).toBeVisible();

  // The peer accepts on their phone.
  const benCtx = await browser.newContext();
  const benPage = await benCtx.newPage();
  await signIn(benPage, ben);
  await benPage.getByRole('button', { name: 'Accept swap' }).click();
  await expect(benPage.getByRole('button', { name: 'Accept swap' })).toHaveCount(0);
  await expect(benPage.getByRole('alert')).toHaveCount(0);
  const swaps = await ok('GET', `/api/v1/cohorts/${c.id}/swap-requests`, undefined, org.token);
  expect(swaps.items.map((x: any) => x.state)).toEqual(['accepted']);
  await expect.poll(async () => {
    const r = await ok('GET', `/api/v1/cohorts/${c.id}/rota?limit=20`, undefined, org.token);
    return r.items.flatMap((x: any) => x.duties).find((d: any) => d.id === mine.id).user_id;
  }).toBe(ben.id);
  await benCtx.close();

  // Commit to an experiment on the board, then the 30-second check-in.
  await page.goto(app(`cohorts/${c.id}/board`));
  await page.getByRole('button', { name: 'Commit to an experiment' }).click();
  await page.getByLabel('What I will try').fill('Write every morning');
  await page.getByLabel("How I'll know it worked").fill('Five mornings out of seven');
  await page.getByLabel('Metric (optional)').fill('Mornings written');
  await page.getByRole('button', { name: 'Commit' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Write every morning');
  await page.getByLabel('Done', { exact: true }).fill('Wrote on Monday');
  await page.getByRole('spinbutton', { name: 'Mornings written' }).fill('1');
  await page.getByRole('button', { name: 'Check in' }).click();
  await expect(page.getByText('done: Wrote on Monday')).toBeVisible();
  // Sent at once (online), and shown from the server's answer, no longer as pending.
  await expect(page.locator('.pending-item')).toHaveCount(0);
  const mineNow = await ok('GET', '/api/v1/me/experiments', undefined, ana.token);
  const exp = mineNow.items[0];
  const checks = await ok('GET', `/api/v1/experiments/${exp.id}/check-ins`, undefined, ana.token);
  expect(checks.items.map((x: any) => x.done)).toEqual(['Wrote on Monday']);
  await expect(page.getByText('done: Wrote on Monday')).toBeVisible();
});
