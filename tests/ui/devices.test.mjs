// Browser tests of the Activity page's "All devices" view: two devices whose activity
// overlaps (this node's host and a second host, buckets and events created through the
// API). What the page shows is compared with an interval computation done here, from the
// events this test inserted, independently of the query language.
// Run with tests/ui/run.sh (env AWNODE_BIN, default build/bin/awnode).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const SECOND = 'second-host';
const DAY = [2025, 3, 12]; // local calendar day of the Activity day view
const YMD = '2025-03-12';
const MIN = 60_000;
const base = new Date(DAY[0], DAY[1] - 1, DAY[2], 8, 0).getTime(); // local 08:00 that day
const at = (m) => base + m * MIN;
// the UI's day: local start of day (04:00) to the next
const P0 = new Date(DAY[0], DAY[1] - 1, DAY[2], 4, 0).getTime();
const P1 = new Date(DAY[0], DAY[1] - 1, DAY[2] + 1, 4, 0).getTime();

let node, ctx, LOCAL, HOSTS;

// ---- the activity each device recorded (minutes after 08:00 local) ----
// [from, to, data] runs; consecutive runs never share data, so flooding changes nothing.
const afkRuns = (spans) => spans.map(([a, b, s]) => [a, b, { status: s }]);
function windowRuns(cuts, apps, tag, gaps = []) {
  const out = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    if (gaps.includes(k)) continue;
    const app = apps[k % apps.length];
    out.push([cuts[k], cuts[k + 1], { app, title: `${app} — ${tag} ${k}` }]);
  }
  return out;
}
function device(host) {
  if (host !== SECOND) {
    return {
      afk: afkRuns([[0, 150, 'not-afk'], [150, 180, 'afk'], [180, 330, 'not-afk'], [330, 480, 'afk']]),
      window: windowRuns([0, 17, 40, 58, 75, 101, 130, 162, 185, 214, 240, 271, 300, 318, 345], ['Code', 'Firefox', 'Alacritty', 'Firefox'], 'local'),
      web: Array.from({ length: 14 }, (_, k) => [k * 25, k * 25 + 25, { url: `https://site${k % 4}.example.org/page/${k}`, title: `Page ${k}`, audible: false, incognito: false }]),
      editor: [[0, 100, { file: '/src/alpha/main.c', project: 'alpha', language: 'c' }], [100, 345, { file: '/src/beta/lib.rs', project: 'beta', language: 'rust' }]],
    };
  }
  return {
    afk: afkRuns([[0, 60, 'afk'], [60, 200, 'not-afk'], [200, 300, 'afk'], [300, 420, 'not-afk'], [420, 480, 'afk']]),
    // a window-less gap at 120..130 (index 3) while not AFK; a window switch at 300, when the
    // local device also switches (a tie)
    window: windowRuns([50, 77, 95, 120, 130, 152, 181, 222, 260, 300, 333, 390, 430], ['Slack', 'Code', 'Firefox'], 'second', [3]),
    web: [],
    editor: [[60, 420, { file: '/work/gamma/notes.md', project: 'gamma', language: 'markdown' }]],
  };
}

const ids = (host) => ({
  window: `aw-watcher-window_${host}`, afk: `aw-watcher-afk_${host}`,
  web: `aw-watcher-web-firefox_${host}`, editor: `aw-watcher-vscode_${host}`,
});
const TYPES = { window: 'currentwindow', afk: 'afkstatus', web: 'web.tab.current', editor: 'app.editor.activity' };

async function insert(host) {
  const d = device(host);
  for (const [k, id] of Object.entries(ids(host))) {
    if (!d[k].length) continue;
    await node.api('POST', `/buckets/${id}`, { client: 'ui-test', type: TYPES[k], hostname: host });
    await node.api('POST', `/buckets/${id}/events`, d[k].map(([a, b, data]) => ({ timestamp: new Date(at(a)).toISOString(), duration: (b - a) * 60, data })));
  }
}

// ---- intervals: [start ms, end ms] ----
const toIv = (runs) => runs.map(([a, b]) => [at(a), at(b)]);
function union(ivs) {
  const s = ivs.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [a, b] of s) {
    if (out.length && a <= out[out.length - 1][1]) out[out.length - 1][1] = Math.max(out[out.length - 1][1], b);
    else out.push([a, b]);
  }
  return out;
}
function intersect(A, B) {
  const out = [];
  for (const [a, b] of union(A)) for (const [c, d] of union(B)) if (Math.min(b, d) > Math.max(a, c)) out.push([Math.max(a, c), Math.min(b, d)]);
  return union(out);
}
const seconds = (ivs) => union(ivs).reduce((s, [a, b]) => s + (b - a), 0) / 1000;
const clip = (ivs, t0, t1) => intersect(ivs, [[t0, t1]]);

/** Each device's active pieces: its window events cut to its not-AFK time (and the day),
 * each with the moment it began. */
function pieces(host) {
  const d = device(host);
  const notAfk = union(toIv(d.afk.filter(([, , x]) => x.status === 'not-afk')));
  const out = [];
  for (const [a, b] of toIv(d.window)) for (const [s, e] of clip(intersect([[a, b]], notAfk), P0, P1)) out.push([s, e]);
  return out;
}

