// Installable: Chromium's own check (the one behind its install prompt) finds no error in the
// manifest, icons, service worker or start URL. Needs a persistent profile (incognito is never
// installable), so it launches its own Chromium with the phone profile.
import { chromium, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { app } from './support/rt';

test('Chromium finds nothing in the way of installing the app', async ({ browserName }, info) => {
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

