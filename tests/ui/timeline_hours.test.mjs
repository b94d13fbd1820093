// The Timeline's "last N hours" view (#/timeline/last/<hours>) against a real node: events
// placed hours before now, and the number of events the page says it shows compared with
// what the node returns for the same stretch. Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const HOST = 'desk';
const WIN = `aw-watcher-window_${HOST}`;
const HOUR = 3_600_000;
const ago = (h) => new Date(Date.now() - h * HOUR).toISOString();
// minutes-long events 2, 5, 8 and 30 hours ago: each view below has a known count
const EVENTS = [2, 5, 8, 30].map((h) => ({ timestamp: ago(h), duration: 120, data: { app: 'Code', title: `${h} hours ago` } }));
const WANT = { 1: 0, 3: 1, 6: 2, 12: 3, 24: 3 };

let node, ctx;
before(async () => {
  node = new Node();
  await node.start();
  await node.api('POST', `/buckets/${WIN}`, { type: 'currentwindow', client: 'ui-test', hostname: HOST });
  await node.api('POST', `/buckets/${WIN}/events`, EVENTS);
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

async function shownCount(page) {
  return eventually(async () => {
    const sub = (await page.textContent('[data-testid=timeline-card] .card-sub')) || '';
    const m = /^(\d+) events?/.exec(sub);
    assert.ok(m, `no count yet: "${sub}"`);
    return Number(m[1]);
  });
}

test('the last N hours show the events of those hours, chosen from the toolbar', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/timeline/last/6`);
  assert.equal(await shownCount(page), WANT[6]);
  const n = (await node.api('GET', `/buckets/${WIN}/events?start=${encodeURIComponent(ago(6))}&end=${encodeURIComponent(new Date().toISOString())}`)).length;
  assert.equal(n, WANT[6], 'the node agrees on the stretch');
  assert.equal(await page.getAttribute('[data-testid=timeline-hours] [data-value="6"]', 'aria-selected'), 'true');
  await page.screenshot({ path: screenshotPath('70-timeline-last-6h-1440') });

  for (const h of ['3', '12', '1', '24']) {
    // keyboard: focus the button and press Enter
    await page.focus(`[data-testid=timeline-hours] [data-value="${h}"]`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/timeline/last/${h}$`));
    await eventually(async () => assert.equal(await shownCount(page), WANT[h], `last ${h} h`));
  }
  // back to a day view: the span buttons leave the last-hours view
  await page.click('[data-testid=timeline-span] [data-value="1"]');
  await page.waitForURL(/#\/timeline\/\d{4}-\d{2}-\d{2}\/1$/);
  assert.equal(await page.locator('[data-testid=timeline-refresh]').count(), 0);
  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});

test('Refresh moves the stretch up to now: an event recorded since appears', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${node.url}/#/timeline/last/1`);
  assert.equal(await shownCount(page), 0);
  await node.api('POST', `/buckets/${WIN}/events`, [{ timestamp: new Date(Date.now() - 5 * 60_000).toISOString(), duration: 60, data: { app: 'Code', title: 'just now' } }]);
  await page.click('[data-testid=timeline-refresh]');
  await eventually(async () => assert.equal(await shownCount(page), 1));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the toolbar fits 390 px (overflow ${overflow})`);
  await page.screenshot({ path: screenshotPath('71-timeline-last-1h-390') });
  assert.deepEqual(problems, [], problems.join('\n'));
  await page.close();
});
