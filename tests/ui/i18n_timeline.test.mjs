// The Timeline in German (docs/webui.md, "Languages"): a day view with the filter panel
// open, the event dialog and the toast after a deletion show no English words of the UI,
// and the range is written as German dates. In a de-DE browser context of its own, as
// i18n.test.mjs does (the harness's browser is English). Run with tests/ui/run.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM, eventually, Node, screenshotPath, watch } from './harness.mjs';

const DAY = '2025-03-04';
// local times of that day (the browser and this process share the time zone)
const at = (h, m = 0, s = 0) => new Date(2025, 2, 4, h, m, s);
const iso = (d) => d.toISOString().replace('.000Z', 'Z');
const WIN = 'aw-watcher-window_desk';
const AFK = 'aw-watcher-afk_desk';

let node, browser;

before(async () => {
  node = new Node();
  await node.start();
  await node.api('POST', `/buckets/${WIN}`, { type: 'currentwindow', client: 'ui-test', hostname: 'desk' });
  // data without English UI words (titles are data and stay as they are)
  await node.api('POST', `/buckets/${WIN}/events`, [
    { timestamp: iso(at(10)), duration: 600, data: { app: 'Code', title: 'main.c - awnode' } },
    { timestamp: iso(at(10, 15)), duration: 20, data: { app: 'Firefox', title: 'Katzen' } },
    { timestamp: iso(at(10, 20)), duration: 5, data: { app: 'Terminal', title: 'bash' } },
  ]);
  await node.api('POST', `/buckets/${AFK}`, { type: 'afkstatus', client: 'ui-test', hostname: 'desk' });
  await node.api('POST', `/buckets/${AFK}/events`, [{ timestamp: iso(at(10)), duration: 3600, data: { status: 'not-afk' } }]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await node?.stop();
});

// English words of the Timeline that must not show in German (whole words, case-sensitive);
// not "Filter", which German spells the same
const ENGLISH = ['Timeline', 'Refresh', 'Earlier', 'Later', 'Today', 'Colour', 'Category', 'Filters', 'Clear', 'Devices', 'Bucket types',
  'Types', 'Hide', 'shorter', 'title', 'Only', 'Lanes', 'in use', 'remote', 'events', 'event', 'hidden', 'scroll', 'zoom', 'click',
  'Show', 'No', 'Jump', 'Enter', 'opens', 'Event', 'Start', 'Duration', 'Data', 'Delete', 'Cancel', 'Save', 'Close', 'Undo',
  'deleted', 'restored', 'saved', 'day', 'days', 'Last hours', 'Reading'];

function englishIn(text) {
  return ENGLISH.filter((w) => new RegExp(`(^|[^\\p{L}-])${w.replace(/ /g, '\\s+')}($|[^\\p{L}-])`, 'u').test(text));
}

/** An element's visible text without data (bucket ids, keys), with its titles, aria-labels
 * and placeholders. */
const textOf = (page, selector) => page.evaluate((selector) => {
  const root = document.querySelector(selector).cloneNode(true);
  for (const el of root.querySelectorAll('code, .mono, .tl-selected')) el.remove();
  const attrs = [...root.querySelectorAll('[title], [aria-label], [placeholder]')]
    .filter((el) => !el.matches('[data-lane]')) // a lane's title is its bucket id
    .map((el) => [el.getAttribute('title'), el.getAttribute('aria-label'), el.getAttribute('placeholder')].filter(Boolean).join(' · '));
  document.body.appendChild(root);
  root.style.position = 'absolute';
  const text = root.innerText;
  root.remove();
  return text + '\n' + attrs.join('\n');
}, selector);

describe('the Timeline in German', () => {
  test('a day with the filters open, the event dialog and the deletion toast speak German', async () => {
    const ctx = await browser.newContext({ locale: 'de-DE', viewport: { width: 1440, height: 1000 } });
    const page = await ctx.newPage();
    const problems = watch(page, (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404));
    try {
      await page.goto(`${node.url}/#/timeline/${DAY}/1`);
      await page.waitForSelector('[data-testid=timeline-chart]', { timeout: 30_000 });
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
      assert.equal(await page.textContent('[data-testid=timeline-page] h1'), 'Zeitleiste');
      // the range in German dates (the start of day is 04:00)
      assert.match(await page.textContent('[data-testid=timeline-page] .page-sub'), /04\.03\.2025, 04:00 – 05\.03\.2025, 04:00/);
      // the filters: shorter than 10 s hides one event
      if (!(await page.$('[data-testid=timeline-filters]'))) await page.click('[data-testid=timeline-filters-toggle]');
      await page.fill('[data-testid=timeline-min]', '10');
      await eventually(async () => assert.match(await page.textContent('[data-testid=timeline-card] .card-sub'), /^3 Ereignisse · 1 ausgeblendet · /));
      await page.waitForTimeout(300);
      const found = {};
      const day = englishIn(await textOf(page, '.main'));
      if (day.length) found.day = day;
      // the keyboard chooses an event and opens it
      await page.focus('[data-testid=timeline-chart-box]');
      await page.keyboard.press('ArrowRight');
      await eventually(async () => assert.match(await page.textContent('[data-testid=timeline-selected]'), /Eingabe öffnet es/));
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=timeline-editor] [data-testid=editor-start]');
      const dialog = englishIn(await textOf(page, '.modal'));
      if (dialog.length) found.dialog = dialog;
      assert.match(await page.textContent('[data-testid=editor-span]'), /^4\. März 2025, \d\d:\d\d:\d\d → /);
      // a wrong duration is reported in German
      await page.fill('[data-testid=editor-duration]', '-1');
      await page.click('[data-testid=editor-save]');
      assert.match(await page.textContent('[data-testid=editor-error]'), /Die Dauer muss/);
      await page.click('[data-testid=editor-delete]');
      await page.waitForSelector('[data-testid=undo-toast]');
      const toast = await page.textContent('[data-testid=undo-toast]');
      assert.match(toast, /Ereignis gelöscht · 4\. März 2025, \d\d:\d\d:\d\d/);
      const words = englishIn(toast);
      if (words.length) found.toast = words;
      assert.deepEqual(found, {}, 'English words on the German Timeline');
      assert.deepEqual(problems, []);
    } catch (e) {
      await page.screenshot({ path: screenshotPath('i18n-timeline'), fullPage: true }).catch(() => {});
      throw e;
    } finally {
      await ctx.close();
    }
  });
});
