// The Timeline's colours by category, bar labels, filters and event dialog against real
// nodes (docs/webui.md, "Timeline"): what the page shows (the chart's option, the texts it
// draws, the card's event count) is compared with the node's answers, edits and deletions
// are read back from the node, and a bucket synced from another device (through a bare
// git repository, docs/sync.md) opens read-only. Run with tests/ui/run.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, launchBrowser, screenshotPath, SyncNode, watch } from './harness.mjs';

const PASSPHRASE = 'a long test passphrase: correct horse battery staple';
const KDF = ['--kdf-ops', '1', '--kdf-mem', '8'];
const DAY = '2025-03-04';
// local times of that day (the browser and this process share the time zone)
const at = (h, m = 0, s = 0, day = 4) => new Date(2025, 2, day, h, m, s);
// as the node writes times: UTC, without a fraction when it is 0 (docs/api.md)
const iso = (d) => d.toISOString().replace('.000Z', 'Z');
// the logical day shown (start of day 04:00, the default)
const RANGE = [at(4), at(4, 0, 0, 5)];

const WIN = 'aw-watcher-window_desk';
const AFK = 'aw-watcher-afk_desk';
const WEB = 'aw-watcher-web-chrome_laptop';
const REMOTE = 'aw-watcher-window_other';
// two categories with their own colours; what neither matches is Uncategorized (grey)
const CLASSES = [
  { id: 1, name: ['Work'], rule: { type: 'regex', regex: 'Visual Studio Code|GitHub' }, data: { color: '#1d4ed8' } },
  { id: 2, name: ['Media'], rule: { type: 'regex', regex: 'youtube', ignore_case: true }, data: { color: '#be123c' } },
];
const GREY = '#94a3b8';

let tmp, A, B, ctx, remoteId;

before(async () => {
  tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'awnode-ui-tl-'));
  const remote = path.join(tmp, 'remote.git');
  execFileSync('git', ['init', '-q', '--bare', remote]);
  // the other device: one window bucket, published through the sync folder
  B = new SyncNode('other', PASSPHRASE);
  await B.start();
  await B.api('POST', `/buckets/${REMOTE}`, { type: 'currentwindow', client: 'ui-test', hostname: 'other' });
  await B.api('POST', `/buckets/${REMOTE}/events`, [{ timestamp: iso(at(10, 40)), duration: 300, data: { app: 'Code', title: 'remote work - Visual Studio Code' } }]);
  await B.sync('init', '--remote', remote, ...KDF);
  await B.sync('run');

  A = new SyncNode('', PASSPHRASE);
  await A.start();
  A.host = A.info.hostname;
  await A.api('POST', `/buckets/${WIN}`, { type: 'currentwindow', client: 'ui-test', hostname: 'desk' });
  await A.api('POST', `/buckets/${WIN}/events`, [
    // starts before the logical day: the Timeline has it clipped to 04:00
    { timestamp: iso(at(3, 50)), duration: 1200, data: { app: 'Code', title: 'early - Visual Studio Code' } },
    { timestamp: iso(at(10)), duration: 600, data: { app: 'Code', title: 'main.c - awnode - Visual Studio Code' } },
    { timestamp: iso(at(10, 15)), duration: 20, data: { app: 'Firefox', title: 'YouTube - cats' } },
    { timestamp: iso(at(10, 20)), duration: 5, data: { app: 'Terminal', title: 'bash' } },
    { timestamp: iso(at(11)), duration: 3600, data: { app: 'Code', title: 'timeline.tsx - Visual Studio Code' } },
  ]);
  await A.api('POST', `/buckets/${AFK}`, { type: 'afkstatus', client: 'ui-test', hostname: 'desk' });
  await A.api('POST', `/buckets/${AFK}/events`, [{ timestamp: iso(at(10)), duration: 7200, data: { status: 'not-afk' } }]);
  await A.api('POST', `/buckets/${WEB}`, { type: 'web.tab.current', client: 'ui-test', hostname: 'laptop' });
  await A.api('POST', `/buckets/${WEB}/events`, [
    { timestamp: iso(at(10, 30)), duration: 300, data: { url: 'https://www.youtube.com/watch?v=1', title: 'A video', audible: true, incognito: false } },
    { timestamp: iso(at(12)), duration: 30, data: { url: 'https://github.com/x/y', title: 'x/y', audible: false, incognito: false } },
  ]);
  await A.api('POST', '/settings/classes', CLASSES);
  await A.sync('join', remote);
  await A.sync('run');
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  for (const n of [A, B]) await n?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The node's events of `bucket` in the day shown. */
const nodeEvents = (bucket) => A.api('GET', `/buckets/${bucket}/events?start=${encodeURIComponent(iso(RANGE[0]))}&end=${encodeURIComponent(iso(RANGE[1]))}`);
async function nodeAll() {
  const ids = Object.keys(await A.api('GET', '/buckets/'));
  const out = {};
  for (const id of ids) out[id] = await nodeEvents(id);
  return out;
}

