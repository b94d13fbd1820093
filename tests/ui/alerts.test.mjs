// Settings > Alerts against a real node: the daily time limits the tray icon notifies from
// (the setting awnode.alerts), each with this device's time in its category today, worked
// out here from the events the test inserts. Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

let node, ctx, HOST;
const MIN = 60_000;
const isoAt = (ms) => new Date(ms).toISOString();

before(async () => {
  node = new Node();
  await node.start();
  HOST = node.info.hostname;
  const now = Date.now();
  const start = now - 100 * MIN;
  const win = `aw-watcher-window_${HOST}`;
  const afk = `aw-watcher-afk_${HOST}`;
  await node.makeBuckets(HOST, [[win, 'currentwindow'], [afk, 'afkstatus']]);
  // 70 minutes of reddit (Media > Social Media by the default categories), then 30 of
  // Slack (Comms > IM), the last 20 of them AFK: today, Media has 70 min and IM 10
  await node.api('POST', `/buckets/${win}/events`, [
    { timestamp: isoAt(start), duration: 70 * 60, data: { app: 'Firefox', title: 'reddit: the front page' } },
    { timestamp: isoAt(start + 70 * MIN), duration: 30 * 60, data: { app: 'Slack', title: 'general' } },
  ]);
  await node.api('POST', `/buckets/${afk}/events`, [
    { timestamp: isoAt(start), duration: 80 * 60, data: { status: 'not-afk' } },
    { timestamp: isoAt(start + 80 * MIN), duration: 20 * 60, data: { status: 'afk' } },
  ]);
  // a start of day three hours ago in the browser's time zone: every event is today
  const sod = new Date(now - 3 * 60 * MIN);
  // (a string body is sent as it is: the JSON string needs its quotes)
  await node.api('POST', '/settings/startOfDay', JSON.stringify(`${String(sod.getHours()).padStart(2, '0')}:${String(sod.getMinutes()).padStart(2, '0')}`));
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

const rows = (page) => page.locator('[data-testid=alerts] [data-testid=alert-row]');
// the row's time today, once the page has it
async function seconds(page, i) {
  const v = await rows(page).nth(i).getAttribute('data-seconds');
  assert.notEqual(v, null, 'the time today is not shown yet');
  return Number(v);
}

test('alerts are added, edited, saved to awnode.alerts and show today\'s time per category', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/settings/alerts`);
  await page.waitForSelector('[data-testid=alerts]');
  assert.equal(await rows(page).count(), 0);

  await page.click('[data-testid=add-alert]');
  await page.click('[data-testid=add-alert]');
  await rows(page).nth(0).locator('select').selectOption({ label: 'Media' });
  await rows(page).nth(0).locator('input[type=number]').fill('60');
  await rows(page).nth(1).locator('select').selectOption({ label: 'Comms > IM' });
  await rows(page).nth(1).locator('input[type=number]').fill('15');
  await page.click('[data-testid=save-alerts]');
  await eventually(async () => assert.deepEqual(await node.api('GET', '/settings/awnode.alerts'), [
    { category: ['Media'], minutes: 60, enabled: true },
    { category: ['Comms', 'IM'], minutes: 15, enabled: true },
  ]));
  // today's time, as the tray counts it: window time while not AFK, per category
  await eventually(async () => {
    assert.equal(await seconds(page, 0), 70 * 60);
    assert.equal(await seconds(page, 1), 10 * 60);
  });
  await page.screenshot({ path: screenshotPath('80-settings-alerts-1440'), fullPage: true });

  // a reload reads them back; disabling and removing are saved too
  await page.reload();
  await page.waitForSelector('[data-testid=alerts] [data-testid=alert-row]');
  assert.equal(await rows(page).count(), 2);
  await rows(page).nth(1).locator('input[type=checkbox]').uncheck();
  await rows(page).nth(0).locator('button').click();
  await page.click('[data-testid=save-alerts]');
  await eventually(async () => assert.deepEqual(await node.api('GET', '/settings/awnode.alerts'), [
    { category: ['Comms', 'IM'], minutes: 15, enabled: false },
  ]));

  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the alerts fit 390 px (overflow ${overflow})`);
  await page.screenshot({ path: screenshotPath('81-settings-alerts-390-dark'), fullPage: true });
  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});

test('a stored alert with a category the rules no longer have stays listed, and bad entries are dropped', async () => {
  await node.api('POST', '/settings/awnode.alerts', [
    { category: ['Gone', 'Away'], minutes: 30, enabled: true },
    { category: [], minutes: 30 },
    { category: ['Media'], minutes: -1 },
    'junk',
  ]);
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/settings/alerts`);
  await page.waitForSelector('[data-testid=alerts] [data-testid=alert-row]');
  assert.equal(await rows(page).count(), 1);
  assert.equal(await rows(page).nth(0).locator('select option:checked').textContent(), 'Gone > Away');
  await eventually(async () => assert.equal(await seconds(page, 0), 0));
  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});
