// The Search page against a real node: what it finds, grouped and summed, is compared with
// the same search done here over every event the node sends (GET …/events). Run with
// tests/ui/run.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const REMOTE = 'work-laptop';
// the generated data covers 2025-01-06 .. 2025-02-04 (UTC); the editor events below too
const EDITOR_DAY = '2025-02-03';
let node, ctx, LOCAL;

// a bad regex is answered 400 by the query API: the one request it takes is expected
const allowBadRegex = (url, status) => /\/api\/0\/query\//.test(url) && (status === undefined || status === 400);

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname;
  await node.seed(LOCAL, 30, 1);
  await node.seed(REMOTE, 30, 2);
  // an editor on this device: files of two projects, one of them named like the search
  const ed = `aw-watcher-vscode_${LOCAL}`;
  await node.api('POST', `/buckets/${ed}`, { type: 'app.editor.activity', client: 'aw-watcher-vscode', hostname: LOCAL });
  const files = [
    ['storage/reader.c', 'awnode', 'c', 600], ['storage/writer.c', 'awnode', 'c', 420], ['README.md', 'storage-notes', 'markdown', 300],
    ['src/main.rs', 'other', 'rust', 900], ['storage/reader.c', 'awnode', 'c', 120],
  ];
  let t = Date.parse(`${EDITOR_DAY}T09:00:00Z`);
  const events = files.map(([file, project, language, duration]) => {
    const e = { timestamp: new Date(t).toISOString(), duration, data: { file, project, language } };
    t += (duration + 60) * 1000;
    return e;
  });
  await node.api('POST', `/buckets/${ed}/events`, events);
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

// ---- the same search, done here from the node's events -------------------------------

const KIND = { currentwindow: 'window', 'web.tab.current': 'browser', 'app.editor.activity': 'editor' };
const domainOf = (url) => {
  try {
    return new URL(url).hostname.replace(/^www\./, '') || '(no domain)';
  } catch {
    return '(no domain)';
  }
};
/** Where an event goes (group) and what it is (match), and the keys searched. */
const PLACE = {
  window: (d) => ({ group: d.app, match: d.title, keys: [d.app, d.title] }),
  browser: (d) => ({ group: domainOf(d.url), match: d.url, keys: [d.url, d.title] }),
  editor: (d) => ({ group: d.project, match: d.file, keys: [d.file, d.project] }),
};

let allEvents = null;
/** Every event of every window, browser and editor bucket, with its bucket. */
async function eventsByBucket() {
  if (allEvents) return allEvents;
  const buckets = Object.values(await node.api('GET', '/buckets/')).filter((b) => KIND[b.type]);
  allEvents = await Promise.all(buckets.map(async (b) => ({ bucket: b, events: await node.api('GET', `/buckets/${encodeURIComponent(b.id)}/events`) })));
  return allEvents;
}

