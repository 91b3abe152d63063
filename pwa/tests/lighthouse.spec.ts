// Lighthouse (mobile, simulated slow 4G and a slow phone CPU) on the first screens a new visitor
// sees: performance at least 95, accessibility and best practices 100. The report's scores are
// written to test-results/lighthouse.json (the README quotes them).
import { expect, test } from '@playwright/test';
import * as chromeLauncher from 'chrome-launcher';
import { writeFileSync, mkdirSync } from 'node:fs';
import lighthouse from 'lighthouse';
import { app } from './support/rt';

test('Lighthouse scores on a phone', async () => {
  test.setTimeout(180_000);
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_BIN || '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const scores: Record<string, Record<string, number>> = {};
  try {
    for (const path of ['', 'sign-up']) {
      const r = await lighthouse(app(path), {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices'],
        formFactor: 'mobile',
        screenEmulation: { mobile: true, width: 412, height: 823, deviceScaleFactor: 1.75, disabled: false },
      });
      const cats = r!.lhr.categories;
      scores[`/app/${path}`] = Object.fromEntries(Object.entries(cats).map(([k, c]) => [k, Math.round((c.score ?? 0) * 100)]));
      scores[`/app/${path}`].lcp_ms = Math.round(r!.lhr.audits['largest-contentful-paint'].numericValue ?? 0);
    }
  } finally {
    await chrome.kill();
  }
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/lighthouse.json', JSON.stringify(scores, null, 2));
  console.log(JSON.stringify(scores));
  for (const [page, s] of Object.entries(scores)) {
    expect.soft(s.performance, `${page} performance`).toBeGreaterThanOrEqual(95);
    expect.soft(s.accessibility, `${page} accessibility`).toBe(100);
    expect.soft(s['best-practices'], `${page} best practices`).toBe(100);
  }
});
