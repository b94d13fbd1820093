// The web UI's languages (docs/webui.md, "Languages"): English and German from a message
// catalogue, the browser's language by default, a choice on the Settings page that
// overrides it and survives a reload; numbers and dates in the chosen language. Run with
// tests/ui/run.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, launchBrowser, Node, repo, screenshotPath, sharedDir, watch } from './harness.mjs';

let node, browser, LOCAL;
/** event count per bucket, as the node answers */
const counts = {};

const allowSync = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname;
  // the last ten days (not the fixed 2025 days the other tests use), so that the pages that
  // look back from today (Reports, the category builder) have something to show
  const start = new Date(Date.now() - 10 * 86400_000);
  start.setUTCHours(0, 0, 0, 0);
  const data = execFileSync('python3', [path.join(sharedDir(), 'bench/gen_data.py'), '--days', '10', '--host', LOCAL, '--seed', '1',
    '--start', start.toISOString().replace('Z', '+00:00')], { maxBuffer: 1 << 28 });
  await node.api('POST', '/import', data.toString());
  for (const id of Object.keys(await node.api('GET', '/buckets/'))) counts[id] = await node.api('GET', `/buckets/${encodeURIComponent(id)}/events/count`);
  // the harness's browser is one persistent context without a locale; these tests need
  // contexts of their own with a locale each, so they launch the same Chromium
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

const NAV_DE = ['Aktivität', 'Zeitleiste', 'Suche', 'Berichte', 'Stoppuhr', 'Rohdaten', 'Abfrage', 'Synchronisierung', 'Einstellungen'];
const NAV_EN = ['Activity', 'Timeline', 'Search', 'Reports', 'Stopwatch', 'Raw data', 'Query', 'Sync', 'Settings'];

async function context(locale, width = 1440) {
  return browser.newContext({ locale, viewport: { width, height: 1000 } });
}

async function open(page, hash) {
  await page.goto(`${node.url}/#${hash}`);
}

/** Local calendar date "YYYY-MM-DD" (the browser runs in the same time zone). */
const ymdLocal = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

const navTexts = (page) => page.$$eval('.sidebar nav .nav-item span', (xs) => xs.map((x) => x.textContent));

/** The catalogue's keys and the {placeholders} of each message, read from the .ts source. */
function catalogue(lang) {
  const src = fs.readFileSync(`${repo}/webui/src/lib/messages/${lang}.ts`, 'utf8');
  const out = new Map();
  // one entry a line: 'key': 'text', or 'key': { one: '…', other: '…' }
  for (const m of src.matchAll(/^\s*'([\w.]+)':\s*(.*),\s*$/gm)) {
    out.set(m[1], [...m[2].matchAll(/\{(\w+)\}/g)].map((x) => x[1]).filter((x) => x !== 'one' && x !== 'other').sort().join(','));
  }
  return out;
}

// English words of the UI that must not show on a German page (whole words, case-sensitive);
// the generated data (window titles, apps, URLs) holds none of them
const ENGLISH = ['Settings', 'Delete', 'Export', 'Search', 'Save', 'Cancel', 'Refresh', 'Raw data', 'Devices', 'Events',
  'Loading', 'Privacy', 'General', 'Theme', 'Stopwatch', 'Reports', 'Query', 'Timeline', 'Activity', 'Remove', 'Merge', 'Show',
  'Stop', 'Start', 'Copy', 'Filter', 'Page', 'Last', 'First', 'Created', 'this device', 'Rule', 'Pattern', 'Result', 'History',
  'Today', 'Language', 'Appearance', 'Categories', 'Category', 'Add', 'Total', 'Amount', 'Day', 'Week', 'Month', 'All', 'No', 'Nothing',
  'recording', 'Watcher state', 'Other', 'Sync now', 'Print', 'Range', 'Rounding', 'Accept', 'Skip', 'Before', 'After',
  'Examples', 'Run', 'From', 'To', 'Dates', 'days', 'events', 'ago', 'Prev', 'Next',
  // the Activity page's (not "Browser" and "Editor", which German uses too)
  'Summary', 'Window', 'Top', 'Active time', 'Browsing', 'Edit', 'Only', 'Rename', 'Done', 'Reset', 'Move', 'per', 'Jump',
  'remote', 'counted', 'Time', 'Per', 'Bar chart', 'Share', 'Previous', 'filtered', 'Build', 'Expand', 'Collapse', 'apps'];

