// Browser tests of awnode's web UI against a real node seeded with two devices.
// Run with tests/ui/run.sh (env AWNODE_BIN, default build/bin/awnode).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const REMOTE = 'work-laptop';
// The generated data covers 2025-01-06 .. 2025-02-04 (UTC).
const DAY = '2025-02-03';
const WEEK = '2025-01-20'; // a Monday
let node, ctx, LOCAL;

const allowSync = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname; // "this device": buckets with the node's own hostname
  await node.seed(LOCAL, 30, 1);
  // The other device's buckets carry what the node's sync records on the buckets it imports
  // (docs/sync.md): the web UI shows a bucket as remote (read-only) by that mark only.
  await node.seed(REMOTE, 30, 2, { '$aw.sync.origin': REMOTE, '$aw.sync.device_id': 'ui-test-device-' + REMOTE });
  const q = await node.query(['2020-01-01T00:00:00Z/2030-01-01T00:00:00Z'], ['return 1;']);
  assert.deepEqual(q, [1], 'the query API must work for the web UI tests');
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

async function open(page, hash) {
  await page.goto(`${node.url}/#${hash}`);
}

async function activityReady(page) {
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
  await page.waitForTimeout(400); // chart animation
}

// --- the reference query: the web UI's Activity summary query (shared/bench/query_bench.py's),
// written out independently in tests/data/activity_summary.json, which test_query.py shares ---
const SUMMARY = JSON.parse(fs.readFileSync(new URL('../data/activity_summary.json', import.meta.url), 'utf8'));

function benchQuery(host) {
  const ids = { window: `aw-watcher-window_${host}`, afk: `aw-watcher-afk_${host}`, web: `aw-watcher-web-firefox_${host}` };
  return SUMMARY.query.map((line) => line.replace(/\{(window|afk|web)\}/g, (_, k) => ids[k])
    .replace('{categories}', JSON.stringify(SUMMARY.categories)));
}

/** The UI's week: local Monday at the start-of-day offset (04:00) to the next. */
function localWeek(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return `${new Date(y, m - 1, d, 4).toISOString()}/${new Date(y, m - 1, d + 7, 4).toISOString()}`;
}

