// The Activity page's views (as aw-webui's): choosing the cards a view shows and their
// order, kept in the node's setting `awnode.activity.views`, against a real node. Each
// step is checked on the page (which cards, in which order) and in the setting read back
// from GET /api/0/settings; a reload must show what the node has. A saved view naming
// cards this UI does not know still opens. Each card's width (a third, two thirds, the
// whole row) is measured on the page.
// Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const HOST = 'desk';
const WIN = `aw-watcher-window_${HOST}`;
const AFK = `aw-watcher-afk_${HOST}`;
const WEB = `aw-watcher-web-firefox_${HOST}`;
const DAY = '2025-01-14';
const KEY = 'awnode.activity.views';
const at = (h, m) => new Date(2025, 0, 14, h, m).toISOString();
// the default Summary view: every card, in this order
const SUMMARY = ['bars', 'devices', 'apps', 'categories', 'titles', 'domains', 'urls', 'browser-titles', 'editor-projects', 'editor-files', 'editor-languages'];
// those a single device without editor data shows
const SHOWN = ['bars', 'apps', 'categories', 'titles', 'domains', 'urls', 'browser-titles'];

let node, ctx;
before(async () => {
  node = new Node();
  await node.start();
  await node.makeBuckets(HOST, [[WIN, 'currentwindow'], [AFK, 'afkstatus'], [WEB, 'web.tab.current']]);
  await node.api('POST', `/buckets/${WIN}/events`, [
    { timestamp: at(9, 0), duration: 3600, data: { app: 'Code', title: 'main.c - vim' } },
    { timestamp: at(10, 0), duration: 1800, data: { app: 'Firefox', title: 'Docs - Firefox' } },
  ]);
  await node.api('POST', `/buckets/${AFK}/events`, [{ timestamp: at(9, 0), duration: 5400, data: { status: 'not-afk' } }]);
  await node.api('POST', `/buckets/${WEB}/events`, [{ timestamp: at(10, 0), duration: 1800, data: { url: 'https://example.org/docs', title: 'Docs', audible: false } }]);
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

/** The cards on the page, in order (after the summary has come). */
async function cards(page) {
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  return page.$$eval('[data-testid=activity-cards] > .act-card-slot', (xs) => xs.map((x) => x.dataset.card));
}
async function expectCards(page, want, what) {
  let got;
  for (let i = 0; i < 100; i++) {
    got = await cards(page);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, want, what);
}
/** The stored views, read back from the node. */
async function stored() {
  return (await node.api('GET', '/settings'))[KEY];
}
const summaryOf = (views) => views.find((v) => v.id === 'summary');
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('hide a card, move one, reload, reset: the page and the stored setting follow', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectCards(page, SHOWN, 'the default Summary view');
  assert.equal(await stored(), undefined, 'nothing stored before an edit');

  await page.click('[data-testid=edit-view]');
  await page.waitForSelector('[data-testid=view-editor]');
  // hide the window titles
  await page.uncheck('[data-testid=ve-show-titles]');
  await expectCards(page, SHOWN.filter((c) => c !== 'titles'), 'titles hidden');
  assert.equal(await page.locator('[data-testid=top-titles]').count(), 0, 'the card is gone');
  await eventually(async () => assert.ok(!summaryOf(await stored()).cards.includes('titles'), 'stored without titles'));

  // move Categories up twice (above Top applications, then above the Devices slot), with the keyboard once
  await page.click('[data-testid=ve-up-categories]');
  await page.focus('[data-testid=ve-up-categories]');
  await page.keyboard.press('Enter');
  const moved = ['bars', 'categories', 'apps', 'domains', 'urls', 'browser-titles'];
  await expectCards(page, moved, 'categories moved up');
  await eventually(async () => assert.deepEqual(summaryOf(await stored()).cards,
    ['bars', 'categories', 'devices', 'apps', 'domains', 'urls', 'browser-titles', 'editor-projects', 'editor-files', 'editor-languages']));
  // the DOM order is the visual order: Categories comes before Top applications (on the
  // same row at 1440 px: to its left)
  const cat = await page.locator('[data-testid=categories]').boundingBox();
  const apps = await page.locator('[data-testid=top-apps]').boundingBox();
  assert.ok(cat.y < apps.y || (cat.y === apps.y && cat.x < apps.x), `categories (${cat.x}, ${cat.y}) before apps (${apps.x}, ${apps.y})`);
  await page.screenshot({ path: screenshotPath('72-activity-edit-view-1440-light') });

  // a reload shows what the node has
  await page.reload();
  await expectCards(page, moved, 'after a reload');
  // another browser (another device's UI) too
  const other = await ctx.newPage();
  await other.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectCards(other, moved, 'on a fresh page');
  await other.close();

  // reset
  await page.click('[data-testid=edit-view]');
  await page.click('[data-testid=ve-reset]');
  await expectCards(page, SHOWN, 'reset to the default');
  await eventually(async () => assert.deepEqual(summaryOf(await stored()).cards, SUMMARY));
  await page.click('[data-testid=ve-done]');
  assert.equal(await page.locator('[data-testid=view-editor]').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('card widths: a third, two thirds, the whole row; stored only when not the default; reset clears them', async () => {
  await node.api('POST', `/settings/${KEY}`, []);
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectCards(page, SHOWN);
  // widths in columns of the 3-column grid (16 px gaps), measured on the page
  const cols = async (testId) => {
    const grid = (await page.locator('[data-testid=activity-cards]').boundingBox()).width;
    const w = (await page.locator(`[data-testid=${testId}]`).boundingBox()).width;
    const col = (grid - 2 * 16) / 3;
    return Math.round((w + 16) / (col + 16));
  };
  const expectCols = async (testId, want, what) => {
    let got;
    for (let i = 0; i < 50; i++) {
      got = await cols(testId);
      if (got === want) return;
      await page.waitForTimeout(100);
    }
    assert.equal(got, want, what);
  };
  await expectCols('top-apps', 1, 'Top applications: a third by default');
  await expectCols('top-titles', 2, 'window titles: two thirds by default');
  await expectCols('bar-card', 3, 'the bar chart: the whole row by default');

  await page.click('[data-testid=edit-view]');
  await page.waitForSelector('[data-testid=view-editor]');
  assert.equal(await page.inputValue('[data-testid=ve-width-apps]'), '1');
  await page.selectOption('[data-testid=ve-width-apps]', '3');
  await expectCols('top-apps', 3, 'Top applications over the whole row');
  await eventually(async () => assert.deepEqual(summaryOf(await stored()).widths, { apps: 3 }));
  await page.selectOption('[data-testid=ve-width-titles]', '1');
  await expectCols('top-titles', 1, 'window titles in a third');
  await eventually(async () => assert.deepEqual(summaryOf(await stored()).widths, { apps: 3, titles: 1 }));
  // back to its default width: no longer stored
  await page.selectOption('[data-testid=ve-width-apps]', '1');
  await expectCols('top-apps', 1);
  await eventually(async () => assert.deepEqual(summaryOf(await stored()).widths, { titles: 1 }));
  // a hidden card's width cannot be set (it has no place on the page)
  await page.uncheck('[data-testid=ve-show-urls]');
  assert.equal(await page.isDisabled('[data-testid=ve-width-urls]'), true);
  await page.check('[data-testid=ve-show-urls]');
  // (shown again, it comes last)
  const relisted = [...SHOWN.filter((c) => c !== 'urls'), 'urls'];
  await expectCards(page, relisted);
  await page.screenshot({ path: screenshotPath('74-activity-card-widths-1440-light') });

  // what the node has is what a reload shows
  await page.reload();
  await expectCards(page, relisted);
  await expectCols('top-titles', 1, 'after a reload');
  // at 390 px every card takes the one column, whatever its width
  await page.setViewportSize({ width: 390, height: 844 });
  await expectCols('top-titles', 3, 'one column at 390 px');
  assert.ok((await overflow(page)) <= 0, 'no sideways scroll at 390 px');
  await page.setViewportSize({ width: 1440, height: 1000 });

  await page.click('[data-testid=edit-view]');
  await page.click('[data-testid=ve-reset]');
  await expectCards(page, SHOWN);
  await expectCols('top-titles', 2, 'reset: the default width again');
  await eventually(async () => assert.equal('widths' in summaryOf(await stored()), false, 'reset stores no widths'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('named views: switch, add one, delete it; the address names the view', async () => {
  // an empty list stands for the default views (whatever the test before left)
  await node.api('POST', `/settings/${KEY}`, []);
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectCards(page, SHOWN);
  await page.click('[data-testid=view-select] button[data-value=browser]');
  await page.waitForFunction(() => location.hash.endsWith('/day/2025-01-14/view/browser'));
  await expectCards(page, ['domains', 'urls', 'browser-titles'], 'the Browser view');
  // the period choice keeps the view
  await page.click('[data-testid=period-select] button[data-value=last7d]');
  await page.waitForFunction(() => location.hash.endsWith('/last7d/2025-01-14/view/browser'));
  await expectCards(page, ['domains', 'urls', 'browser-titles']);

  // the Editor view has nothing here: it says so, with a way to edit it
  await page.click('[data-testid=view-select] button[data-value=editor]');
  await page.waitForSelector('[data-testid=empty-view]');

  // a new view starts as a copy of the one open
  await page.click('[data-testid=view-select] button[data-value=window]');
  await expectCards(page, ['bars', 'apps', 'titles', 'categories'], 'the Window view');
  await page.click('[data-testid=edit-view]');
  await page.fill('[data-testid=ve-new-name]', 'Deep work');
  await page.press('[data-testid=ve-new-name]', 'Enter');
  await page.waitForFunction(() => location.hash.endsWith('/view/deep-work'));
  await page.uncheck('[data-testid=ve-show-bars]');
  await expectCards(page, ['apps', 'titles', 'categories'], 'the new view without the bar chart');
  await eventually(async () => {
    const v = (await stored()).find((x) => x.id === 'deep-work');
    assert.deepEqual(v, { id: 'deep-work', name: 'Deep work', cards: ['apps', 'titles', 'categories'] });
  });
  assert.equal(await page.locator('[data-testid=view-select] button[data-value=deep-work]').innerText(), 'Deep work');
  // rename it: the tab and the setting follow, the id (and address) stay
  await page.fill('[data-testid=ve-title]', 'Focus');
  await page.press('[data-testid=ve-title]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=view-select] button[data-value=deep-work]')?.textContent === 'Focus');
  await eventually(async () => assert.equal((await stored()).find((x) => x.id === 'deep-work').name, 'Focus'));
  await page.reload();
  await expectCards(page, ['apps', 'titles', 'categories'], 'the new view after a reload');
  assert.ok(page.url().endsWith('/view/deep-work'));

  // delete it: back to the first view; the toast's Undo (focused: Enter) brings it back
  await page.click('[data-testid=edit-view]');
  await page.click('[data-testid=ve-delete]');
  await page.waitForFunction(() => !location.hash.includes('/view/'));
  await expectCards(page, SHOWN);
  await eventually(async () => assert.equal((await stored()).some((x) => x.id === 'deep-work'), false));
  await page.waitForSelector('[data-testid=view-deleted] button');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.endsWith('/view/deep-work'));
  await expectCards(page, ['apps', 'titles', 'categories'], 'the view is back');
  await eventually(async () => assert.deepEqual((await stored()).map((x) => x.id), ['summary', 'window', 'browser', 'editor', 'deep-work'], 'back in its place'));
  await page.click('[data-testid=ve-delete]');
  await page.waitForFunction(() => !location.hash.includes('/view/'));
  await eventually(async () => assert.equal((await stored()).some((x) => x.id === 'deep-work'), false));
  assert.deepEqual(errors, []);
  await page.close();
});

test('a stored view with unknown cards opens with the known ones; 390 px and dark fit', async () => {
  await node.api('POST', `/settings/${KEY}`, [
    { id: 'mine', name: 'Mine', cards: ['top_apps_old', 'apps', 'categories', 'apps', 42, 'future-card', 'urls'],
      widths: { apps: 7, categories: '2', 'future-card': 2, urls: 1 } },
    { name: 'no id' },
    'junk',
  ]);
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${node.url}/#/activity/${HOST}/day/${DAY}`);
  await expectCards(page, ['apps', 'categories', 'urls'], 'unknown and repeated cards left out');
  assert.deepEqual(await page.$$eval('[data-testid=view-select] button', (xs) => xs.map((x) => x.dataset.value)), ['mine'], 'only the valid view');
  await page.click('[data-testid=edit-view]');
  await page.waitForSelector('[data-testid=view-editor]');
  assert.ok((await overflow(page)) <= 0, `no sideways scroll at 390 px with the editor open (${await overflow(page)})`);
  await page.screenshot({ path: screenshotPath('73-activity-edit-view-390-dark'), fullPage: true });
  // the editor lists the shown cards first, then the hidden ones
  const rows = await page.$$eval('[data-testid=view-editor] .ve-row', (xs) => xs.map((x) => x.dataset.card));
  assert.deepEqual(rows.slice(0, 3), ['apps', 'categories', 'urls']);
  // of the stored widths only the valid one counts: URLs at a third, the others at their default
  assert.deepEqual(await Promise.all(['apps', 'categories', 'urls'].map((c) => page.inputValue(`[data-testid=ve-width-${c}]`))), ['1', '2', '1']);
  assert.equal(rows.length, SUMMARY.length);
  // a reset of a view of one's own shows every card again
  await page.click('[data-testid=ve-reset]');
  await expectCards(page, SHOWN);
  await eventually(async () => assert.deepEqual(await stored(), [{ id: 'mine', name: 'Mine', cards: SUMMARY }]));
  assert.deepEqual(errors, []);
  await page.close();
});