/** The page's text without data: bucket ids, event data, category names, app names. */
const visibleText = (page) => page.evaluate(() => {
  const main = document.querySelector('.main').cloneNode(true);
  for (const el of main.querySelectorAll('code, .mono, [data-testid=events-table] tbody, .cat-name, .cat-rule, [data-testid=category-preset], .cz-label, .cz-regex, .cz-table tbody, [data-testid=cz-suggestions] [data-field=category], .json-view, .dev-name, .tag, select[data-testid=search-device], [data-testid=report-devices] label, [data-testid=report-categories] label, .tl-row, .ct-name, .count-cat, .stat-text, select[data-testid=host-select]'))
    el.remove();
  // form controls' own text (values typed, placeholders) is not in innerText; titles and
  // aria-labels are checked too
  const attrs = [...main.querySelectorAll('[title], [aria-label], [placeholder]')].map((el) =>
    [el.getAttribute('title'), el.getAttribute('aria-label'), el.getAttribute('placeholder')].filter(Boolean).join(' · '));
  document.body.appendChild(main);
  main.style.position = 'absolute';
  const text = main.innerText;
  main.remove();
  return text + '\n' + attrs.join('\n');
});

function englishIn(text) {
  return ENGLISH.filter((w) => new RegExp(`(^|[^\\p{L}-])${w.replace(/ /g, '\\s+')}($|[^\\p{L}-])`, 'u').test(text));
}