async function shownCount(page) {
  return eventually(async () => {
    const sub = (await page.textContent('[data-testid=timeline-card] .card-sub')) || '';
    const m = /^([\d,]+) events?/.exec(sub);
    assert.ok(m, `no count yet: "${sub}"`);
    return Number(m[1].replace(/,/g, ''));
  });
}

/** What the chart draws: one entry per bar, with its lane (bucket id), times and colour. */
function chartItems(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid=timeline-chart]');
    const o = el.awChart.getOption();
    const lanes = o.yAxis[0].data;
    return o.series[0].data.map((d) => ({ lane: lanes[d.value[0]], t0: d.value[1], t1: d.value[2], color: d.itemStyle.color }));
  });
}

/** The texts drawn on the chart's canvas (axis labels and bar labels). */
function drawnTexts(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid=timeline-chart]');
    return el.awChart.getZr().storage.getDisplayList(true).filter((x) => x.style && typeof x.style.text === 'string').map((x) => x.style.text);
  });
}

/** Click the middle of the bar of `bucket`'s event starting at `t` (clipped to the view). */
async function clickBar(page, bucket, t, t1) {
  const [x, y] = await page.evaluate(([bucket, t, t1]) => {
    const el = document.querySelector('[data-testid=timeline-chart]');
    const ch = el.awChart;
    const o = ch.getOption();
    const li = o.yAxis[0].data.indexOf(bucket);
    const z = o.dataZoom[0];
    el.scrollIntoView({ block: 'start' });
    const a = Math.max(t, z.startValue ?? -Infinity), b = Math.min(t1, z.endValue ?? Infinity);
    const r = el.getBoundingClientRect();
    return [r.left + ch.convertToPixel({ xAxisIndex: 0 }, (a + b) / 2), r.top + ch.convertToPixel({ yAxisIndex: 0 }, li)];
  }, [bucket, t, t1]);
  await page.mouse.click(x, y);
  await page.waitForSelector('[data-testid=timeline-editor]');
}

async function open(page, hash, width = 1440) {
  await page.setViewportSize({ width, height: width < 500 ? 844 : 1000 });
  // a fresh load each time (another hash alone would not reload the page)
  await page.goto('about:blank');
  await page.goto(`${A.url}/#${hash}`);
  await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]');
}

