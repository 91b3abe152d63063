// Installable and served as it should be: manifest, service worker, no installability errors in
// Chromium's own check, the strict Content-Security-Policy holding (no violation reported).
import { chromium, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { app } from './support/rt';

test('Chromium finds nothing in the way of installing the app', async ({ browserName }, info) => {
  test.skip(info.project.name !== 'phone', 'one run is enough');
  expect(browserName).toBe('chromium');
  const dir = mkdtempSync(join(tmpdir(), 'rt-pwa-'));
  const ctx = await chromium.launchPersistentContext(dir, { ...(info.project.use as object), headless: true });
  try {
    const page = await ctx.newPage();
    await page.goto(app());
    await page.waitForFunction(() => navigator.serviceWorker?.ready.then(() => true));
    const cdp = await ctx.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

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