/** The documented rule, written out directly: each moment where devices overlap goes to the
 * device whose current activity began most recently; ties to the earlier device in host
 * order. Returns host -> intervals attributed to it. */
function attribute(hosts) {
  const ps = hosts.flatMap((h, di) => pieces(h).map(([s, e]) => ({ s, e, di })));
  const cuts = [...new Set(ps.flatMap((p) => [p.s, p.e]))].sort((a, b) => a - b);
  const mine = Object.fromEntries(hosts.map((h) => [h, []]));
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [x, y] = [cuts[k], cuts[k + 1]];
    const on = ps.filter((p) => p.s <= x && p.e >= y);
    if (!on.length) continue;
    on.sort((p, q) => q.s - p.s || p.di - q.di);
    mine[hosts[on[0].di]].push([x, y]);
  }
  for (const h of hosts) mine[h] = union(mine[h]);
  return mine;
}

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname;
  assert.notEqual(LOCAL, SECOND);
  HOSTS = [LOCAL, SECOND].sort(); // the UI's device order (activityHosts)
  await insert(LOCAL);
  await insert(SECOND);
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

async function openDay(page, host) {
  await page.goto(`${node.url}/#/activity/${encodeURIComponent(host)}/day/${YMD}`);
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
}

const num = (page, sel) => page.getAttribute(sel, 'data-seconds').then(Number);

/** The bar chart as drawn: y axis max and each series' values (minutes per hour). */
const barChart = (page) => page.$eval('[data-testid=bar-chart]', (el) => {
  const o = el.awChart.getOption();
  return { max: o.yAxis[0].max, labels: o.xAxis[0].data, series: o.series.map((s) => ({ name: s.name, data: s.data })) };
});
const hourTotals = (chart) => chart.labels.map((_, i) => chart.series.reduce((s, x) => s + (x.data[i] || 0), 0));
const HOURS = Array.from({ length: 24 }, (_, k) => [P0 + k * 3600_000, P0 + (k + 1) * 3600_000]);

