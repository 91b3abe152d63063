// Calendars from the phone: a session downloads as a calendar file ("Add to my calendar"), and Me
// hands out the private subscription link, which a calendar app reads without signing in. Making
// a new link turns the old one off.
import { expect, test } from '@playwright/test';
import { api, app, BASE, cohort, person, signIn } from './support/rt';

test('add a session to my calendar, and subscribe to my calendar link', async ({ page }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { sessions } = await cohort(org, [ana]);
  await signIn(page, ana);

  await page.goto(app(`sessions/${sessions[0].id}`));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Add to my calendar' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${sessions[0].title}.ics`);
  const path = await download.path();
  const text = (await import('node:fs')).readFileSync(path!, 'utf8');
  expect(text).toContain('BEGIN:VCALENDAR');
  expect(text).toContain(`UID:session-${sessions[0].id}@`);

  await page.goto(app('me'));
  await page.getByRole('button', { name: 'Get my calendar link' }).click();
  const field = page.getByLabel('Your calendar link');
  const first = await field.inputValue();
  expect(first.startsWith(`${BASE()}/feeds/`) && first.endsWith('.ics')).toBe(true);
  await expect(page.getByRole('link', { name: 'Open it in my calendar app' })).toHaveAttribute('href', /^webcal:/);
  const feed = await fetch(first);
  expect(feed.status).toBe(200);
  expect(feed.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  expect(await feed.text()).toContain(`UID:session-${sessions[0].id}@`);

  // A new link: the old one stops working at once.
  await page.getByRole('button', { name: 'Make a new calendar link' }).click();
  await expect(field).not.toHaveValue(first);
  expect((await fetch(first)).status).toBe(404);
  expect((await fetch(await field.inputValue())).status).toBe(200);
  // The link is no API token.
  const secret = first.slice(first.lastIndexOf('/') + 1, -'.ics'.length);
  expect((await api('GET', '/api/v1/me', undefined, secret)).status).toBe(401);
});
