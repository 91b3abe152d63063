// The account mails' links, opened on the phone: sign up and confirm, sign in by a mailed link,
// choose a new password. Opening a link changes nothing; the one button does.
import { expect, test } from '@playwright/test';
import { api, app, mailedLink, ok, person, unique } from './support/rt';

test('sign up, confirm the address from the mailed link, sign in', async ({ page }) => {
  const email = unique('Sam');
  await page.goto(app('sign-up'));
  await page.getByLabel('Your name').fill('Sam');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
  // Signed in at once, and asked to confirm the address.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Sam');
  await expect(page.getByText('Please confirm your email address')).toBeVisible();

  const link = await mailedLink(email, 'verify-email');
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Confirm your email address' })).toBeVisible();
  // Opening the link (as a mail scanner would) confirmed nothing.
  const login = await ok('POST', '/api/v1/auth/login', { email, password: 'long enough password' });
  expect((await ok('GET', '/api/v1/me', undefined, login.access_token)).email_verified).toBe(false);
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await expect(page.getByText('Your address is confirmed.')).toBeVisible();
  // Confirmed from the phone's own sign-in: that sign-in and the password stay good; the other
  // sign-in (made before the proof) ended.
  expect((await api('GET', '/api/v1/me', undefined, login.access_token)).status).toBe(401);
  const again = await ok('POST', '/api/v1/auth/login', { email, password: 'long enough password' });
  expect((await ok('GET', '/api/v1/me', undefined, again.access_token)).email_verified).toBe(true);
  await page.getByRole('link', { name: 'Go to Roundtable' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Sam');
  await expect(page.getByText('Please confirm your email address')).toHaveCount(0);
});

test('a wrong password is answered in words, next to the form', async ({ page }) => {
  const p = await person('Kim');
  await page.goto(app('sign-in'));
  await page.getByLabel('Email').fill(p.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText(/password/i);
});

test('sign in with a mailed link', async ({ page }) => {
  const p = await person('Lee');
  await page.goto(app('sign-in'));
  await page.getByLabel('Email').fill(p.email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await expect(page.getByRole('status')).toContainText('sign-in link is on its way');
  const link = await mailedLink(p.email, 'magic-link');
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Lee');
});

test('choose a new password from the mailed link', async ({ page }) => {
  const p = await person('Max');
  await page.goto(app('reset-password'));
  await page.getByLabel('Email').fill(p.email);
  await page.getByRole('button', { name: 'Email me a link' }).click();
  const link = await mailedLink(p.email, 'reset-password');
  await page.goto(link);
  await page.getByLabel('New password').fill('a brand new password');
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page.getByRole('heading', { name: 'Password changed' })).toBeVisible();
  expect((await api('POST', '/api/v1/auth/login', { email: p.email, password: 'a brand new password' })).status).toBe(200);
});