describe('awnode web UI', () => {
  test('every page loads without console errors or failed requests', async () => {
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    const shots = [];
    const shot = async (name) => {
      await page.screenshot({ path: screenshotPath(name), fullPage: true });
      shots.push(name);
    };

    await open(page, `/activity/${LOCAL}/day/${DAY}`);
    await activityReady(page);
    await page.waitForSelector('[data-testid=sunburst][data-ready="1"]');
    await page.waitForTimeout(600);
    await shot('01-activity-day');

    await open(page, `/activity/all/month/${WEEK}`);
    await activityReady(page);
    await page.waitForSelector('[data-testid=per-device]');
    await page.waitForTimeout(600);
    await shot('02-activity-all-devices-month');

    await open(page, `/timeline/${DAY}/1`);
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]', { timeout: 30_000 });
    await page.waitForTimeout(500);
    await shot('03-timeline');

    await open(page, '/buckets');
    await page.waitForFunction(() => {
      const c = [...document.querySelectorAll('[data-testid=count]')];
      return c.length >= 6 && c.every((x) => /\d/.test(x.textContent));
    });
    await shot('04-raw-data');

    await open(page, `/buckets/aw-watcher-window_${LOCAL}`);
    await page.waitForSelector('[data-testid=events-table] tbody tr');
    await page.click('[data-testid=events-table] th[data-sort=duration]');
    await shot('05-bucket');

    await open(page, '/query');
    await page.waitForSelector('[data-testid=query-editor]');
    await page.click('button:has-text("30 days")');
    // the period defaults to recent days; point it at the data
    await page.fill('input[type=datetime-local] >> nth=0', '2025-01-20T00:00');
    await page.fill('input[type=datetime-local] >> nth=1', '2025-01-27T00:00');
    await page.click('[data-testid=run-query]');
    await page.waitForSelector('[data-testid=query-result] [data-testid=result-table]');
    await shot('06-query');

    await open(page, '/settings/general');
    await page.waitForSelector('[data-testid=start-of-day]');
    await shot('07-settings-general');

    await open(page, '/settings/categories');
    await page.click('[data-category="Work > Programming"]');
    await page.waitForSelector('[data-testid=preview-stats]', { timeout: 20_000 });
    await shot('08-settings-categories');

    await open(page, '/settings/privacy');
    await page.click('[data-testid=add-filter]');
    await shot('09-settings-privacy');

    await open(page, '/sync');
    await page.waitForSelector('[data-testid=sync-not-configured], [data-testid=sync-devices]');
    await shot('10-sync');

    await open(page, '/stopwatch');
    await page.waitForSelector('[data-testid=sw-label]');
    await page.waitForTimeout(300);
    await shot('11-stopwatch');

    // dark theme
    await open(page, '/settings/general');
    await page.click('[data-testid=theme-select] button[data-value=dark]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await open(page, `/activity/${LOCAL}/week/${WEEK}`);
    await activityReady(page);
    await page.waitForSelector('[data-testid=sunburst][data-ready="1"]');
    await page.waitForTimeout(600);
    await shot('12-activity-week-dark');
    await open(page, `/timeline/${DAY}/1`);
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]', { timeout: 30_000 });
    await page.waitForTimeout(500);
    await shot('13-timeline-dark');
    await open(page, '/settings/general');
    await page.click('[data-testid=theme-select] button[data-value=light]');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');

    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
    assert.equal(shots.length, 13);
  });

  test('Activity shows the same total, top apps and categories as the query API', async () => {
    const [{ window: ref }] = await node.query([localWeek(WEEK)], benchQuery(LOCAL));
    assert.ok(ref.duration > 3600, 'the reference week has activity');
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/activity/${LOCAL}/week/${WEEK}`);
    await activityReady(page);
    const total = Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
    assert.ok(Math.abs(total - ref.duration) < 1, `total ${total} vs query API ${ref.duration}`);

    const apps = await page.$$eval('[data-testid=top-apps-list] .tl-row', (rows) =>
      rows.map((r) => ({ app: r.querySelector('.tl-label').textContent, s: Number(r.querySelector('.tl-dur').dataset.seconds) })));
    assert.ok(apps.length >= 5);
    assert.deepEqual(apps.map((a) => a.app), ref.app_events.slice(0, apps.length).map((e) => e.data.app));
    apps.forEach((a, i) => assert.ok(Math.abs(a.s - ref.app_events[i].duration) < 1, `${a.app}: ${a.s} vs ${ref.app_events[i].duration}`));

    const titles = await page.$$eval('[data-testid=top-titles] .tl-row .tl-label', (xs) => xs.map((x) => x.textContent));
    assert.deepEqual(titles.slice(0, 10), ref.title_events.slice(0, 10).map((e) => e.data.title));

    // top-level categories: UI tree vs. the API's $category totals
    const refTop = {};
    for (const e of ref.cat_events) refTop[e.data.$category[0]] = (refTop[e.data.$category[0]] || 0) + e.duration;
    const uiTop = await page.$$eval('[data-testid=category-tree] .ct-row', (rows) =>
      rows.filter((r) => !r.dataset.category.includes(' > ')).map((r) => [r.dataset.category, r.querySelector('.ct-dur').textContent]));
    assert.deepEqual(uiTop.map((x) => x[0]).sort(), Object.keys(refTop).sort());
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('All devices on two generated devices: each moment once, devices add up, no hour over 60 minutes', async () => {
    // the reference query per device, for the UI's day (local 04:00 to 04:00)
    const [y, m, d] = DAY.split('-').map(Number);
    const dayPeriod = `${new Date(y, m - 1, d, 4).toISOString()}/${new Date(y, m - 1, d + 1, 4).toISOString()}`;
    const own = [];
    for (const h of [LOCAL, REMOTE]) own.push((await node.query([dayPeriod], benchQuery(h)))[0].window.duration);
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/activity/all/day/${DAY}`);
    await activityReady(page);
    await page.waitForSelector('[data-testid=per-device] .tl-row');
    const total = Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
    // the devices overlap on this day, so the union is shorter than the sum, and at least each one
    assert.ok(total < own[0] + own[1] - 600, `total ${total} s vs devices alone ${own}`);
    assert.ok(total >= Math.max(...own) - 1, `total ${total} s vs devices alone ${own}`);
    const parts = await page.$$eval('[data-testid=per-device] .tl-dur', (xs) => xs.map((x) => Number(x.dataset.seconds)));
    assert.equal(parts.length, 2);
    assert.ok(Math.abs(parts[0] + parts[1] - total) < 1, `devices ${parts} vs total ${total}`);
    const hours = await page.$eval('[data-testid=bar-chart]', (el) => {
      const o = el.awChart.getOption();
      return { max: o.yAxis[0].max, sums: o.xAxis[0].data.map((_, i) => o.series.reduce((s, x) => s + (x.data[i] || 0), 0)) };
    });
    assert.ok(hours.sums.every((v) => v <= 60.01), `hours ${hours.sums}`);
    assert.ok(Math.abs(hours.sums.reduce((a, b) => a + b, 0) * 60 - total) < 60, 'the hours add up to the day');
    assert.ok(hours.max >= Math.max(...hours.sums) - 0.01, `axis max ${hours.max}`); // parts are rounded to 0.001 min
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the category editor changes what Activity shows', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    const catRow = `[data-testid=category-tree] [data-category="UITest Terminal"]`;
    await open(page, `/activity/${LOCAL}/day/${DAY}`);
    await activityReady(page);
    assert.equal(await page.$(catRow), null);
    const uncatBefore = await page.$eval('[data-testid=category-tree] [data-category="Uncategorized"] .ct-dur', (x) => x.textContent);

    await open(page, '/settings/categories');
    await page.click('[data-testid=add-category]');
    await page.fill('[data-testid=cat-name]', 'UITest Terminal');
    await page.press('[data-testid=cat-name]', 'Enter');
    await page.fill('[data-testid=cat-regex]', 'alacritty');
    await page.check('[data-testid=cat-ignore-case]');
    await page.waitForSelector('[data-testid=preview-stats]');
    const preview = await page.textContent('[data-testid=preview-stats]');
    assert.match(preview, /[1-9][\d,]* distinct titles match/, preview);
    await page.click('[data-testid=save-categories]');
    await page.waitForSelector('.toast:has-text("Categories saved")');
    const classes = await node.api('GET', '/settings/classes');
    const mine = classes.find((c) => c.name.join('/') === 'UITest Terminal');
    assert.deepEqual(mine.rule, { type: 'regex', regex: 'alacritty', ignore_case: true });

    await open(page, `/activity/${LOCAL}/day/${DAY}`);
    await activityReady(page);
    await page.waitForSelector(catRow);
    const uncatAfter = await page.$eval('[data-testid=category-tree] [data-category="Uncategorized"] .ct-dur', (x) => x.textContent);
    assert.notEqual(uncatAfter, uncatBefore, 'moving Alacritty time out of Uncategorized changes its total');
    await page.screenshot({ path: screenshotPath('14-activity-after-category-edit'), fullPage: true });
    await page.close();
    await node.api('DELETE', '/settings/classes');
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('an imported export of another host is this device\'s: every bucket offers delete', async () => {
    // work-laptop's buckets came in through POST /api/0/import, so they are this node's
    // (the server says so in /api/0/devices) even though their data carries another
    // device's sync marks; remote buckets of real sync are in identity.test.mjs
    const page = await ctx.newPage();
    const problems = watch(page);
    const devices = await node.api('GET', '/devices');
    assert.equal(devices.devices.length, 1);
    for (const h of [LOCAL, REMOTE]) for (const w of ['window', 'afk']) assert.ok(devices.devices[0].buckets.includes(`aw-watcher-${w}_${h}`));
    await open(page, '/buckets');
    await page.waitForSelector(`tr[data-bucket="aw-watcher-window_${REMOTE}"]`);
    const rows = await page.$$eval('tr[data-bucket]', (trs) => trs.map((t) => ({ id: t.dataset.bucket, remote: t.dataset.remote, del: !!t.querySelector('[data-action=delete]') })));
    const imported = rows.filter((r) => r.id.endsWith('_' + REMOTE));
    const local = rows.filter((r) => r.id.endsWith('_' + LOCAL));
    assert.equal(imported.length, 3);
    assert.equal(local.length, 3);
    for (const r of [...imported, ...local]) assert.deepEqual([r.remote, r.del], ['0', true], r.id);
    assert.equal(await page.$('.badge-remote'), null);

    // The bucket page is a hash route in the same document: wait until the page shows the bucket we asked
    // for (its title and its badge), or the previous page's table would answer for it.
    const bucketShown = (id, badge) => page.waitForFunction(([id, badge]) => {
      const p = document.querySelector('[data-testid=bucket-page]');
      return p && p.querySelector('h1')?.textContent === id && p.querySelector('.badge-' + badge)
        && p.querySelector('[data-testid=events-table] tbody tr');
    }, [id, badge]);
    for (const h of [REMOTE, LOCAL]) {
      await open(page, `/buckets/aw-watcher-afk_${h}`);
      await bucketShown(`aw-watcher-afk_${h}`, 'local');
      assert.ok(await page.$('[data-action=delete]'), h);
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('export, delete and import round-trip through the UI', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, '/buckets');
    await page.waitForSelector(`tr[data-bucket="aw-watcher-afk_${LOCAL}"]`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-all]')]);
    const file = await dl.path();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    const buckets = await node.api('GET', '/buckets/');
    assert.deepEqual(Object.keys(doc.buckets).sort(), Object.keys(buckets).sort());
    for (const id of Object.keys(buckets)) assert.equal(doc.buckets[id].events.length, await node.api('GET', `/buckets/${id}/events/count`), id);

    const victim = `aw-watcher-afk_${LOCAL}`;
    const before = await node.api('GET', `/buckets/${victim}/events`);
    await page.click(`tr[data-bucket="${victim}"] [data-action=delete]`);
    await page.click('[data-testid=confirm-delete]');
    await page.waitForSelector(`tr[data-bucket="${victim}"]`, { state: 'detached' });
    await assert.rejects(node.api('GET', `/buckets/${victim}`), /404/);

    await page.setInputFiles('[data-testid=import-file]', { name: 'aw-buckets-export.json', mimeType: 'application/json', buffer: fs.readFileSync(file) });
    await page.waitForSelector('.toast:has-text("Imported")', { timeout: 60_000 });
    await page.waitForSelector(`tr[data-bucket="${victim}"]`);
    const afterEv = await node.api('GET', `/buckets/${victim}/events`);
    const strip = (es) => es.map((e) => [e.timestamp, e.duration, JSON.stringify(e.data)]);
    assert.deepEqual(strip(afterEv), strip(before));
    for (const id of Object.keys(buckets)) assert.equal(await node.api('GET', `/buckets/${id}/events/count`), doc.buckets[id].events.length, id);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('query explorer shows results and errors with their position', async () => {
    const page = await ctx.newPage();
    const problems = watch(page, (url, status) => /\/api\/0\/query\//.test(url) && (status === undefined || status === 400));
    await open(page, '/query');
    await page.fill('[data-testid=query-editor]', 'x = 1;\ny = query_bucket(;\nRETURN = x;');
    await page.click('[data-testid=run-query]');
    await page.waitForSelector('[data-testid=query-error]');
    const err = await page.textContent('[data-testid=query-error]');
    assert.match(err, /line 2/);
    assert.ok(await page.$('.gutter .err'));
    await page.screenshot({ path: screenshotPath('15-query-error'), fullPage: true });
    await page.fill('[data-testid=query-editor]', 'RETURN = 6 * 7;');
    await page.click('[data-testid=run-query]');
    await page.waitForSelector('[data-testid=query-result]');
    assert.match(await page.textContent('[data-testid=query-result] [data-testid=result-table]'), /42/);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('stopwatch timers are events in aw-stopwatch', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, '/stopwatch');
    await page.fill('[data-testid=sw-label]', 'Writing the report');
    await page.click('[data-testid=sw-start]');
    await page.waitForSelector('[data-testid=sw-running]');
    await page.waitForTimeout(1200);
    await page.click('[data-testid=sw-stop]');
    await page.waitForSelector('[data-testid=sw-running]', { state: 'detached' });
    const ev = await node.api('GET', '/buckets/aw-stopwatch/events');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data.label, 'Writing the report');
    assert.equal(ev[0].data.running, false);
    assert.ok(ev[0].duration >= 1, `duration ${ev[0].duration}`);
    await page.screenshot({ path: screenshotPath('16-stopwatch-history'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('privacy filter rules are stored in privacy_filters', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, '/settings/privacy');
    await page.click('[data-testid=add-filter]');
    const row = '[data-testid=privacy-rules] tbody tr';
    await page.fill(`${row} td:nth-child(4) input`, '(?i)zoom meeting');
    await page.selectOption(`${row} select`, 'redact');
    await page.fill(`${row} td:nth-child(6) input`, 'a meeting');
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid=privacy-rules] tbody tr td:nth-child(7)').textContent));
    await page.click('[data-testid=save-filters]');
    await page.waitForSelector('.toast:has-text("Privacy filters saved")');
    const rules = await node.api('GET', '/settings/privacy_filters');
    assert.deepEqual(rules, [{ enabled: true, bucket_prefix: 'aw-watcher-window', field: 'title', pattern: '(?i)zoom meeting', action: 'redact', replacement: 'a meeting' }]);
    await page.screenshot({ path: screenshotPath('17-settings-privacy-saved'), fullPage: true });
    await page.close();
    await node.api('POST', '/settings/privacy_filters', []);
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
