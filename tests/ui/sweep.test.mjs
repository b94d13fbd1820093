// Every page at a phone's width (390 px) and a desktop's (1440 px), light and dark, against
// a real node with a month of two devices' data: nothing wider than the window, no console
// or HTTP errors, no emoji or font glyphs standing in for icons, and (at 1440 px) every
// control reachable with the Tab key and nothing clickable that the keyboard cannot reach.
// A screenshot of each page at each width and theme is kept in artifacts/ (sweep-*.png).
// Run with tests/ui/run.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const REMOTE = 'work-laptop';
const DAY = '2025-02-03'; // inside the generated month (2025-01-06 .. 2025-02-04)
let node, ctx, LOCAL;

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname;
  await node.seed(LOCAL, 30, 1);
  await node.seed(REMOTE, 30, 2, { '$aw.sync.origin': REMOTE, '$aw.sync.device_id': 'sweep-device-' + REMOTE });
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

// a node without sync set up answers the sync status with 404: the Sync page says so
const allow = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);

function pages() {
  return [
    ['activity-day', `/activity/${LOCAL}/day/${DAY}`],
    ['activity-all-week', '/activity/all/week/2025-01-27'],
    ['timeline', `/timeline/${DAY}/1`],
    ['raw-data', '/buckets'],
    ['bucket', `/buckets/aw-watcher-window_${LOCAL}`],
    ['query', '/query'],
    ['search', '/search?q=github&range=all'],
    ['reports', '/reports'],
    ['categorize', '/categorize'],
    ['settings-general', '/settings/general'],
    ['settings-categories', '/settings/categories'],
    ['settings-privacy', '/settings/privacy'],
    ['settings-alerts', '/settings/alerts'],
    ['sync', '/sync'],
    ['stopwatch', '/stopwatch'],
  ];
}

async function settle(page) {
  await page.waitForLoadState('networkidle');
  // charts animate in; search and reports fill in as their queries answer
  await page.waitForTimeout(600);
  await page.waitForLoadState('networkidle');
}

/** Facts about the page, worked out inside it. */
function inspect() {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    // checkVisibility also sees the content of a closed <details>, which keeps its boxes
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && !el.closest('[hidden],[inert]') &&
      (!el.checkVisibility || el.checkVisibility({ visibilityProperty: true }));
  };
  const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"]), [contenteditable=true]';
  const tabbable = [...document.querySelectorAll(TABBABLE)].filter((el) => visible(el) && el.tabIndex >= 0);
  // something that looks clickable (pointer cursor) but neither is nor sits in or around a
  // control: a mouse-only control. Charts draw on a canvas; their figures are in the
  // page's lists and tables, so they are left out.
  const focusableSel = TABBABLE + ', label, [tabindex]';
  const mouseOnly = [...document.querySelectorAll('body *')].filter((el) => {
    if (!visible(el) || getComputedStyle(el).cursor !== 'pointer') return false;
    if (el.closest(focusableSel) || el.querySelector(focusableSel)) return false;
    if (el.closest('canvas, svg, [data-chart], [_echarts_instance_]') || el.tagName === 'CANVAS') return false;
    // inherited pointer: report only the outermost element
    return !(el.parentElement && getComputedStyle(el.parentElement).cursor === 'pointer' && !el.parentElement.closest(focusableSel));
  }).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent || '').trim().slice(0, 30)}"`);
  // emoji or dingbats as a control's whole text: the icon a font may not have
  const glyph = /[\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u{1f300}-\u{1faff}]/u;
  const fontIcons = [...document.querySelectorAll('button, a, [role=button], .icon, .empty-icon')]
    .filter((el) => visible(el) && (el.textContent || '').trim().length <= 2 && glyph.test(el.textContent || ''))
    .map((el) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}"`);
  return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    tabbable: tabbable.length,
    marked: tabbable.map((el, i) => (el.dataset.sweep = String(i))).length,
    mouseOnly,
    fontIcons,
  };
}

/** Tab through the page (up to `max` presses) and say which of the marked controls got
 * the focus. */
async function tabReach(page, total) {
  const seen = new Set();
  // start from the top: focusing the body moves Chromium's sequential focus starting point
  await page.evaluate(() => {
    document.activeElement?.blur();
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
  const max = total * 2 + 20;
  let last = null;
  for (let i = 0; i < max && seen.size < total; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.dataset?.sweep ?? null);
    // an editor that indents with Tab (the query explorer's) lets go after Escape
    if (id !== null && id === last && await page.evaluate(() => document.activeElement?.tagName === 'TEXTAREA')) await page.keyboard.press('Escape');
    if (id !== null) seen.add(id);
    last = id;
  }
  const missing = await page.evaluate((got) => [...document.querySelectorAll('[data-sweep]')]
    .filter((el) => !got.includes(el.dataset.sweep))
    // a radio group is one stop: the arrow keys move within it
    .filter((el) => !(el.type === 'radio' && el.name && [...document.querySelectorAll(`input[type=radio][name="${el.name}"]`)].some((r) => got.includes(r.dataset.sweep))))
    .map((el) => `${el.tagName.toLowerCase()}${el.type ? `[${el.type}]` : ''}.${[...el.classList].join('.')} "${(el.textContent || el.getAttribute('aria-label') || el.closest('label')?.textContent || '').trim().slice(0, 30)}"`), [...seen]);
  return missing;
}

describe('every page at 390 and 1440 px, light and dark', () => {
  for (const [width, scheme] of [[1440, 'light'], [1440, 'dark'], [390, 'light'], [390, 'dark']]) {
    test(`${width} px, ${scheme}`, async () => {
      const page = await ctx.newPage();
      const problems = watch(page, allow);
      await page.setViewportSize({ width, height: width === 390 ? 844 : 1000 });
      await page.emulateMedia({ colorScheme: scheme });
      const found = [];
      for (const [name, hash] of pages()) {
        await page.goto(`${node.url}/#${hash}`);
        await settle(page);
        const f = await page.evaluate(inspect);
        await page.screenshot({ path: screenshotPath(`sweep-${name}-${width}-${scheme}`), fullPage: true });
        if (f.overflow > 0) found.push(`${name}: the page is ${f.overflow} px wider than the window`);
        if (f.fontIcons.length) found.push(`${name}: font glyphs as icons: ${f.fontIcons.join(', ')}`);
        if (width === 1440 && scheme === 'light') {
          if (f.mouseOnly.length) found.push(`${name}: clickable but not focusable: ${f.mouseOnly.join(', ')}`);
          const missing = await tabReach(page, f.tabbable);
          if (missing.length) found.push(`${name}: not reached with Tab: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (+${missing.length - 10})` : ''}`);
        }
      }
      assert.deepEqual(found, [], found.join('\n'));
      assert.deepEqual(problems, [], problems.join('\n'));
      await page.close();
    });
  }
});
