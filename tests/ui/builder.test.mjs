// The category builder (#/categorize) against a real node. Run with tests/ui/run.sh.
// Known window, AFK and browser events, some of them uncategorised by the stored rules:
// the suggestions must name those apps, words and domains with the inserted times (checked
// against queries written here too), the preview must show what is left uncategorised
// after the accepted rules, and Save must add exactly those rules to `classes`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch, eventually } from './harness.mjs';

let node, ctx, H, WIN, AFK, WEB;

// the stored rules before the builder runs (with ids, as the Settings page stores them)
const CLASSES = [
  { id: 1, name: ['Work'], rule: { type: 'regex', regex: 'Writer' } },
  { id: 2, name: ['Work', 'Programming'], rule: { type: 'regex', regex: 'vim' } },
  { id: 3, name: ['Comms'], rule: { type: 'regex', regex: 'Thunderbird', ignore_case: true }, data: { color: '#0ea5e9' } },
];

// [app, title, seconds, browser url or null]; back to back, all of it not AFK
const WINDOW = [
  ['Writer', 'Report - Writer', 600, null],
  ['C++ (IDE)', 'main.cpp', 1200, null],
  ['Firefox', 'Pull requests · GitHub — Mozilla Firefox', 900, 'https://github.com/pulls'],
  ['Firefox', 'Hacker News — Mozilla Firefox', 300, 'https://news.ycombinator.com/'],
  ['Terminal', 'budget planning — bash', 480, null],
  ['Notes', 'budget planning notes', 360, null],
  // near misses for the escaped, anchored app rule
  ['C++ (IDE) helper', 'x', 120, null],
  ['C++ IDE', 'y', 90, null],
];
const TOTAL = WINDOW.reduce((a, w) => a + w[2], 0);
const UNCAT = TOTAL - 600;

before(async () => {
  node = new Node();
  await node.start();
  H = node.info.hostname;
  WIN = `aw-watcher-window_${H}`;
  AFK = `aw-watcher-afk_${H}`;
  WEB = `aw-watcher-web-firefox_${H}`;
  for (const [id, type] of [[WIN, 'currentwindow'], [AFK, 'afkstatus'], [WEB, 'web.tab.current']]) {
    await node.api('POST', `/buckets/${id}`, { client: 'builder-test', type, hostname: H });
  }
  // two days ago, on a whole minute, so it is inside the last 7 days
  const t0 = Math.floor((Date.now() - 2 * 86400_000) / 60_000) * 60_000;
  let t = t0;
  const win = [], web = [];
  for (const [app, title, secs, url] of WINDOW) {
    const ts = new Date(t).toISOString();
    win.push({ timestamp: ts, duration: secs, data: { app, title } });
    if (url) web.push({ timestamp: ts, duration: secs, data: { url, title: title.replace(' — Mozilla Firefox', ''), audible: false, incognito: false, tabCount: 3 } });
    t += secs * 1000;
  }
  await node.api('POST', `/buckets/${WIN}/events`, win);
  await node.api('POST', `/buckets/${WEB}/events`, web);
  await node.api('POST', `/buckets/${AFK}/events`, [{ timestamp: new Date(t0).toISOString(), duration: TOTAL, data: { status: 'not-afk' } }]);
  await node.api('POST', '/settings/classes', CLASSES);
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

const week = () => `${new Date(Date.now() - 7 * 86400_000).toISOString()}/${new Date().toISOString()}`;
const close = (a, b, eps = 0.01) => Math.abs(a - b) <= eps;

/** Independent figures from the node: active window seconds whose `key` matches `regex`. */
async function windowSeconds(regex, key = 'app', ignoreCase = false) {
  const [r] = await node.query([week()], [
    `w = flood(query_bucket("${WIN}"));`,
    `a = filter_keyvals(flood(query_bucket("${AFK}")), "status", ["not-afk"]);`,
    'w = filter_period_intersect(w, a);',
    `RETURN = sum_durations(filter_keyvals_regex(w, ${qlit(key)}, ${qlit((ignoreCase ? '(?i)' : '') + regex)}));`,
  ]);
  return r;
}

/** A query-language literal: the lexer keeps backslashes as they are, so only `"` is
 * escaped (JSON.stringify would double every backslash of a regex). */
function qlit(v) {
  if (typeof v === 'string') return '"' + v.replace(/"/g, '\\"') + '"';
  if (Array.isArray(v)) return '[' + v.map(qlit).join(', ') + ']';
  if (v && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => qlit(k) + ': ' + qlit(x)).join(', ') + '}';
  return JSON.stringify(v);
}

/** Uncategorised active window seconds under `classes`, asked of the node directly. */
async function uncategorised(classes) {
  const rules = classes.filter((c) => c.rule.type === 'regex' && c.rule.regex).map((c) => [c.name, c.rule]);
  const [r] = await node.query([week()], [
    `w = flood(query_bucket("${WIN}"));`,
    `a = filter_keyvals(flood(query_bucket("${AFK}")), "status", ["not-afk"]);`,
    'w = filter_period_intersect(w, a);',
    `w = categorize(w, ${qlit(rules)});`,
    'RETURN = sum_durations(filter_keyvals(w, "$category", [["Uncategorized"]]));',
  ]);
  return r;
}


const row = (id) => `[data-suggestion="${id}"]`;

async function readSuggestions(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-suggestion]')].map((li) => [
        li.dataset.suggestion,
        {
          seconds: Number(li.querySelector('.cz-time').dataset.seconds),
          catch: li.querySelector('.cz-catch').dataset.catch,
          regex: li.querySelector('[data-field=regex-text]').textContent,
          status: li.dataset.status,
        },
      ]),
    ),
  );
}

