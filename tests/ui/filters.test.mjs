// The Activity page's "How time is counted" options against a real node: only not-AFK
// time, audible browser tabs as active, the always-active pattern (a shared setting) and
// categories to keep. One hand-made day whose every figure is worked out here from the
// intervals below, not by a query, so a wrong query line on the page fails.
// Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const HOST = 'desk';
const WIN = `aw-watcher-window_${HOST}`;
const AFK = `aw-watcher-afk_${HOST}`;
const WEB = `aw-watcher-web-firefox_${HOST}`;
const DAY = '2025-01-14';
const at = (h, m) => new Date(2025, 0, 14, h, m).toISOString();

// 09:00-10:00 vim (Work > Programming), 10:00-10:30 Zoom (uncategorised),
// 10:30-11:00 YouTube in Firefox (Media > Video, tab playing sound),
// 11:00-11:20 libreoffice (Work); not AFK 09:00-10:00 and 11:00-11:10 only.
const WINDOW = [
  { timestamp: at(9, 0), duration: 3600, data: { app: 'Code', title: 'main.c - vim' } },
  { timestamp: at(10, 0), duration: 1800, data: { app: 'Zoom', title: 'Zoom Meeting' } },
  { timestamp: at(10, 30), duration: 1800, data: { app: 'Firefox', title: 'YouTube - Firefox' } },
  { timestamp: at(11, 0), duration: 1200, data: { app: 'Writer', title: 'notes - libreoffice' } },
];
const AFKS = [
  { timestamp: at(9, 0), duration: 3600, data: { status: 'not-afk' } },
  { timestamp: at(10, 0), duration: 3600, data: { status: 'afk' } },
  { timestamp: at(11, 0), duration: 600, data: { status: 'not-afk' } },
  { timestamp: at(11, 10), duration: 600, data: { status: 'afk' } },
];
const TABS = [{ timestamp: at(10, 30), duration: 1800, data: { url: 'https://www.youtube.com/watch?v=1', title: 'YouTube', audible: true } }];

// seconds the page must show (window time counted under each option)
const EXPECTED = {
  defaults: 3600 + 1800 + 600, // vim, the audible YouTube half hour, 10 min of libreoffice
  everyMoment: 3600 + 1800 + 1800 + 1200, // AFK not filtered
  noAudible: 3600 + 600,
  alwaysZoom: 3600 + 1800 + 1800 + 600,
  work: 3600 + 600, // Work and its subcategory Programming
  workAndZoomUncategorised: 3600 + 600 + 1800, // with Zoom always active
};

