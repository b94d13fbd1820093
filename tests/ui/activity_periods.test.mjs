// The Activity page's rolling periods (last 7 and 30 days, as aw-webui's last7d/last30d)
// and its strip of neighbouring periods, against a real node. Hand-made events on known
// days, some just before the 04:00 start of day (they belong to the day before); every
// expected figure is worked out here from the events, and checked against the node's own
// answer to the same periods, so a wrong period boundary on the page fails.
// Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

const HOST = 'desk';
const WIN = `aw-watcher-window_${HOST}`;
const AFK = `aw-watcher-afk_${HOST}`;
const SOD = 4; // the default start of day, 04:00

// [year, month (1-12), day, hour, minute, seconds, app]
const RAW = [
  [2024, 12, 15, 10, 0, 3000, 'Code'], // a day before the 30 days ending 2025-01-14
  [2024, 12, 16, 10, 0, 900, 'Code'], // the first of those 30 days
  [2025, 1, 7, 15, 0, 2400, 'Writer'],
  [2025, 1, 8, 3, 0, 300, 'Writer'], // before 04:00: logical 2025-01-07
  [2025, 1, 8, 10, 0, 1200, 'Code'], // the first of the 7 days ending 2025-01-14
  [2025, 1, 9, 10, 0, 600, 'Mail'],
  [2025, 1, 10, 10, 0, 1800, 'Code'],
  [2025, 1, 12, 10, 0, 2000, 'Writer'],
  [2025, 1, 14, 10, 0, 3600, 'Code'],
  [2025, 1, 15, 3, 0, 600, 'Code'], // before 04:00: logical 2025-01-14
  [2025, 1, 15, 10, 0, 1500, 'Mail'], // after the period
];
const EVENTS = RAW.map(([y, mo, d, h, mi, s, app]) => ({ start: new Date(y, mo - 1, d, h, mi), seconds: s, app }));

const pad = (n) => String(n).padStart(2, '0');
const ymd = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
/** the logical day (YYYY-MM-DD) an event belongs to: its start less the start-of-day offset */
const logicalDay = (t) => ymd(new Date(t.getTime() - SOD * 3600_000));
/** seconds on logical days first..last (Dates, inclusive) */
function expected(first, last) {
  const a = ymd(first);
  const b = ymd(last);
  return EVENTS.filter((e) => logicalDay(e.start) >= a && logicalDay(e.start) <= b).reduce((s, e) => s + e.seconds, 0);
}
/** the node's period string for logical days first..last */
const periodStr = (first, last) => {
  const s = new Date(first.getFullYear(), first.getMonth(), first.getDate(), SOD);
  const e = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1, SOD);
  return `${s.toISOString()}/${e.toISOString()}`;
};
const ACTIVE = [
  `events = flood(query_bucket("${WIN}"));`,
  `not_afk = flood(query_bucket("${AFK}"));`,
  'not_afk = filter_keyvals(not_afk, "status", ["not-afk"]);',
  'events = filter_period_intersect(events, not_afk);',
  'RETURN = sum_durations(events);',
];

const LAST = new Date(2025, 0, 14);

