import { defineConfig, devices } from '@playwright/test';

// The browser tests run the real server (the debug binary unless ROUNDTABLE_BIN says otherwise) on a
// fresh SQLite database, with a real SMTP server catching its mail (tests/support/global-setup.ts).
// The machine's Chromium is used; Playwright never downloads a browser.
const chromium = process.env.CHROME_BIN || '/usr/bin/chromium';
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  testDir: './tests',
  testMatch: /.*\.spec\.ts/,
  // Screenshots for the README are taken on request only: `npm run screenshots`.
  testIgnore: process.env.RT_SCREENSHOTS ? [] : [/screenshots\.spec\.ts/],
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  globalSetup: './tests/support/global-setup.ts',
  use: {
    launchOptions: { executablePath: chromium, args },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'phone', use: { ...devices['Pixel 7'], launchOptions: { executablePath: chromium, args } } },
    // Lighthouse and the installability check emulate the phone themselves: run once, not per profile.
    {
      name: 'desktop',
      use: { ...devices['Desktop Chrome'], launchOptions: { executablePath: chromium, args } },
      testIgnore: [/lighthouse\.spec\.ts/, /install\.spec\.ts/, /screenshots\.spec\.ts/],
    },
  ],
});