let node, ctx;
before(async () => {
  node = new Node();
  await node.start();
  await node.makeBuckets(HOST, [[WIN, 'currentwindow'], [AFK, 'afkstatus'], [WEB, 'web.tab.current']]);
  await node.api('POST', `/buckets/${WIN}/events`, WINDOW);
  await node.api('POST', `/buckets/${AFK}/events`, AFKS);
  await node.api('POST', `/buckets/${WEB}/events`, TABS);
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

async function total(page) {
  // the summary is shown only once it answers the options now set (the key changes)
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  return Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
}

async function expectTotal(page, want, what) {
  // the query for the new options may still be on its way: wait for the figure to settle
  let got;
  for (let i = 0; i < 100; i++) {
    got = await total(page);
    if (Math.abs(got - want) < 0.5) return;
    await page.waitForTimeout(100);
  }
  assert.equal(got, want, what);
}

test('each counting option changes the total as the intervals say, and the choice is kept', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectTotal(page, EXPECTED.defaults, 'ActivityWatch defaults');
  assert.equal(await page.locator('[data-testid=count-filters-on]').count(), 0, 'defaults are not "filtered"');

  // open the disclosure with the keyboard
  await page.focus('[data-testid=count-filters] > summary');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=filter-afk]').uncheck();
  await expectTotal(page, EXPECTED.everyMoment, 'AFK time counted');
  assert.equal(await page.locator('[data-testid=filter-audible]').isDisabled(), true, 'audible means nothing without the AFK filter');
  await page.locator('[data-testid=filter-afk]').check();
  await page.locator('[data-testid=filter-audible]').uncheck();
  await expectTotal(page, EXPECTED.noAudible, 'audible tab not counted as active');
  await page.screenshot({ path: screenshotPath('60-count-filters-1440-light') });

  // kept in this browser across a reload
  await page.reload();
  await expectTotal(page, EXPECTED.noAudible, 'the choice survives a reload');
  assert.equal(await page.locator('[data-testid=count-filters-on]').count(), 1);
  await page.locator('[data-testid=count-filters] > summary').click();
  await page.locator('[data-testid=filter-audible]').check();
  await expectTotal(page, EXPECTED.defaults, 'back to the defaults');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the always-active pattern is a shared setting; a bad regex is refused and nothing is saved', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectTotal(page, EXPECTED.defaults, 'defaults');
  await page.locator('[data-testid=count-filters] > summary').click();
  const input = page.locator('[data-testid=always-active]');
  await input.fill('Zoom(');
  await input.press('Enter');
  await page.waitForSelector('.count-filters-err[role=alert]');
  assert.equal((await node.api('GET', '/settings')).always_active_pattern, undefined, 'an invalid pattern is not stored');
  await input.fill('Zoom');
  await input.press('Enter');
  await expectTotal(page, EXPECTED.alwaysZoom, 'Zoom counts as active');
  assert.equal(await node.api('GET', '/settings/always_active_pattern'), 'Zoom');
  // the Zoom call is uncategorised: 1800 of 7800 s, over the banner's 20 %
  const banner = page.locator('[data-testid=uncat-banner]');
  await banner.waitFor();
  assert.match(await banner.innerText(), /\(23%\)/);
  // another browser (another device's UI) counts the same
  const other = await ctx.newPage();
  await other.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectTotal(other, EXPECTED.alwaysZoom, 'the setting applies on a fresh page');
  await other.close();
  await input.fill('');
  await input.press('Enter');
  await expectTotal(page, EXPECTED.defaults, 'pattern removed');
  assert.equal(await node.api('GET', '/settings/always_active_pattern'), '');
  assert.equal(await page.locator('[data-testid=uncat-banner]').count(), 0, 'everything counted is categorised');
  assert.deepEqual(errors, []);
  await page.close();
});

test('keeping categories counts only their time, subcategories included', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectTotal(page, EXPECTED.defaults, 'defaults');
  await page.locator('[data-testid=count-filters] > summary').click();
  await page.locator('[data-testid=filter-categories] input[data-cat="Work"]').check();
  await expectTotal(page, EXPECTED.work, 'Work and Work > Programming');
  // top apps follow: no Firefox, no Zoom
  const apps = await page.locator('[data-testid=activity-page]').innerText();
  assert.ok(!/YouTube - Firefox/.test(apps), 'a Media title is not listed under a Work filter');
  await page.screenshot({ path: screenshotPath('61-count-filters-390-light'), fullPage: false });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the filter bar fits 390 px (overflow ${overflow})`);

  await node.api('POST', '/settings/always_active_pattern', JSON.stringify('Zoom'));
  await page.reload();
  await page.locator('[data-testid=count-filters] > summary').click();
  await page.locator('[data-testid=filter-categories] input[data-cat="Uncategorized"]').check();
  await expectTotal(page, EXPECTED.workAndZoomUncategorised, 'Work plus the uncategorised, always-active Zoom call');
  await page.locator('[data-testid=filter-categories] button').click();
  await expectTotal(page, EXPECTED.alwaysZoom, 'Show all');
  await node.api('POST', '/settings/always_active_pattern', JSON.stringify(''));
  assert.deepEqual(errors, []);
  await page.close();
});