let node, ctx;
before(async () => {
  node = new Node();
  await node.start();
  await node.makeBuckets(HOST, [[WIN, 'currentwindow'], [AFK, 'afkstatus']]);
  await node.api('POST', `/buckets/${WIN}/events`, EVENTS.map((e) => ({ timestamp: e.start.toISOString(), duration: e.seconds, data: { app: e.app, title: `${e.app} window` } })));
  // not AFK exactly while each window event lasts, AFK for an hour after it
  await node.api('POST', `/buckets/${AFK}/events`, EVENTS.flatMap((e) => [
    { timestamp: e.start.toISOString(), duration: e.seconds, data: { status: 'not-afk' } },
    { timestamp: new Date(e.start.getTime() + e.seconds * 1000).toISOString(), duration: 3600, data: { status: 'afk' } },
  ]));
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

/** The total once the summary shown answers the route now open. */
async function total(page, want, what) {
  let got;
  for (let i = 0; i < 150; i++) {
    await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
    got = Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
    if (Math.abs(got - want) < 0.5) return got;
    await page.waitForTimeout(100);
  }
  assert.equal(got, want, what);
}

/** Seconds per bar of the bar chart (its series are hours per category). */
async function barSeconds(page) {
  await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
  return page.$eval('[data-testid=bar-chart]', (el) => {
    const o = el.awChart.getOption();
    const n = o.xAxis[0].data.length;
    const out = new Array(n).fill(0);
    for (const s of o.series) s.data.forEach((v, i) => (out[i] += v * 3600));
    return out.map((x) => Math.round(x));
  });
}

/** The usage strip once every period has its figure: date, seconds, bar fraction, current. */
async function strip(page) {
  await page.waitForFunction(() => {
    const xs = document.querySelectorAll('[data-testid=period-usage] .pu-item');
    return xs.length > 0 && [...xs].every((x) => x.dataset.seconds !== undefined);
  }, null, { timeout: 30_000 });
  return page.$$eval('[data-testid=period-usage] .pu-item', (xs) => xs.map((x) => ({
    date: x.dataset.date, seconds: Number(x.dataset.seconds), frac: Number(x.querySelector('.pu-bar').dataset.frac),
    height: parseFloat(x.querySelector('.pu-bar').style.height), current: x.getAttribute('aria-current') === 'true',
  })));
}

const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('last 7 and last 30 days add up the logical days ending with the date, with a bar per day', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${ymd(LAST)}`);
  await total(page, expected(LAST, LAST), 'the day itself, with the event just after midnight');

  // choose "7 days" with the keyboard: the date stays the period's last day
  await page.focus('[data-testid=period-select] button[data-value=last7d]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('/last7d/2025-01-14'));
  const first7 = addDays(LAST, -6);
  const want7 = expected(first7, LAST);
  assert.equal(want7, 1200 + 600 + 1800 + 2000 + 3600 + 600, 'the test data: 8 to 14 January');
  await total(page, want7, 'last 7 days');
  const [api7] = await node.query([periodStr(first7, LAST)], ACTIVE);
  assert.equal(api7, want7, "the node's own answer for the same period");
  assert.match(await page.textContent('[data-testid=period-label]'), /7 days/);
  const bars7 = await barSeconds(page);
  assert.equal(bars7.length, 7, 'a bar per day');
  // (the chart's values are hours to 0.001, 3.6 s)
  const near = (a, b, what) => assert.ok(a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 4), `${what}: ${a} vs ${b}`);
  near(bars7, Array.from({ length: 7 }, (_, i) => expected(addDays(first7, i), addDays(first7, i))), 'each day its own time');
  await page.screenshot({ path: screenshotPath('70-activity-last7d-1440-light') });

  // previous: the 7 days before, named by their last day
  await page.click('[data-testid=prev-period]');
  await page.waitForFunction(() => location.hash.includes('/last7d/2025-01-07'));
  await total(page, expected(addDays(LAST, -13), addDays(LAST, -7)), 'the 7 days before (1 to 7 January)');
  await page.click('[data-testid=next-period]');
  await page.waitForFunction(() => location.hash.includes('/last7d/2025-01-14'));
  await total(page, want7, 'next comes back');

  // 30 days
  await page.click('[data-testid=period-select] button[data-value=last30d]');
  await page.waitForFunction(() => location.hash.includes('/last30d/2025-01-14'));
  const first30 = addDays(LAST, -29);
  const want30 = expected(first30, LAST);
  assert.equal(want30, want7 + 2400 + 300 + 900, 'the test data: 16 December to 14 January');
  await total(page, want30, 'last 30 days');
  const [api30] = await node.query([periodStr(first30, LAST)], ACTIVE);
  assert.equal(api30, want30);
  const bars30 = await barSeconds(page);
  assert.equal(bars30.length, 30);
  assert.ok(Math.abs(bars30.reduce((a, b) => a + b, 0) - want30) <= 30 * 4, 'the bars add up to the total');
  near(bars30, Array.from({ length: 30 }, (_, i) => expected(addDays(first30, i), addDays(first30, i))), 'each of the 30 days');
  assert.ok(bars30[0] > 0, 'the first bar is 16 December');
  assert.ok((await page.textContent('[data-testid=total-active] .stat-hint')).includes('per active day'));
  assert.ok((await overflow(page)) <= 0, 'no sideways scroll at 1440 px');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a rolling period without a date ends today', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  await page.goto(`${node.url}/#/activity/${HOST}/last30d`);
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  const today = await page.evaluate((sod) => {
    const t = new Date(Date.now() - sod * 3600_000);
    const p = (n) => String(n).padStart(2, '0');
    return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
  }, SOD);
  assert.equal(await page.inputValue('[data-testid=date-input]'), today);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the usage strip shows the neighbouring periods, matching the node, and opens one', async () => {
  const page = await ctx.newPage();
  const errors = watch(page);
  // a day in the past: the three days either side
  const day = new Date(2025, 0, 10);
  await page.goto(`${node.url}/#/activity/${HOST}/day/${ymd(day)}`);
  await total(page, expected(day, day), 'the day');
  let s = await strip(page);
  const days = Array.from({ length: 7 }, (_, i) => addDays(day, i - 3));
  assert.deepEqual(s.map((x) => x.date), days.map(ymd), 'three days before and after');
  const want = days.map((d) => expected(d, d));
  assert.deepEqual(s.map((x) => x.seconds), want, 'each day its time');
  assert.deepEqual(await node.query(days.map((d) => periodStr(d, d)), ACTIVE), want, "the node's answer for the same days");
  const max = Math.max(...want);
  s.forEach((x, i) => {
    assert.ok(Math.abs(x.frac - want[i] / max) < 1e-3, `bar ${x.date} is its share of the longest`);
    assert.ok(Math.abs(x.height - (want[i] / max) * 100) < 0.1, `bar ${x.date} height`);
  });
  assert.deepEqual(s.map((x) => x.current), [false, false, false, true, false, false, false], 'the current day is marked');

  // click one: it opens that day, which the strip then marks
  await page.click('[data-testid=period-usage] .pu-item[data-date="2025-01-07"]');
  await page.waitForFunction(() => location.hash.includes('/day/2025-01-07'));
  await total(page, 2400 + 300, '7 January, with the event before 04:00 on the 8th');
  s = await strip(page);
  assert.equal(s.find((x) => x.current).date, '2025-01-07');
  assert.equal(s[0].date, '2025-01-04');

  // last 7 days: the periods before and after, each 7 days, named by their last day
  await page.goto(`${node.url}/#/activity/${HOST}/last7d/${ymd(LAST)}`);
  await total(page, expected(addDays(LAST, -6), LAST), 'last 7 days');
  s = await strip(page);
  const ends = Array.from({ length: 7 }, (_, i) => addDays(LAST, (i - 3) * 7));
  assert.deepEqual(s.map((x) => x.date), ends.map(ymd));
  const want7 = ends.map((e) => expected(addDays(e, -6), e));
  assert.deepEqual(s.map((x) => x.seconds), want7);
  assert.deepEqual(await node.query(ends.map((e) => periodStr(addDays(e, -6), e)), ACTIVE), want7);
  // with the keyboard: the period before
  await page.focus('[data-testid=period-usage] .pu-item[data-date="2025-01-07"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('/last7d/2025-01-07'));
  await total(page, want7[2], 'the 7 days ending 7 January');

  // months: named by their first day, January with its year
  await page.goto(`${node.url}/#/activity/${HOST}/month/${ymd(LAST)}`);
  s = await strip(page);
  const months = Array.from({ length: 7 }, (_, i) => new Date(2025, i - 3, 1));
  assert.deepEqual(s.map((x) => x.date), months.map(ymd));
  const lastOfMonth = (m) => new Date(m.getFullYear(), m.getMonth() + 1, 0);
  const wantM = months.map((m) => expected(m, lastOfMonth(m)));
  assert.deepEqual(s.map((x) => x.seconds), wantM);
  assert.deepEqual(await node.query(months.map((m) => periodStr(m, lastOfMonth(m))), ACTIVE), wantM);
  assert.equal(wantM[2], 3000 + 900, 'the test data: December');
  assert.match(await page.textContent('[data-testid=period-usage] .pu-item[data-date="2025-01-01"] .pu-label'), /2025/);

  // years: none after this one, so this year is last and the strip reaches further back
  await page.goto(`${node.url}/#/activity/${HOST}/year/${ymd(LAST)}`);
  s = await strip(page);
  const years = s.map((x) => Number(x.date.slice(0, 4)));
  assert.ok(years.includes(2025) && years.every((y, i) => i === 0 || y === years[i - 1] + 1), `consecutive years: ${years}`);
  assert.ok(years[years.length - 1] <= new Date().getFullYear(), 'no year after this one');
  const wantY = years.map((y) => expected(new Date(y, 0, 1), new Date(y, 11, 31)));
  assert.deepEqual(s.map((x) => x.seconds), wantY);
  assert.equal(s.find((x) => x.current).date, '2025-01-01');

  // today's period is the last one: nothing later is shown
  await page.goto(`${node.url}/#/activity/${HOST}/week`);
  s = await strip(page);
  assert.equal(s.length, 7);
  assert.equal(s[6].current, true, "this week is last, no week after it");

  // a phone, dark
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${node.url}/#/activity/${HOST}/day/${ymd(day)}`);
  await strip(page);
  assert.ok((await overflow(page)) <= 0, `no sideways scroll at 390 px (${await overflow(page)})`);
  const box = await page.locator('[data-testid=period-usage]').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, 'the strip fits the screen');
  await page.screenshot({ path: screenshotPath('71-activity-usage-390-dark') });
  // 30 bars and six period choices on a phone, light
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(`${node.url}/#/activity/${HOST}/last30d/${ymd(LAST)}`);
  await total(page, expected(addDays(LAST, -29), LAST), 'last 30 days at 390 px');
  await strip(page);
  await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
  assert.ok((await overflow(page)) <= 0, `last 30 days: no sideways scroll at 390 px (${await overflow(page)})`);
  const b30 = await page.locator('[data-testid=period-select] button[data-value=last30d]').boundingBox();
  assert.ok(b30.x >= 0 && b30.x + b30.width <= 390, 'the "30 days" choice is on screen, not scrolled away');
  for (const b of await page.locator('[data-testid=view-select] button').all()) {
    const r = await b.boundingBox();
    assert.ok(r.x >= 0 && r.x + r.width <= 390, `the view choice "${await b.innerText()}" is on screen`);
  }
  await page.screenshot({ path: screenshotPath('74-activity-last30d-390-light'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