describe('Activity: all devices', () => {
  test('the data really overlaps (else the tests below prove nothing)', () => {
    const [a, b] = HOSTS.map((h) => seconds(pieces(h)));
    const both = seconds(HOSTS.flatMap(pieces));
    assert.ok(a + b - both >= 3600, `overlap ${a + b - both} s`);
  });

  test('the total counts each moment once: the union of every device\'s active window time', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await openDay(page, 'all');
    const expected = seconds(HOSTS.flatMap(pieces));
    const total = await num(page, '[data-testid=total-active] .stat-value');
    assert.ok(Math.abs(total - expected) < 1, `total ${total} s, union of active time ${expected} s`);
    // every application's time adds up to it too
    const apps = await page.$$eval('[data-testid=top-apps-list] .tl-dur', (xs) => xs.map((x) => Number(x.dataset.seconds)));
    assert.ok(Math.abs(apps.reduce((s, x) => s + x, 0) - expected) < 1, `apps ${apps}`);
    await page.waitForTimeout(1000); // chart animation
    await page.screenshot({ path: screenshotPath('20-activity-all-devices-day'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('overlapping time goes to the device whose activity began most recently, and the devices add up to the total', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await openDay(page, 'all');
    await page.waitForSelector('[data-testid=per-device] .tl-row');
    const total = await num(page, '[data-testid=total-active] .stat-value');
    const rows = await page.$$eval('[data-testid=per-device] .tl-row', (rs) =>
      rs.map((r) => [r.querySelector('.tl-label').textContent, Number(r.querySelector('.tl-dur').dataset.seconds)]));
    const shown = Object.fromEntries(rows);
    assert.deepEqual(Object.keys(shown).sort(), HOSTS);
    const mine = attribute(HOSTS);
    for (const h of HOSTS) assert.ok(Math.abs(shown[h] - seconds(mine[h])) < 1, `${h}: shown ${shown[h]} s, expected ${seconds(mine[h])} s`);
    const sum = rows.reduce((s, [, v]) => s + v, 0);
    assert.ok(Math.abs(sum - total) < 1, `devices add up to ${sum} s, total ${total} s`);

    // browser and editor time as on one device: the browser's (and editor's) events inside
    // that device's own active time, and only in the moments attributed to it
    const browserExp = HOSTS.reduce((s, h) => {
      const d = device(h);
      const ff = toIv(d.window.filter(([, , x]) => x.app === 'Firefox'));
      return s + seconds(intersect(intersect(toIv(d.web), ff), mine[h]));
    }, 0);
    const browsing = await num(page, '[data-testid=browsing] .stat-value');
    assert.ok(Math.abs(browsing - browserExp) < 1, `browsing ${browsing} s, expected ${browserExp} s`);
    const projects = Object.fromEntries(await page.$$eval('[data-testid=editor-projects] .tl-row', (rs) =>
      rs.map((r) => [r.querySelector('.tl-label').textContent, Number(r.querySelector('.tl-dur').dataset.seconds)])));
    const projExp = {};
    for (const h of HOSTS) {
      for (const [a, b, x] of device(h).editor) projExp[x.project] = (projExp[x.project] || 0) + seconds(intersect(toIv([[a, b]]), mine[h]));
    }
    assert.deepEqual(Object.keys(projects).sort(), Object.keys(projExp).sort());
    for (const p of Object.keys(projExp)) assert.ok(Math.abs(projects[p] - projExp[p]) < 1, `${p}: ${projects[p]} vs ${projExp[p]}`);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('no hour shows more than 60 minutes, and the axis never cuts a bar off', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await openDay(page, 'all');
    const chart = await barChart(page);
    const all = HOSTS.flatMap(pieces);
    const got = hourTotals(chart);
    assert.equal(got.length, 24);
    got.forEach((m, k) => {
      const exp = seconds(clip(all, ...HOURS[k])) / 60;
      assert.ok(m <= 60.01, // bars are rounded to 0.001 min per series
        `${chart.labels[k]}: ${m} min`);
      assert.ok(Math.abs(m - exp) < 0.01, `${chart.labels[k]}: ${m} min shown, ${exp} min active`);
    });
    assert.ok(got.some((m) => m > 59.9), 'some hour is fully active');
    assert.ok(chart.max >= Math.max(...got) - 0.01, `axis max ${chart.max}`);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('bars stacked by device: each hour split as the devices card splits the day', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await openDay(page, 'all');
    const byCat = hourTotals(await barChart(page));
    await page.click('[data-testid=bar-mode] button[data-value=device]');
    await page.waitForFunction((hosts) => {
      const o = document.querySelector('[data-testid=bar-chart]')?.awChart?.getOption();
      return o && o.series.map((s) => s.name).sort().join('|') === hosts.join('|');
    }, HOSTS);
    const chart = await barChart(page);
    const mine = attribute(HOSTS);
    for (const s of chart.series) {
      s.data.forEach((m, k) => {
        const exp = seconds(clip(mine[s.name], ...HOURS[k])) / 60;
        assert.ok(Math.abs(m - exp) < 0.01, `${s.name} ${chart.labels[k]}: ${m} min shown, ${exp} expected`);
      });
    }
    hourTotals(chart).forEach((m, k) => assert.ok(Math.abs(m - byCat[k]) < 0.01, `${chart.labels[k]}: by device ${m}, by category ${byCat[k]}`));
    assert.ok(chart.series.every((s) => s.data.some((m) => m > 0)), 'both devices have bars');
    await page.waitForTimeout(1000); // chart animation
    await page.screenshot({ path: screenshotPath('21-activity-all-devices-by-device'), fullPage: true });

    // the week view: a bar per day, each day split by device as that day's own view splits it
    await page.goto(`${node.url}/#/activity/all/week/${YMD}`);
    await page.waitForSelector('[data-testid=bar-mode]', { timeout: 30_000 });
    await page.click('[data-testid=bar-mode] button[data-value=device]');
    await page.waitForFunction((hosts) => {
      const o = document.querySelector('[data-testid=bar-chart]')?.awChart?.getOption();
      return o && o.xAxis[0].data.length === 7 && o.series.map((s) => s.name).sort().join('|') === hosts.join('|');
    }, HOSTS, { timeout: 30_000 });
    const week = await barChart(page);
    const wed = 2; // 2025-03-12 is the Wednesday of a week starting on Monday
    for (const s of week.series) {
      s.data.forEach((h, k) => {
        const exp = k === wed ? seconds(mine[s.name]) / 3600 : 0;
        assert.ok(Math.abs(h - exp) < 0.001, `${s.name} ${week.labels[k]}: ${h} h shown, ${exp} h expected`);
      });
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the Timeline shows which device was in use when', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/#/timeline/${YMD}/1`);
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=timeline-chart]')?.awChart?.getOption().yAxis[0].data[0] === 'device in use',
      null, { timeout: 30_000 });
    const lane = await page.$eval('[data-testid=timeline-chart]', (el) =>
      el.awChart.getOption().series[0].data.filter((it) => it.value[0] === 0).map((it) => [it.name, it.value[1], it.value[2]]));
    const mine = attribute(HOSTS);
    for (const h of HOSTS) {
      const got = union(lane.filter(([n]) => n === h).map(([, a, b]) => [a, b]));
      assert.deepEqual(got, mine[h], `${h}'s stretches in the device lane`);
    }
    assert.equal(lane.filter(([n]) => !HOSTS.includes(n)).length, 0);
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshotPath('22-timeline-device-in-use'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('one device alone still shows its own whole active time', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    for (const h of HOSTS) {
      await openDay(page, h);
      await page.waitForFunction((h) => document.querySelector('[data-testid=period-label]')?.textContent.includes(h), h);
      await page.waitForFunction((exp) => Math.abs(Number(document.querySelector('[data-testid=total-active] .stat-value')?.dataset.seconds) - exp) < 1,
        seconds(pieces(h)), { timeout: 30_000 });
      assert.equal(await page.$('[data-testid=bar-mode]'), null, 'no per-device bars for one device');
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
