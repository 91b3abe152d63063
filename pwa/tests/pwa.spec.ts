// The strict Content-Security-Policy holds while the app runs (no violation reported).
import { expect, test } from '@playwright/test';
import { app } from './support/rt';

test('no Content-Security-Policy violation while the app runs', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(app());
  await page.evaluate(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy: ${e.violatedDirective}`)));
  await page.goto(app('sign-up'));
  await page.getByLabel('Your name').fill('x');
  await page.waitForTimeout(300);
  expect(violations).toEqual([]);
});
