// The README's pictures: the main screens on a phone (Pixel 7 at 1x, so the files stay small),
// for a cohort a few weeks in. Run with `npm run screenshots`; the PNGs land in screenshots/.
import { expect, test } from '@playwright/test';
import { app, cohort, ok, person, signIn } from './support/rt';

test.use({ deviceScaleFactor: 1 });

test('screens of a cohort a few weeks in', async ({ page, context }) => {
  test.setTimeout(120_000);
  const org = await person('Olga');
  const ana = await person('Ana');
  const others = [await person('Ben'), await person('Cy'), await person('Dee')];
  const { cohort: c, sessions } = await cohort(org, [ana, ...others]);
  const v = await ok('POST', `/api/v1/cohorts/${c.id}/charter/versions`, {
    mission: 'Grow as engineering leads by practising on real problems, together.',
    goals: ['Run one experiment between sessions', 'Give and ask for help early'],
    norms: 'Start on time. **Confidential** stays in the room. Ask before advising.',
    confidentiality: 'What is said here stays here.',
    weekly_minutes: 90,
    review_cadence: { every: 3, unit: 'months' },
  }, org.token);
  await ok('POST', `/api/v1/cohorts/${c.id}/charter/versions/${v.id}/adopt`, {}, org.token);
  const exp = await ok('POST', `/api/v1/cohorts/${c.id}/experiments`, {
    title: 'Delegate one decision a week', success_signal: 'The team decides without me three times', metric: { name: 'Decisions delegated' },
  }, ana.token);
  for (const [done, value] of [['Let the team pick the sprint goal', 1], ['Stayed out of the design review', 2], ['Asked instead of told', 3]] as const)
    await ok('POST', `/api/v1/experiments/${exp.id}/check-ins`, { done, value }, ana.token);
  await ok('POST', `/api/v1/sessions/${sessions[0].id}/skill-shares`, { title: 'Running a blameless review', minutes: 15, capacity: 4, summary: 'Run a 30-minute review on Monday.' }, others[0].token);
  await ok('POST', `/api/v1/experiments/${exp.id}/comments`, { body: 'Try saying "what would you do?" first.' }, others[1].token);

  const shot = async (name: string) => {
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(400);
    await page.screenshot({ path: `screenshots/${name}.png` });
  };
  await page.goto(app('sign-in'));
  await shot('sign-in');
  await signIn(page, ana);
  await shot('home');
  await page.goto(app(`sessions/${sessions[0].id}`));
  await shot('session');
  await page.goto(app(`experiments/${exp.id}`));
  await shot('experiment');
  await page.goto(app(`cohorts/${c.id}/charter`));
  await shot('charter');
  await page.goto(app(`cohorts/${c.id}/skill-shares`));
  await shot('skill-shares');
  await context.setOffline(true);
  await page.goto(app());
  await page.getByRole('button', { name: 'Maybe' }).first().click();
  await shot('offline');
  await context.setOffline(false);
  await page.goto(app('me'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, org);
  await page.goto(app(`cohorts/${c.id}/facilitate`));
  await shot('facilitate');
});