const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('timeline', () => {
  test('the sync round made the other device\'s bucket remote here', async () => {
    const d = await A.api('GET', '/devices');
    const other = d.devices.find((x) => !x.this_device && x.buckets.length);
    assert.ok(other, JSON.stringify(d));
    remoteId = other.buckets.find((b) => b.startsWith('aw-watcher-window_other'));
    assert.ok(remoteId, JSON.stringify(other));
  });

  test('colour by category: window and browser bars get their category\'s colour, as the node categorises them; the choice is kept', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1`);
    const all = await nodeAll();
    const total = Object.values(all).reduce((n, es) => n + es.length, 0);
    assert.equal(total, 9, 'the data this test is about');
    assert.equal(await shownCount(page), total);
    let items = await chartItems(page);
    assert.ok(!items.some((i) => i.color === '#1d4ed8'), 'by bucket/app: no category colours yet');

    await page.click('[data-testid=timeline-colour] [data-value=category]');
    await eventually(async () => assert.ok((await chartItems(page)).some((i) => i.color === '#1d4ed8')));
    items = await chartItems(page);
    // the node's own categorisation of the same events
    const colour = (cat) => (cat[0] === 'Media' ? '#be123c' : cat[0] === 'Work' ? '#1d4ed8' : GREY);
    const rules = JSON.stringify(CLASSES.map((c) => [c.name, c.rule]));
    const period = `${iso(RANGE[0])}/${iso(RANGE[1])}`;
    let checked = 0;
    for (const b of [WIN, WEB, remoteId]) {
      const [evs] = await A.query([period], [`e = query_bucket("${b}");`, `RETURN = categorize(e, ${rules});`]);
      for (const e of evs) {
        const t0 = Date.parse(e.timestamp);
        const item = items.find((i) => i.lane === b && i.t0 === t0);
        assert.ok(item, `${b} ${e.timestamp} is drawn`);
        assert.equal(item.color, colour(e.data.$category), `${b} ${e.data.title}: ${e.data.$category}`);
        checked++;
      }
    }
    assert.equal(checked, 8);
    // not-categorised types keep their own colours: AFK stays green
    assert.equal(items.find((i) => i.lane === AFK).color, '#22c55e');
    // the legend names the categories on screen with the same colours
    const legend = await page.$$eval('[data-testid=timeline-legend] [data-category]', (xs) => Object.fromEntries(xs.map((x) => [x.dataset.category, x.dataset.color])));
    assert.deepEqual(legend, { Work: '#1d4ed8', Media: '#be123c', Uncategorized: GREY });
    await page.screenshot({ path: screenshotPath('72-timeline-category-1440') });

    // kept in this browser
    await page.reload();
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]');
    assert.equal(await page.getAttribute('[data-testid=timeline-colour] [data-value=category]', 'aria-selected'), 'true');
    assert.ok((await chartItems(page)).some((i) => i.color === '#be123c'));
    await page.click('[data-testid=timeline-colour] [data-value=bucket]');
    await eventually(async () => assert.ok(!(await chartItems(page)).some((i) => i.color === '#1d4ed8')));
    assert.equal(await page.$('[data-testid=timeline-legend]'), null);
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('bars wide enough on screen carry their label: zoomed to an hour, not in the whole day', async () => {
    const page = await ctx.newPage();
    await open(page, `/timeline/${DAY}/1`);
    let texts = await drawnTexts(page);
    assert.ok(texts.includes('not-afk'), `the 2-hour AFK bar is labelled: ${texts.join(' | ')}`);
    assert.ok(!texts.some((t) => t.startsWith('main.c')), 'a 10-minute bar in a whole day is too narrow');
    // the search link's zoom: 10:00 to 11:00
    await open(page, `/timeline/${DAY}/1/10:30`);
    texts = await eventually(async () => {
      const t = await drawnTexts(page);
      assert.ok(t.some((x) => x.startsWith('main.c')), t.join(' | '));
      return t;
    });
    const main = texts.find((x) => x.startsWith('main.c'));
    assert.ok('main.c - awnode - Visual Studio Code'.startsWith(main.replace(/…$/, '')), main);
    assert.ok(texts.includes('A video'), 'browser bars say their title');
    assert.ok(!texts.some((t) => t.startsWith('YouTube')), 'a 20-second bar is too narrow even here');
    // drawn again in other colours: the zoom stays, and so do the labels
    const zoom = () => page.evaluate(() => { const z = document.querySelector('[data-testid=timeline-chart]').awChart.getOption().dataZoom[0]; return [z.startValue, z.endValue]; });
    const z0 = await zoom();
    assert.deepEqual(z0, [at(10).getTime(), at(11).getTime()]);
    await page.click('[data-testid=timeline-colour] [data-value=category]');
    await eventually(async () => assert.ok((await chartItems(page)).some((i) => i.color === '#1d4ed8')));
    assert.deepEqual(await zoom(), z0);
    assert.ok((await drawnTexts(page)).some((x) => x.startsWith('main.c')));
    await page.click('[data-testid=timeline-colour] [data-value=bucket]');
    await page.close();
  });

  test('filters by device, bucket type, minimum duration and text change the events shown as the node\'s events say', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1`);
    const all = await nodeAll();
    const total = Object.values(all).reduce((n, es) => n + es.length, 0);
    assert.equal(await shownCount(page), total);
    await page.click('[data-testid=timeline-filters-toggle]');
    await page.waitForSelector('[data-testid=timeline-filters]');

    // device "laptop" off: its bucket's events go, and its lane
    await page.click('[data-testid=timeline-filters] [data-host=laptop]');
    const noLaptop = total - all[WEB].length;
    await eventually(async () => assert.equal(await shownCount(page), noLaptop));
    await eventually(async () => assert.ok(!(await chartItems(page)).some((i) => i.lane === WEB)));
    // type afkstatus off as well
    await page.click('[data-testid=timeline-filters] [data-type=afkstatus]');
    const noAfk = noLaptop - all[AFK].length;
    await eventually(async () => assert.equal(await shownCount(page), noAfk));
    assert.equal(await page.textContent('[data-testid=timeline-filters-count]'), '2');
    // both back
    await page.click('[data-testid=timeline-filters] [data-host=laptop]');
    await page.click('[data-testid=timeline-filters] [data-type=afkstatus]');
    await eventually(async () => assert.equal(await shownCount(page), total));

    // shorter than 60 s hidden (the node's durations, clipped to the day)
    await page.fill('[data-testid=timeline-min]', '60');
    const long = Object.values(all).flat().filter((e) => e.duration >= 60).length;
    assert.ok(long < total && long > 0);
    await eventually(async () => assert.equal(await shownCount(page), long));
    await eventually(async () => assert.ok((await chartItems(page)).every((i) => i.t1 - i.t0 >= 60_000 || i.lane === 'device in use')));
    // kept across a reload
    await page.reload();
    await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]');
    assert.equal(await shownCount(page), long);
    assert.equal(await page.inputValue('[data-testid=timeline-min]'), '60');
    await page.fill('[data-testid=timeline-min]', '');

    // text in the data (case-insensitive): titles, apps and URLs
    await page.fill('[data-testid=timeline-text]', 'youtube');
    const yt = Object.values(all).flat().filter((e) => Object.values(e.data).some((v) => String(v).toLowerCase().includes('youtube'))).length;
    assert.equal(yt, 2);
    await eventually(async () => assert.equal(await shownCount(page), yt));
    await page.screenshot({ path: screenshotPath('73-timeline-filters-1440') });
    await page.fill('[data-testid=timeline-text]', 'nothing like this');
    await eventually(async () => assert.equal(await shownCount(page), 0));
    assert.match(await page.textContent('[data-testid=timeline-card] .empty'), new RegExp(`hide all ${total} events`));
    await page.click('[data-testid=timeline-filters-clear]');
    await eventually(async () => assert.equal(await shownCount(page), total));
    assert.equal(await page.$('[data-testid=timeline-filters-count]'), null);

    // a lane's chip, by keyboard: Space hides the lane, Enter shows it again
    await page.focus(`.lane-filter [data-lane="${WIN}"]`);
    await page.keyboard.press('Space');
    await eventually(async () => assert.equal(await shownCount(page), total - all[WIN].length));
    assert.equal(await page.getAttribute(`.lane-filter [data-lane="${WIN}"]`, 'aria-pressed'), 'false');
    await page.keyboard.press('Enter');
    await eventually(async () => assert.equal(await shownCount(page), total));
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('editing an event\'s start, duration and title changes what the node stores; the chart redraws it', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1/10:30`);
    const before = (await nodeEvents(WIN)).find((e) => e.data.title.startsWith('main.c'));
    const total = await shownCount(page);
    await clickBar(page, WIN, Date.parse(before.timestamp), Date.parse(before.timestamp) + before.duration * 1000);
    const dlg = '[data-testid=timeline-editor]';
    assert.equal(await page.getAttribute(dlg, 'data-readonly'), '0');
    assert.equal(await page.inputValue(`${dlg} [data-key=title]`), before.data.title);
    assert.equal(await page.inputValue(`${dlg} [data-key=app]`), before.data.app);
    assert.equal(Number(await page.inputValue('[data-testid=editor-duration]')), before.duration);
    // the keyboard is in the dialog
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'editor-start');

    await page.fill('[data-testid=editor-start]', '2025-03-04T10:02:30');
    await page.fill('[data-testid=editor-duration]', '900');
    await page.fill(`${dlg} [data-key=title]`, 'edited in the timeline');
    await page.click('[data-testid=editor-save]');
    await page.waitForSelector(dlg, { state: 'detached' });
    const stored = await A.api('GET', `/buckets/${WIN}/events/${before.id}`);
    assert.deepEqual(stored, { id: before.id, timestamp: iso(at(10, 2, 30)), duration: 900, data: { app: 'Code', title: 'edited in the timeline' } });
    assert.equal((await nodeEvents(WIN)).length, 5, 'replaced, not added');
    // drawn anew where the node has it
    await eventually(async () => {
      const it = (await chartItems(page)).find((i) => i.lane === WIN && i.t0 === at(10, 2, 30).getTime());
      assert.ok(it);
      assert.equal(it.t1 - it.t0, 900_000);
    });
    assert.equal(await shownCount(page), total);

    // Tab stays in the dialog
    await clickBar(page, WIN, at(10, 2, 30).getTime(), at(10, 17, 30).getTime());
    // the fields come with the stored event, which the dialog reads first; it then puts
    // the keyboard on the start
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'editor-start');
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => !!document.activeElement?.closest('.modal')), `Tab ${i + 1} left the dialog`);
    }
    await page.keyboard.press('Escape');
    await page.waitForSelector(dlg, { state: 'detached' });

    // moved to another day: it leaves this day's chart and count, and is on that day's
    await open(page, `/timeline/${DAY}/1/11:30`);
    const cats = (await nodeEvents(WIN)).find((e) => e.data.title.startsWith('timeline.tsx'));
    await clickBar(page, WIN, Date.parse(cats.timestamp), Date.parse(cats.timestamp) + cats.duration * 1000);
    assert.equal(await page.inputValue(`${dlg} [data-key=title]`), cats.data.title);
    await page.fill('[data-testid=editor-start]', '2025-03-06T11:00');
    await page.click('[data-testid=editor-save]');
    await page.waitForSelector(dlg, { state: 'detached' });
    assert.equal((await A.api('GET', `/buckets/${WIN}/events/${cats.id}`)).timestamp, iso(at(11, 0, 0, 6)));
    await eventually(async () => assert.equal(await shownCount(page), total - 1));
    await open(page, '/timeline/2025-03-06/1');
    assert.equal(await shownCount(page), 1);
    // and back, for the tests that follow
    await A.api('POST', `/buckets/${WIN}/events`, [cats]);
    await open(page, `/timeline/${DAY}/1/10:30`);
    assert.equal(await shownCount(page), total);

    // Escape closes the dialog without saving
    await clickBar(page, WIN, at(10, 2, 30).getTime(), at(10, 17, 30).getTime());
    assert.equal(await page.inputValue(`${dlg} [data-key=title]`), 'edited in the timeline');
    await page.fill(`${dlg} [data-key=title]`, 'not saved');
    await page.keyboard.press('Escape');
    await page.waitForSelector(dlg, { state: 'detached' });
    assert.equal((await A.api('GET', `/buckets/${WIN}/events/${before.id}`)).data.title, 'edited in the timeline');
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('an event the day cuts is edited whole: its stored start and duration stay', async () => {
    const page = await ctx.newPage();
    await open(page, `/timeline/${DAY}/1/04:20`);
    const early = (await A.api('GET', `/buckets/${WIN}/events`)).find((e) => e.data.title.startsWith('early'));
    assert.equal(early.timestamp, iso(at(3, 50)));
    await clickBar(page, WIN, at(4).getTime(), at(4, 10).getTime());
    await eventually(async () => assert.equal(await page.inputValue('[data-testid=editor-duration]'), '1200'));
    // (the input leaves out seconds that are 0)
    assert.match(await page.inputValue('[data-testid=editor-start]'), /^2025-03-04T03:50(:00)?$/);
    await page.fill('[data-testid=timeline-editor] [data-key=title]', 'early, renamed');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=timeline-editor]', { state: 'detached' });
    const stored = await A.api('GET', `/buckets/${WIN}/events/${early.id}`);
    assert.deepEqual(stored, { ...early, data: { ...early.data, title: 'early, renamed' } });
    await page.close();
  });

  test('keyboard: the chart takes the focus, arrow keys choose an event (moving the zoom to it), Enter opens it, Escape comes back', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1/10:30`);
    const sel = '[data-testid=timeline-selected]';
    // Tab reaches the chart (from the last control before it)
    await page.focus('[data-testid=timeline-filters-toggle]');
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement?.dataset.testid)) !== 'timeline-chart-box'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'timeline-chart-box');
    await page.keyboard.press('ArrowRight');
    await eventually(async () => assert.match(await page.textContent(sel), /Enter opens it/));
    for (let i = 0; i < 6 && !/^window desk/.test((await page.textContent(sel)).trim()); i++) await page.keyboard.press('ArrowDown');
    assert.match((await page.textContent(sel)).trim(), /^window desk/);
    // the lane's first event is before the zoomed hour: the zoom moves to it
    await page.keyboard.press('Home');
    await eventually(async () => assert.match(await page.textContent(sel), /early, renamed/));
    const z = await page.evaluate(() => document.querySelector('[data-testid=timeline-chart]').awChart.getOption().dataZoom[0]);
    assert.ok(z.startValue <= at(4, 10).getTime() && z.endValue >= at(4).getTime(), `zoom ${new Date(z.startValue)}–${new Date(z.endValue)}`);
    assert.equal(z.endValue - z.startValue, 3_600_000, 'the zoom keeps its width');
    await page.keyboard.press('ArrowRight');
    await eventually(async () => assert.match(await page.textContent(sel), /edited in the timeline/));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=timeline-editor]');
    const ev = (await nodeEvents(WIN)).find((e) => e.data.title === 'edited in the timeline');
    assert.equal(await page.inputValue('[data-testid=timeline-editor] [data-key=title]'), ev.data.title);
    assert.equal(Number(await page.inputValue('[data-testid=editor-duration]')), ev.duration);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=timeline-editor]', { state: 'detached' });
    await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'timeline-chart-box'));
    await page.screenshot({ path: screenshotPath('77-timeline-keyboard-1440') });
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('Delete removes the event from the node and the chart; Undo brings the same event back', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1/10:30`);
    const ev = (await nodeEvents(WEB)).find((e) => e.data.title === 'A video');
    const total = await shownCount(page);
    await clickBar(page, WEB, Date.parse(ev.timestamp), Date.parse(ev.timestamp) + ev.duration * 1000);
    // a boolean is shown (and kept) as JSON
    assert.equal(await page.inputValue('[data-testid=timeline-editor] [data-key=audible]'), 'true');
    await page.click('[data-testid=editor-delete]');
    await page.waitForSelector('[data-testid=timeline-editor]', { state: 'detached' });
    await eventually(async () => assert.equal(await shownCount(page), total - 1));
    assert.ok(!(await nodeEvents(WEB)).some((e) => e.id === ev.id), 'gone from the node');
    // (the chart is drawn after the count: an effect of the render)
    await eventually(async () => assert.ok(!(await chartItems(page)).some((i) => i.lane === WEB && i.t0 === Date.parse(ev.timestamp))));
    await page.click('[data-testid=undo-toast] .toast-action');
    await eventually(async () => assert.equal(await shownCount(page), total));
    assert.deepEqual(await A.api('GET', `/buckets/${WEB}/events/${ev.id}`), ev);
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('a remote bucket\'s event opens read-only: no Save, no Delete, the node unchanged', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await open(page, `/timeline/${DAY}/1/10:30`);
    const [ev] = await nodeEvents(remoteId);
    await clickBar(page, remoteId, Date.parse(ev.timestamp), Date.parse(ev.timestamp) + ev.duration * 1000);
    const dlg = '[data-testid=timeline-editor]';
    assert.equal(await page.getAttribute(dlg, 'data-readonly'), '1');
    await page.waitForSelector('[data-testid=editor-readonly]');
    assert.equal(await page.inputValue(`${dlg} [data-key=title]`), ev.data.title);
    assert.ok(await page.isDisabled(`${dlg} [data-key=title]`));
    assert.ok(await page.isDisabled('[data-testid=editor-duration]'));
    assert.equal(await page.$('[data-testid=editor-save]'), null);
    assert.equal(await page.$('[data-testid=editor-delete]'), null);
    // the keyboard lands on Close; Escape closes
    assert.match(await page.evaluate(() => document.activeElement?.textContent || document.activeElement?.getAttribute('aria-label')), /Close/);
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Shift+Tab');
      assert.ok(await page.evaluate(() => !!document.activeElement?.closest('.modal')), `Shift+Tab ${i + 1} left the dialog`);
    }
    await page.screenshot({ path: screenshotPath('74-timeline-remote-readonly-1440') });
    await page.keyboard.press('Escape');
    await page.waitForSelector(dlg, { state: 'detached' });
    assert.deepEqual(await nodeEvents(remoteId), [ev]);
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });

  test('390 px and 1440 px, light and dark: filters and the dialog fit without widening the page', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    for (const theme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: theme });
      for (const width of [390, 1440]) {
        await open(page, `/timeline/${DAY}/1/10:30`, width);
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
        if (!(await page.$('[data-testid=timeline-filters]'))) await page.click('[data-testid=timeline-filters-toggle]');
        await page.click('[data-testid=timeline-colour] [data-value=category]');
        assert.ok((await overflow(page)) <= 0, `${theme} ${width}: overflow ${await overflow(page)}`);
        await page.screenshot({ path: screenshotPath(`75-timeline-${theme}-${width}`), fullPage: true });
        const ev = (await nodeEvents(WIN)).find((e) => e.data.title === 'edited in the timeline');
        await clickBar(page, WIN, Date.parse(ev.timestamp), Date.parse(ev.timestamp) + ev.duration * 1000);
        assert.ok((await overflow(page)) <= 0, `${theme} ${width} with the dialog: overflow ${await overflow(page)}`);
        const box = await page.$eval('.modal', (m) => { const r = m.getBoundingClientRect(); return [r.left, r.right]; });
        assert.ok(box[0] >= 0 && box[1] <= width, `the dialog is on screen: ${box}`);
        await page.screenshot({ path: screenshotPath(`76-timeline-editor-${theme}-${width}`) });
        await page.keyboard.press('Escape');
        await page.waitForSelector('[data-testid=timeline-editor]', { state: 'detached' });
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
    await page.close();
  });
});