describe('languages', () => {
  test('every key of the English catalogue is in the German one, with the same placeholders', () => {
    const en = catalogue('en');
    const de = catalogue('de');
    assert.ok(en.size > 300, `parsed ${en.size} English keys`);
    assert.deepEqual([...en.keys()].filter((k) => !de.has(k)), [], 'keys missing in de.ts');
    assert.deepEqual([...de.keys()].filter((k) => !en.has(k)), [], 'keys in de.ts that en.ts lacks');
    // a German message may use a parameter's plain form where English lowercases it mid-sentence
    // ({what} for {whatLower}: German nouns keep their capital)
    const fits = (enP, deP) => deP.split(',').filter(Boolean).every((p) => enP.split(',').includes(p) || enP.split(',').includes(p + 'Lower'));
    const differ = [...en].filter(([k, p]) => !fits(p, de.get(k)) || !fits(de.get(k), p.replace(/(\w+)Lower/g, '$1'))).map(([k, p]) => `${k}: en {${p}} de {${de.get(k)}}`);
    assert.deepEqual(differ, [], 'placeholders differ');
  });

  test('the harness\'s browser, without a locale, is English (the other tests select by English text)', async () => {
    const ctx = await launchBrowser();
    try {
      const page = await ctx.newPage();
      await open(page, '/settings');
      await page.waitForSelector('[data-testid=settings-page]');
      assert.match(await page.evaluate(() => navigator.language), /^en\b/);
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
      assert.deepEqual(await navTexts(page), NAV_EN);
    } finally {
      await ctx.close();
    }
  });

  test('a German browser: German navigation, Raw data with its counts the German way, Settings and Search in German', async () => {
    const ctx = await context('de-DE');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/buckets');
    await page.waitForSelector('[data-testid=buckets-page]');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.deepEqual(await navTexts(page), NAV_DE);
    assert.equal(await page.textContent('[data-testid=buckets-page] h1'), 'Rohdaten');

    // each bucket's count as the node says, grouped with dots ("1.234")
    const de = new Intl.NumberFormat('de-DE');
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-bucket] [data-testid=count]').length === n
      && [...document.querySelectorAll('tr[data-bucket] [data-testid=count]')].every((x) => /\d/.test(x.textContent)), Object.keys(counts).length);
    const shown = Object.fromEntries(await page.$$eval('tr[data-bucket]', (trs) => trs.map((tr) => [tr.dataset.bucket, tr.querySelector('[data-testid=count]').textContent])));
    for (const [id, n] of Object.entries(counts)) assert.equal(shown[id], de.format(n), id);
    assert.ok(Object.values(counts).some((n) => n >= 1000), 'a bucket with 1000 events or more, so the grouping shows');
    assert.ok(Object.values(shown).some((s) => /^\d{1,3}(\.\d{3})+$/.test(s)), JSON.stringify(shown));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.match(await page.textContent('[data-testid=buckets-page] .page-sub'), new RegExp(`${de.format(total).replace('.', '\\.')} Ereignisse · 1 Gerät`));
    assert.deepEqual(await page.$$eval('[data-testid=buckets-page] thead th', (ths) => ths.map((th) => th.textContent).filter(Boolean)),
      ['Bucket', 'Typ', 'Client', 'Ereignisse', 'Zuletzt aktualisiert']);
    await page.screenshot({ path: screenshotPath('i18n-de-buckets-1440'), fullPage: true });

    // a bucket's page: its event count the same way
    const big = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
    await open(page, `/buckets/${encodeURIComponent(big[0])}`);
    await page.waitForSelector('[data-testid=events-table]');
    assert.equal(await page.textContent('.meta-grid .meta:first-child .meta-value'), de.format(big[1]));
    assert.equal(await page.textContent('.meta-grid .meta:first-child .stat-label'), 'Ereignisse');
    assert.match(await page.textContent('[data-testid=page-info]'), /^Seite 1 von \d+$/);

    await open(page, '/settings');
    await page.waitForSelector('[data-testid=watchers-card]');
    assert.equal(await page.textContent('[data-testid=settings-page] h1'), 'Einstellungen');
    assert.deepEqual(await page.$$eval('[data-testid=settings-tabs] button', (bs) => bs.map((b) => b.textContent)), ['Allgemein', 'Kategorien', 'Datenschutz', 'Warnungen']);
    assert.match(await page.textContent('[data-testid=settings-page]'), /Tagesbeginn/);
    assert.match(await page.textContent('[data-testid=origin-landingpage] [data-testid=origin-text]'), /^Standardwert, nie geändert$/);
    assert.equal(await page.$eval('[data-testid=language-select]', (s) => s.value), 'auto');
    await page.screenshot({ path: screenshotPath('i18n-de-settings-1440'), fullPage: true });

    await open(page, '/search?q=Slack');
    await page.waitForSelector('[data-testid=search-status][data-state=done]', { timeout: 30_000 });
    assert.equal(await page.textContent('[data-testid=search-page] h1'), 'Suche');
    assert.deepEqual(await page.$$eval('[data-testid=search-range] button', (bs) => bs.map((b) => b.textContent)), ['7 Tage', '30 Tage', '1 Jahr', 'Alles', 'Zeitraum']);
    assert.match(await page.textContent('[data-testid=search-summary]'), /^[\d.]+ Treffer · /);
    assert.match(await page.textContent('[data-testid=search-status]'), /Durchsucht: /);
    assert.equal(await page.getAttribute('[data-testid=search-input]', 'aria-label'), 'Suche');
    await page.screenshot({ path: screenshotPath('i18n-de-search-1440'), fullPage: true });
    await page.close();
    await ctx.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('no English left on the translated pages in German', async () => {
    const ctx = await context('de-DE');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    const bucket = Object.keys(counts).find((id) => id.startsWith('aw-watcher-window'));
    // each page, and what shows when it is ready
    const pages = [
      ['/settings', '[data-testid=watchers-card] table, [data-testid=watchers-unsupervised]'],
      ['/settings/categories', '[data-testid=category-list]'],
      ['/settings/privacy', '[data-testid=privacy-rules]'],
      ['/buckets', 'tr[data-bucket]'],
      [`/buckets/${encodeURIComponent(bucket)}`, '[data-testid=events-table]'],
      ['/query', '[data-testid=query-editor]'],
      ['/search', '.sr-hint'],
      ['/search?q=Slack', '[data-testid=search-status][data-state=done]'],
      ['/reports', '[data-testid=report-table], [data-testid=report-table-card] .empty'],
      ['/sync', '[data-testid=known-devices] tr[data-device-id]'],
      ['/stopwatch', '[data-testid=stopwatch-page] .empty, [data-testid=stopwatch-page] table'],
      ['/categorize', '[data-testid=cz-summary]'],
    ];
    const found = {};
    for (const [hash, ready] of pages) {
      await open(page, hash);
      await page.waitForSelector(ready, { timeout: 30_000 });
      await page.waitForTimeout(300);
      const words = englishIn(await visibleText(page));
      if (words.length) found[hash] = words;
    }
    // the Activity page for a day with data, one device and all devices, with the count
    // filters open, the usage strip filled in and the Edit view panel open
    const day = ymdLocal(new Date(Date.now() - 3 * 86400_000));
    for (const host of [LOCAL, 'all']) {
      const hash = `/activity/${encodeURIComponent(host)}/day/${day}`;
      await open(page, hash);
      await page.waitForFunction((all) => document.querySelector('[data-testid=period-label]')?.textContent.includes('alle Geräte') === all, host === 'all');
      await page.waitForSelector('[data-testid=top-apps-list] .tl-row', { timeout: 30_000 });
      await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=period-usage] .pu-current[data-seconds]'), null, { timeout: 30_000 });
      await page.$eval('[data-testid=count-filters]', (d) => (d.open = true));
      if (!(await page.$('[data-testid=view-editor]'))) await page.click('[data-testid=edit-view]');
      await page.waitForSelector('[data-testid=view-editor]');
      await page.waitForTimeout(300);
      const words = englishIn(await visibleText(page));
      if (words.length) found[hash] = words;
    }
    // the merge dialog and the delete dialog of a bucket
    await open(page, '/buckets');
    await page.click(`tr[data-bucket="${bucket}"] [data-action=merge]`);
    await page.waitForSelector('[data-testid=merge-dialog]');
    const merge = englishIn(await page.evaluate(() => document.querySelector('.modal').innerText));
    if (merge.length) found['merge dialog'] = merge;
    await page.keyboard.press('Escape');
    await page.click(`tr[data-bucket="${bucket}"] [data-action=delete]`);
    await page.waitForSelector('[data-testid=confirm-delete]');
    const del = englishIn(await page.evaluate(() => document.querySelector('.modal').innerText));
    if (del.length) found['delete dialog'] = del;
    await page.keyboard.press('Escape');
    // the Timeline of that day with the filter panel open, then its event dialog (German
    // spells "Filter" as English does)
    const german = (words) => words.filter((w) => w !== 'Filter');
    await open(page, `/timeline/${day}/1`);
    await page.waitForSelector('[data-testid=timeline-chart]', { timeout: 30_000 });
    if (!(await page.$('[data-testid=timeline-filters]'))) await page.click('[data-testid=timeline-filters-toggle]');
    await page.waitForTimeout(300);
    const timeline = german(englishIn(await visibleText(page)));
    if (timeline.length) found[`/timeline/${day}/1`] = timeline;
    await page.focus('[data-testid=timeline-chart-box]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=timeline-editor] [data-testid=editor-start], [data-testid=editor-readonly]');
    const event = german(englishIn(await page.evaluate(() => document.querySelector('.modal').innerText)));
    if (event.length) found['timeline event dialog'] = event;
    await page.keyboard.press('Escape');
    assert.deepEqual(found, {}, 'English words on German pages');
    await page.close();
    await ctx.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the Activity page in German: its period names, views, dates and bar labels', async () => {
    const ctx = await context('de-DE');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    const date = new Date(Date.now() - 3 * 86400_000);
    const day = ymdLocal(date);
    await open(page, `/activity/${encodeURIComponent(LOCAL)}/day/${day}`);
    await page.waitForSelector('[data-testid=top-apps-list] .tl-row', { timeout: 30_000 });
    assert.equal(await page.textContent('[data-testid=activity-page] h1'), 'Aktivität');
    const WEEKDAYS = 'Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag';
    const MONTHS = 'Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember';
    // "Montag, 30. November 2026 · host", the same as the browser's German says it
    const label = await page.textContent('[data-testid=period-label]');
    assert.match(label, new RegExp(`^(${WEEKDAYS}), \\d{1,2}\\. (${MONTHS}) \\d{4} · `));
    const want = await page.evaluate((d) => new Date(d).toLocaleDateString('de-DE', { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }), date.getTime());
    assert.ok(label.startsWith(want), `${label} starts with ${want}`);
    assert.deepEqual(await page.$$eval('[data-testid=period-select] button', (bs) => bs.map((b) => b.textContent)), ['Tag', 'Woche', 'Monat', 'Jahr', '7 Tage', '30 Tage']);
    assert.deepEqual(await page.$$eval('[data-testid=view-select] button', (bs) => bs.map((b) => b.textContent)), ['Übersicht', 'Fenster', 'Browser', 'Editor']);
    assert.equal(await page.textContent('[data-testid=total-active] .stat-label'), 'Aktive Zeit');
    assert.equal(await page.textContent('[data-testid=bar-card] h3'), 'Tageszeit');
    // the usage strip's days by their German weekday ("Mo. 30")
    await page.waitForSelector('[data-testid=period-usage] .pu-item');
    const strip = await page.$$eval('[data-testid=period-usage] .pu-label', (xs) => xs.map((x) => x.textContent));
    assert.ok(strip.every((x) => /^(Mo|Di|Mi|Do|Fr|Sa|So)\.?,? \d{1,2}/.test(x)), strip.join(' | '));

    // a month by its German name; a week's bars by German weekdays
    await open(page, `/activity/${encodeURIComponent(LOCAL)}/month/${day}`);
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid=period-label]')?.textContent || ''), `^(${MONTHS}) \\d{4}`);
    await open(page, `/activity/${encodeURIComponent(LOCAL)}/week/${day}`);
    await page.waitForFunction(() => /–/.test(document.querySelector('[data-testid=period-label]')?.textContent || ''));
    await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=bar-chart]').awChart?.getOption().xAxis[0].data.length === 7, null, { timeout: 30_000 });
    const bars = await page.$eval('[data-testid=bar-chart]', (el) => el.awChart.getOption().xAxis[0].data);
    assert.ok(bars.every((x) => /^(Mo|Di|Mi|Do|Fr|Sa|So)\.?,? \d{1,2}/.test(x)), bars.join(' | '));
    assert.equal(await page.textContent('[data-testid=bar-card] h3'), 'Pro Tag');
    // a rolling period: its German name before its days
    await open(page, `/activity/${encodeURIComponent(LOCAL)}/last7d/${day}`);
    await page.waitForFunction(() => /^7 Tage: /.test(document.querySelector('[data-testid=period-label]')?.textContent || ''));
    await page.screenshot({ path: screenshotPath('i18n-de-activity-1440'), fullPage: true });
    await page.close();
    await ctx.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the language chosen in Settings overrides the browser\'s and survives a reload', async () => {
    const ctx = await context('de-DE');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/settings');
    await page.waitForSelector('[data-testid=language-select]');
    assert.deepEqual(await navTexts(page), NAV_DE);
    // choosing reloads the page in that language
    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid=language-select]', 'en')]);
    await page.waitForSelector('[data-testid=language-select]');
    assert.deepEqual(await navTexts(page), NAV_EN);
    assert.equal(await page.evaluate(() => localStorage.getItem('awnode.language')), 'en');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.$eval('[data-testid=language-select]', (s) => s.value), 'en');
    await page.reload();
    await page.waitForSelector('[data-testid=settings-page]');
    assert.deepEqual(await navTexts(page), NAV_EN);
    assert.equal(await page.textContent('[data-testid=settings-page] h1'), 'Settings');
    // numbers follow the chosen language, not the browser's
    await open(page, '/buckets');
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-bucket] [data-testid=count]')].some((x) => /\d,\d{3}/.test(x.textContent)));
    // back to automatic: the browser's German again
    await open(page, '/settings');
    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid=language-select]', 'auto')]);
    await page.waitForSelector('[data-testid=language-select]');
    assert.deepEqual(await navTexts(page), NAV_DE);
    assert.equal(await page.evaluate(() => localStorage.getItem('awnode.language')), null);
    await page.close();
    await ctx.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('an English browser shows English, and German once chosen', async () => {
    const ctx = await context('en-US');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/buckets');
    await page.waitForSelector('[data-testid=buckets-page]');
    assert.deepEqual(await navTexts(page), NAV_EN);
    assert.equal(await page.textContent('[data-testid=buckets-page] h1'), 'Raw data');
    const en = new Intl.NumberFormat('en-US');
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-bucket] [data-testid=count]')].every((x) => /\d/.test(x.textContent)));
    const shown = Object.fromEntries(await page.$$eval('tr[data-bucket]', (trs) => trs.map((tr) => [tr.dataset.bucket, tr.querySelector('[data-testid=count]').textContent])));
    for (const [id, n] of Object.entries(counts)) assert.equal(shown[id], en.format(n), id);
    await open(page, '/settings');
    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid=language-select]', 'de')]);
    await page.waitForSelector('[data-testid=language-select]');
    assert.deepEqual(await navTexts(page), NAV_DE);
    await page.reload();
    await page.waitForSelector('[data-testid=settings-page]');
    assert.equal(await page.textContent('[data-testid=settings-page] h1'), 'Einstellungen');
    await page.close();
    await ctx.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('German screenshots at 390 and 1440 px wide', async () => {
    for (const width of [390, 1440]) {
      const ctx = await context('de-DE', width);
      const page = await ctx.newPage();
      const problems = watch(page, allowSync);
      for (const [name, hash, ready] of [
        ['settings', '/settings', '[data-testid=watchers-card]'],
        ['buckets', '/buckets', 'tr[data-bucket] [data-testid=count]'],
        ['search', '/search?q=Slack', '[data-testid=search-status][data-state=done]'],
        ['reports', '/reports', '[data-testid=report-table-card]'],
        ['categorize', '/categorize', '[data-testid=cz-summary]'],
        ['activity', `/activity/${encodeURIComponent(LOCAL)}/day/${ymdLocal(new Date(Date.now() - 3 * 86400_000))}`, '[data-testid=period-usage] .pu-current[data-seconds]'],
      ]) {
        await open(page, hash);
        await page.waitForSelector(ready, { timeout: 30_000 });
        await page.waitForTimeout(300);
        // nothing wider than the window (German words are longer)
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 1, `${name} at ${width}px: ${overflow}px wider than the window`);
        await page.screenshot({ path: screenshotPath(`i18n-de-${name}-${width}`), fullPage: true });
      }
      await page.close();
      await ctx.close();
      assert.deepEqual(problems, [], problems.join('\n'));
    }
  });
});