/** Groups `kind|group` → {seconds, count (distinct matches), matches: match → newest event}. */
async function expected(re, hostname = null) {
  const out = new Map();
  for (const { bucket, events } of await eventsByBucket()) {
    if (hostname && bucket.hostname !== hostname) continue;
    const kind = KIND[bucket.type];
    for (const e of events) {
      const p = PLACE[kind](e.data);
      if (!p.keys.some((k) => typeof k === 'string' && re.test(k))) continue;
      const key = `${kind}|${p.group}`;
      let g = out.get(key);
      if (!g) out.set(key, (g = { seconds: 0, matches: new Map() }));
      g.seconds += e.duration;
      const prev = g.matches.get(p.match);
      if (!prev || e.timestamp > prev.timestamp) g.matches.set(p.match, e);
    }
  }
  return out;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- the page ---------------------------------------------------------------------------

/** Waits until the search for `q` (the box's text when not given) has read its whole range. */
async function searchDone(page, q) {
  const want = q ?? (await page.inputValue('[data-testid=search-input]'));
  await page.waitForFunction((w) => {
    const el = document.querySelector('[data-testid=search-status]');
    return el?.dataset.state === 'done' && el.dataset.q === w;
  }, want, { timeout: 60_000 });
}

/** The groups the page shows: `kind|name` → {seconds, count}. */
async function shownGroups(page) {
  const rows = await page.$$eval('[data-testid=search-group]', (els) =>
    els.map((el) => ({ key: `${el.dataset.kind}|${el.dataset.name}`, seconds: Number(el.dataset.seconds), count: Number(el.dataset.count) })));
  return new Map(rows.map((r) => [r.key, r]));
}

function assertSameGroups(shown, exp, what) {
  assert.ok(exp.size > 0, `${what}: the reference search must find something`);
  assert.deepEqual([...shown.keys()].sort(), [...exp.keys()].sort(), `${what}: the same groups`);
  for (const [k, e] of exp) {
    const s = shown.get(k);
    assert.ok(Math.abs(s.seconds - e.seconds) < 0.01, `${what}: ${k} total ${s.seconds} s, expected ${e.seconds} s`);
    assert.equal(s.count, e.matches.size, `${what}: ${k} count`);
  }
}

async function typeSearch(page, text) {
  await page.fill('[data-testid=search-input]', '');
  await page.type('[data-testid=search-input]', text, { delay: 15 });
}

/** The logical day (start of day 04:00, local time) of a moment, as the UI names days. */
function logicalDay(iso) {
  const d = new Date(Date.parse(iso) - 4 * 3600_000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

describe('Search', () => {
  test('the Search page is reachable from the navigation', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/#/activity`);
    await page.click('[data-nav=search]');
    await page.waitForSelector('[data-testid=search-page] h1');
    assert.equal(await page.textContent('[data-testid=search-page] h1'), 'Search');
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('plain text: every group and its total and count match the events, the address keeps the search, a match opens its moment in the Timeline', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/#/search`);
    await page.waitForSelector('[data-testid=search-input]');
    // what the status line says while the search runs
    await page.evaluate(() => {
      window.states = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=search-status]');
        const s = el && `${el.dataset.state} ${el.dataset.reached}`;
        if (s && s !== window.states.at(-1)) window.states.push(s);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    // upper case: plain text ignores case
    await typeSearch(page, 'STORAGE');
    await searchDone(page);
    // newest stretch first, then older ones, each shown as it comes
    const states = await page.evaluate(() => window.states);
    const running = states.filter((s) => s.startsWith('running ')).map((s) => Date.parse(s.split(' ')[1]));
    assert.ok(running.length >= 2, `the search shows its progress: ${states.join(', ')}`);
    for (let i = 1; i < running.length; i++) assert.ok(running[i] < running[i - 1], `it goes back in time: ${states.join(', ')}`);
    assert.match(states.at(-1), /^done /);
    const exp = await expected(/storage/i);
    const shown = await shownGroups(page);
    assertSameGroups(shown, exp, 'STORAGE');
    assert.ok([...exp.keys()].some((k) => k.startsWith('editor|')), 'the editor project is found');
    assert.ok([...exp.keys()].some((k) => k.startsWith('browser|')), 'browser domains are found');
    assert.ok([...exp.keys()].some((k) => k.startsWith('window|')), 'apps are found');
    assert.match(await page.evaluate(() => location.hash), /^#\/search\?q=STORAGE$/);

    // the address restores the search
    await page.reload();
    await searchDone(page, 'STORAGE');
    assert.equal(await page.inputValue('[data-testid=search-input]'), 'STORAGE');
    assert.deepEqual(await shownGroups(page), shown);

    // a group opens to its matches, each with its time; together they make the group's total
    const [topKey, top] = [...exp].sort((a, b) => b[1].seconds - a[1].seconds)[0];
    const [kind, name] = topKey.split('|');
    const group = page.locator(`[data-testid=search-group][data-kind="${kind}"][data-name="${name}"]`);
    await group.locator('button.sr-head').focus();
    await page.keyboard.press('Enter');
    assert.equal(await group.locator('button.sr-head').getAttribute('aria-expanded'), 'true');
    const matches = await group.locator('[data-testid=search-match]').evaluateAll((els) =>
      els.map((el) => ({ seconds: Number(el.dataset.seconds), last: el.dataset.last, href: el.querySelector('a').getAttribute('href'), label: el.querySelector('.sr-label').textContent })));
    assert.equal(matches.length, Math.min(50, top.matches.size));
    for (let i = 1; i < matches.length; i++) assert.ok(matches[i - 1].seconds >= matches[i].seconds, 'longest first');

    // the first match: its newest occurrence, on its day in the Timeline, zoomed to it
    const m = matches[0];
    const newest = top.matches.get(m.label);
    assert.ok(newest, `${m.label} is one of the group's matches`);
    const t0 = Date.parse(newest.timestamp), t = Date.parse(m.last);
    assert.ok(t >= t0 && t <= t0 + newest.duration * 1000, `the link is at the newest occurrence (${m.last} vs ${newest.timestamp})`);
    const day = logicalDay(m.last);
    assert.match(m.href, new RegExp(`^#/timeline/${day}/1/\\d\\d:\\d\\d$`));
    await group.locator('[data-testid=search-match] a').first().click();
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]', { timeout: 30_000 });
    assert.equal(await page.inputValue('[data-testid=timeline-page] input[type=date]'), day);
    const zoom = await page.$eval('[data-testid=timeline-chart]', (el) => {
      const dz = el.awChart.getOption().dataZoom[0];
      return [dz.startValue, dz.endValue];
    });
    const minute = Math.floor(t / 60_000) * 60_000;
    assert.ok(zoom[0] <= minute && minute <= zoom[1] && zoom[1] - zoom[0] <= 3600_000, `the Timeline is zoomed around the match: ${zoom} vs ${minute}`);

    // back: the search is still there
    await page.goBack();
    await searchDone(page);
    assert.equal(await page.inputValue('[data-testid=search-input]'), 'STORAGE');

    // text that is not a regex, and a trailing backslash (the query lexer's quote escape)
    for (const text of ['Inbox (1', 'C:\\']) {
      await typeSearch(page, text);
      await page.waitForFunction((q) => new URLSearchParams(location.hash.split('?')[1]).get('q') === q, text);
      const e = await expected(new RegExp(escapeRe(text), 'i'));
      if (e.size) {
        await searchDone(page);
        assertSameGroups(await shownGroups(page), e, text);
      } else {
        await page.waitForSelector('[data-testid=search-nothing]');
        assert.equal(await page.$('[data-testid=search-error]'), null);
      }
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('a regex, a device, a range: the same as the events say', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/#/search`);
    await page.waitForSelector('[data-testid=search-input]');
    await page.check('[data-testid=search-regex]');
    const pattern = '^(GitHub|Slack) .*(alpha|sync)';
    await typeSearch(page, pattern);
    await searchDone(page);
    assertSameGroups(await shownGroups(page), await expected(new RegExp(pattern, 'i')), 'regex');
    assert.equal(new URLSearchParams((await page.evaluate(() => location.hash)).split('?')[1]).get('re'), '1');

    // one device: only its buckets
    await page.selectOption('[data-testid=search-device]', REMOTE);
    await page.waitForFunction((d) => location.hash.includes('device=' + d), REMOTE);
    await searchDone(page);
    const remote = await expected(new RegExp(pattern, 'i'), REMOTE);
    assertSameGroups(await shownGroups(page), remote, `regex on ${REMOTE}`);
    const both = await expected(new RegExp(pattern, 'i'));
    const [k] = [...remote.keys()];
    assert.ok(both.get(k).seconds > remote.get(k).seconds + 1, 'the device filter leaves the other device out');

    // a range of dates: events cut at its bounds, as the node cuts them
    await page.click('[data-testid=search-range] button[data-value=custom]');
    await page.fill('[data-testid=search-from]', '2025-01-20');
    await page.fill('[data-testid=search-to]', '2025-01-26');
    await page.waitForFunction(() => location.hash.includes('to=2025-01-26'));
    await searchDone(page);
    // the same bounds as the page's (local days from 04:00), summed by the node here
    const start = new Date(2025, 0, 20, 4).toISOString(), end = new Date(2025, 0, 27, 4).toISOString();
    const [r] = await node.query([`${start}/${end}`], [
      `w = query_bucket("aw-watcher-window_${REMOTE}");`,
      `w = filter_keyvals(categorize(w, [[["m"], {"type": "regex", "regex": "${pattern}", "ignore_case": true, "select_keys": ["app", "title"]}]]), "$category", [["m"]]);`,
      'RETURN = merge_events_by_keys(w, ["app"]);',
    ]);
    const shown = await shownGroups(page);
    assert.ok(r.length > 0);
    for (const e of r) {
      const s = shown.get(`window|${e.data.app}`);
      assert.ok(s && Math.abs(s.seconds - e.duration) < 0.01, `${e.data.app}: ${s?.seconds} vs ${e.duration}`);
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('an invalid regex: one request, an inline message, no results', async () => {
    const page = await ctx.newPage();
    const problems = watch(page, allowBadRegex);
    const queries = [];
    page.on('request', (r) => r.url().includes('/api/0/query/') && queries.push(r.postDataJSON()));
    await page.goto(`${node.url}/#/search?re=1`);
    await page.waitForSelector('[data-testid=search-input]');
    await typeSearch(page, '(alpha|beta');
    await page.waitForSelector('[data-testid=search-error]');
    assert.match(await page.textContent('[data-testid=search-error]'), /Invalid regular expression: missing closing parenthesis/);
    assert.equal(await page.getAttribute('[data-testid=search-input]', 'aria-invalid'), 'true');
    await page.waitForTimeout(800);
    assert.equal(queries.length, 1, 'typing sends one search, and an error stops it');
    assert.equal(await page.$$eval('[data-testid=search-group]', (els) => els.length), 0);
    // fixed: the message goes, results come
    await page.type('[data-testid=search-input]', ')');
    await searchDone(page);
    assert.equal(await page.$('[data-testid=search-error]'), null);
    assertSameGroups(await shownGroups(page), await expected(/(alpha|beta)/i), 'fixed regex');
    await page.close();
    assert.deepEqual(problems.filter((p) => !/HTTP 400|status of 400/.test(p)), [], problems.join('\n'));
  });

  test('at 390 px and 1440 px, light and dark', async () => {
    const watched = [];
    for (const theme of ['light', 'dark']) {
      await node.api('POST', '/settings/theme', JSON.stringify(theme));
      for (const width of [1440, 390]) {
        const page = await ctx.newPage();
        watched.push(watch(page));
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${node.url}/#/search?q=github`);
        await searchDone(page, 'github');
        await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
        await page.click('[data-testid=search-section-browser] [data-testid=search-group] button.sr-head');
        await page.waitForSelector('[data-testid=search-match]');
        // nothing wider than the window
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${width} px ${theme}: the page is ${overflow} px wider than the window`);
        await page.screenshot({ path: screenshotPath(`30-search-${width}-${theme}`), fullPage: true });
        await page.close();
      }
    }
    await node.api('POST', '/settings/theme', JSON.stringify('light'));
    const problems = watched.flat();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