test('Settings links to the builder', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/settings/categories`);
  await page.click('[data-testid=build-categories]');
  await page.waitForSelector('[data-testid=categorize-page] h1');
  assert.equal(await page.evaluate(() => location.hash), '#/categorize');
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('suggest, accept, edit, skip, preview and save', async () => {
  // the data is what the test thinks it is
  assert.equal(await uncategorised(CLASSES), UNCAT);
  assert.equal(await windowSeconds('^C\\+\\+ \\(IDE\\)$'), 1200);

  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/categorize`);
  await page.waitForSelector('[data-testid=cz-summary]');
  const summary = await page.$eval('[data-testid=cz-summary]', (e) => ({ u: Number(e.dataset.uncategorized), t: Number(e.dataset.total) }));
  assert.ok(close(summary.u, UNCAT) && close(summary.t, TOTAL), JSON.stringify(summary));

  // the same data seen over 30 days, then back to the default week
  await page.click('[data-testid=cz-range] [data-value="30"]');
  await eventually(async () => assert.match(await page.textContent('[data-testid=cz-summary]'), /last 30 days/));
  assert.ok(close(Number(await page.getAttribute('[data-testid=cz-summary]', 'data-uncategorized')), UNCAT));
  await page.click('[data-testid=cz-range] [data-value="7"]');
  await eventually(async () => assert.match(await page.textContent('[data-testid=cz-summary]'), /last 7 days/));

  // every rule on screen is measured before the figures are read
  await eventually(async () => {
    const s = await readSuggestions(page);
    assert.ok(Object.values(s).every((x) => x.catch !== ''), JSON.stringify(s));
  });
  const s = await readSuggestions(page);
  const ids = Object.keys(s);

  // apps: every uncategorised app with its inserted time; the categorised one is absent
  for (const [app, , secs] of WINDOW.slice(1)) {
    if (app === 'Firefox') continue;
    assert.ok(close(s['app:' + app]?.seconds, secs), `app ${app}: ${JSON.stringify(s['app:' + app])}`);
  }
  assert.ok(close(s['app:Firefox'].seconds, 1200));
  assert.ok(!ids.includes('app:Writer'), 'Writer is categorised');
  // an app name with metacharacters: escaped, anchored, and it catches that app alone
  assert.equal(s['app:C++ (IDE)'].regex, '^C\\+\\+ \\(IDE\\)$');
  assert.ok(close(Number(s['app:C++ (IDE)'].catch), 1200), s['app:C++ (IDE)'].catch);
  assert.ok(close(Number(s['app:C++ IDE'].catch), 90));

  // words across apps, not words that only repeat one app's name or its own titles
  assert.ok(close(s['word:budget'].seconds, 840));
  assert.equal(s['word:budget'].regex, '\\bbudget\\b');
  assert.ok(close(Number(s['word:budget'].catch), await windowSeconds('\\bbudget\\b', 'title', true)));
  assert.ok(close(s['word:github'].seconds, 900));
  for (const w of ['word:mozilla', 'word:firefox', 'word:main', 'word:bash', 'word:notes', 'word:writer']) assert.ok(!ids.includes(w), `${w} suggested`);

  // domains with their browser time; the rule looks for the site in window titles
  assert.ok(close(s['domain:github.com'].seconds, 900));
  assert.equal(s['domain:github.com'].regex, 'github');
  assert.ok(close(Number(s['domain:github.com'].catch), 900));
  assert.ok(close(s['domain:news.ycombinator.com'].seconds, 300));
  // "ycombinator" is not in the titles; a word they all carry is
  assert.match(s['domain:news.ycombinator.com'].regex, /^\\b(hacker|news)\\b$/);
  assert.ok(close(Number(s['domain:news.ycombinator.com'].catch), 300));

  // the preview starts with nothing changed
  await page.waitForSelector('[data-testid=cz-preview-body][data-state=ready]');
  assert.equal(Number(await page.getAttribute('[data-testid=cz-uncat-after]', 'data-seconds')), UNCAT);
  assert.equal(await page.isDisabled('[data-testid=cz-save]'), true);

  // accept the C++ app into a new subcategory, by keyboard: Enter in the category field
  const cat = `${row('app:C++ (IDE)')} [data-field=category]`;
  await page.fill(cat, 'Work > IDE');
  assert.match(await page.textContent(`${row('app:C++ (IDE)')} .cz-new`), /new category/);
  await page.focus(cat);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'accept', 'Tab from the category reaches Accept');
  await page.focus(cat);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${row('app:C++ (IDE)')}[data-status=accepted]`);
  const focused = () => page.evaluate(() => [document.activeElement?.closest('[data-suggestion]')?.dataset.suggestion, document.activeElement?.dataset.action]);
  assert.deepEqual(await focused(), ['app:C++ (IDE)', 'undo'], 'the focus stays on the accepted row');

  // edit the GitHub rule: case-sensitive "GitHub", into an existing category
  const gh = row('domain:github.com');
  await page.click(`${gh} [data-action=edit]`);
  // the row moves the focus from an effect once it has re-rendered as an editor, which
  // can come a frame after the click returns
  await page.waitForFunction(() => document.activeElement?.dataset.field === 'regex', null, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.field), 'regex', 'editing focuses the pattern');
  await page.fill(`${gh} [data-field=regex]`, '(');
  assert.equal(await page.isDisabled(`${gh} [data-action=accept]`), true, 'a broken pattern cannot be accepted');
  await page.fill(`${gh} [data-field=regex]`, 'GitHub');
  await page.uncheck(`${gh} [data-field=ignore-case]`);
  await page.fill(`${gh} [data-field=category]`, 'Work > Programming');
  assert.match(await page.textContent(`${gh} .cz-new`), /adds to this category/);
  await eventually(async () => assert.ok(close(Number((await readSuggestions(page))['domain:github.com'].catch), await windowSeconds('GitHub', 'title'))));
  await page.click(`${gh} [data-action=accept]`);

  // skip a word
  await page.focus(`${row('word:budget')} [data-action=skip]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${row('word:budget')}[data-status=skipped]`);
  assert.deepEqual(await focused(), ['word:budget', 'undo']);
  assert.equal(await page.getAttribute(row('word:budget'), 'data-status'), 'skipped');

  // the preview: what is left uncategorised, computed here from the inserted events, and
  // asked of the node with the rules the page is about to save
  const expectClasses = [
    CLASSES[0],
    { ...CLASSES[1], rule: { type: 'regex', regex: 'vim|GitHub' } },
    CLASSES[2],
    { id: 4, name: ['Work', 'IDE'], rule: { type: 'regex', regex: '^C\\+\\+ \\(IDE\\)$' } },
  ];
  const remaining = UNCAT - 1200 - 900;
  assert.equal(await uncategorised(expectClasses), remaining);
  await eventually(async () => {
    assert.equal(await page.getAttribute('[data-testid=cz-preview-body]', 'data-state'), 'ready');
    assert.ok(close(Number(await page.getAttribute('[data-testid=cz-uncat-after]', 'data-seconds')), remaining));
  });
  assert.ok(close(Number(await page.getAttribute('[data-testid=cz-uncat-before]', 'data-seconds')), UNCAT));
  const prev = await page.$$eval('.cz-table tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.category, [Number(tr.dataset.before), Number(tr.dataset.after)]])));
  assert.deepEqual(prev['Work > IDE'], [0, 1200]);
  assert.deepEqual(prev['Work > Programming'], [0, 900]);
  assert.deepEqual(prev['Work'], [600, 600]);

  // phone and desktop widths
  await page.screenshot({ path: screenshotPath('builder-1440'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `page is ${width}px wide at 390`);
  // the preview is far below the list here; its gist and Save stay in view
  assert.equal(await page.isVisible('[data-testid=cz-bar-save]'), true);
  assert.match(await page.textContent('[data-testid=cz-bar]'), new RegExp(`→ ${Math.floor(remaining / 60)}m`));
  await page.screenshot({ path: screenshotPath('builder-390'), fullPage: true });
  await page.setViewportSize({ width: 1440, height: 1000 });

  // save: the new rules added, the others as they were
  assert.equal(await page.textContent('[data-testid=cz-save]'), 'Save 2 rules');
  await page.click('[data-testid=cz-save]');
  await eventually(async () => assert.deepEqual(await node.api('GET', '/settings/classes'), expectClasses));
  // the page starts over with the saved rules: the accepted apps are no longer suggested
  await eventually(async () => {
    const after = await readSuggestions(page);
    assert.ok(!('app:C++ (IDE)' in after) && 'app:C++ IDE' in after, Object.keys(after).join(', '));
    const u = Number(await page.getAttribute('[data-testid=cz-summary]', 'data-uncategorized'));
    assert.ok(close(u, remaining), String(u));
  });
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('a preset adds only the categories one does not have', async () => {
  const before = await node.api('GET', '/settings/classes');
  assert.ok(before.some((c) => c.name.join('>') === 'Comms'), 'the builder test left Comms in place');
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/settings/categories`);
  await page.waitForSelector('[data-testid=category-list] [data-category="Work > IDE"]');
  await page.selectOption('[data-testid=category-preset]', 'communication');
  await page.waitForSelector('[data-testid=category-list] [data-category="Comms > Meetings"]');
  // unsaved edits are not thrown away by going to the builder
  await page.click('[data-testid=build-categories]');
  await page.waitForSelector('.toast >> text=Save or discard your changes first');
  assert.equal(await page.evaluate(() => location.hash), '#/settings/categories');
  await page.click('[data-testid=save-categories]');
  await eventually(async () => {
    const now = await node.api('GET', '/settings/classes');
    assert.deepEqual(now.slice(0, before.length), before, 'the categories one had are unchanged');
    assert.deepEqual(now.slice(before.length).map((c) => c.name.join(' > ')), ['Comms > Meetings', 'Comms > IM', 'Comms > Email']);
    assert.ok(now.slice(before.length).every((c) => c.rule.type === 'regex' && c.rule.regex));
  });
  // a second time adds nothing
  await page.selectOption('[data-testid=category-preset]', 'communication');
  await page.waitForSelector('.toast >> text=already have every category');
  assert.equal(await page.getAttribute('.savebar', 'data-dirty'), '0');
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});
