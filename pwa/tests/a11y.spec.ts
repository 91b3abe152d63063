// Every screen: axe finds no violation; every control has a name; the sign-in works by keyboard.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { app, cohort, ok, person, signIn } from './support/rt';

async function clean(page: Page, what: string) {
  await expect(page.locator('h1')).toBeVisible();
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  await page.waitForTimeout(300);
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(r.violations.map((v) => `${what}: ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

test('signed-out screens have no axe violations', async ({ page }) => {
  for (const path of ['sign-in', 'sign-up', 'reset-password', 'verify-email#token=x', 'magic-link#token=x', 'reset-password#token=x', 'invitation#token=x', 'join#code=x', 'nowhere']) {
    await page.goto(app(path));
    await clean(page, path);
  }
});

test('signed-in screens have no axe violations', async ({ page }) => {
  const org = await person('Olga');
  const ana = await person('Ana');
  const { cohort: c, sessions } = await cohort(org, [ana]);
  const exp = await ok('POST', `/api/v1/cohorts/${c.id}/experiments`, { title: 'Pair once a week', success_signal: 'Three pairings', metric: { name: 'Pairings' } }, org.token);
  await ok('POST', `/api/v1/experiments/${exp.id}/check-ins`, { done: 'Paired with Ana', value: 1 }, org.token);
  await ok('POST', `/api/v1/experiments/${exp.id}/check-ins`, { done: 'Paired again', value: 2 }, org.token);
  await signIn(page, org);
  const screens = ['', 'experiments', `experiments/${exp.id}`, 'cohorts', `cohorts/${c.id}`, `cohorts/${c.id}/board`, `cohorts/${c.id}/charter`, `cohorts/${c.id}/skill-shares`, `cohorts/${c.id}/facilitate`, `sessions/${sessions[0].id}`, 'me', 'me/notifications'];
  for (const path of screens) {
    await page.goto(app(path));
    await clean(page, path || 'home');
  }
});

test('signing in works with the keyboard alone', async ({ page }) => {
  const p = await person('Kai');
  await page.goto(app('sign-in'));
  await page.keyboard.press('Tab'); // the skip link
  await page.keyboard.press('Tab'); // the brand link
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Email')).toBeFocused();
  await page.keyboard.type(p.email);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(p.password);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hello, Kai');
});
