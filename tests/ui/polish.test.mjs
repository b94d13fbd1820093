// Browser tests of the web UI's finer points, against a real node with one generated device:
// the Timeline's event count, its day axes, month bars' weekdays, the sunburst's outer
// labels, empty states, stat cards on a phone, and undoing an event's deletion.
// Run: AWNODE_WEBPATH=<built ui> node --test polish.test.mjs (env as for run.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, screenshotPath, watch } from './harness.mjs';

// The generated data covers 2025-01-06 .. 2025-02-04 (UTC).
const DAY = '2025-02-03';
const WEEK = '2025-01-20'; // a Monday
const EMPTY_DAY = '2024-06-12';
let node, ctx, LOCAL;

const allowSync = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);

before(async () => {
  node = new Node();
  await node.start();
  LOCAL = node.info.hostname;
  await node.seed(LOCAL, 30, 1);
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

/** A page at `width` px (1440 or 390), optionally dark, watched for errors. */
async function newPage(width = 1440, dark = false) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width, height: width < 500 ? 844 : 1000 });
  await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
  const problems = watch(page, allowSync);
  return { page, problems };
}

const open = (page, hash) => page.goto(`${node.url}/#${hash}`);
const shot = (page, name) => page.screenshot({ path: screenshotPath(name), fullPage: true });

/** The UI's logical day range (start of day 04:00, local time) from `ymd`, `days` long. */
function localRange(ymd, days) {
  const [y, m, d] = ymd.split('-').map(Number);
  return [new Date(y, m - 1, d, 4), new Date(y, m - 1, d + days, 4)];
}

async function activityReady(page) {
  await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=bar-chart][data-ready="1"]', { timeout: 30_000 });
  await page.waitForTimeout(300);
}

async function timelineReady(page) {
  await page.waitForSelector('[data-testid=timeline-chart][data-ready="1"]', { timeout: 30_000 });
  await page.waitForTimeout(300);
}

/**
 * What the Timeline's time axis draws: its labels' texts and x positions (from the chart's
 * rendered text elements, not its option), and the pixels of the axis' min and max.
 */
function drawnAxis(page) {
  return page.$eval('[data-testid=timeline-chart]', (el) => {
    const chart = el.awChart;
    const o = chart.getOption();
    const ax = o.xAxis[0];
    const fmt = ax.axisLabel.formatter;
    const want = new Set((ax.axisLabel.customValues || []).map((v) => fmt(v)));
    const grid = [chart.convertToPixel({ xAxisIndex: 0 }, ax.min), chart.convertToPixel({ xAxisIndex: 0 }, ax.max)];
    // x-axis labels sit above the grid (position: top); lane names are left of it
    // each label is a text element (anchored at its tick) drawn as text spans
    const texts = chart.getZr().storage.getDisplayList(true)
      .filter((t) => t.type === 'tspan' && t.parent?.type === 'text' && want.has(t.style?.text))
      .map((t) => {
        const r = t.getBoundingRect().clone();
        const m = t.getComputedTransform();
        if (m) r.applyTransform(m);
        return { text: t.style.text, x: t.parent.x, left: r.x, width: r.width };
      })
      .sort((a, b) => a.x - b.x);
    return { customValues: ax.axisLabel.customValues, min: ax.min, max: ax.max, grid, texts, width: el.clientWidth };
  });
}

function assertEvenDayAxis(axis, days, what) {
  const { texts, grid, customValues, min } = axis;
  assert.ok(customValues && customValues.length >= 2, `${what}: day labels ${JSON.stringify(customValues)}`);
  assert.equal(customValues[0], min, `${what}: the first day is labelled`);
  assert.equal(texts.length, customValues.length, `${what}: every day label is drawn: ${texts.map((t) => t.text)}`);
  assert.ok(Math.abs(texts[0].x - grid[0]) < 1.5, `${what}: first label at the axis start (${texts[0].x} vs ${grid[0]})`);
  assert.ok(texts[0].left >= grid[0] - 1.5, `${what}: the first label is not cut at the left edge`);
  const gaps = texts.slice(1).map((t, i) => t.x - texts[i].x);
  const dayPx = (grid[1] - grid[0]) / days;
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 1.5, `${what}: uneven label gaps ${gaps.map((x) => x.toFixed(1))}`);
  assert.ok(Math.abs(gaps[0] / dayPx - Math.round(gaps[0] / dayPx)) < 0.02, `${what}: labels fall on day starts (gap ${gaps[0]} px, day ${dayPx} px)`);
  // no two labels overlap
  for (let i = 1; i < texts.length; i++) assert.ok(texts[i].left >= texts[i - 1].left + texts[i - 1].width, `${what}: labels overlap: ${texts[i - 1].text} / ${texts[i].text}`);
}

describe('web UI polish', () => {
  test('the Timeline card says how many events it shows, as many as the API returns', async () => {
    const { page, problems } = await newPage();
    await open(page, `/timeline/${DAY}/1`);
    await timelineReady(page);
    const sub = await page.textContent('[data-testid=timeline-card] .card-head .card-sub');
    const m = /^([\d,.\s]+) events · scroll or drag the slider to zoom/.exec(sub);
    assert.ok(m, `Timeline header: ${JSON.stringify(sub)}`);
    const [s, e] = localRange(DAY, 1);
    const buckets = Object.keys(await node.api('GET', '/buckets/'));
    let n = 0;
    for (const b of buckets) n += (await node.api('GET', `/buckets/${encodeURIComponent(b)}/events?start=${s.toISOString()}&end=${e.toISOString()}`)).length;
    assert.ok(n > 100, `the day has events (${n})`);
    assert.equal(Number(m[1].replace(/\D/g, '')), n);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  for (const width of [1440, 390]) {
    test(`7- and 31-day Timeline axes at ${width} px: one label per step of days, evenly, the first day labelled`, async () => {
      const { page, problems } = await newPage(width);
      await open(page, `/timeline/${WEEK}/7`);
      await timelineReady(page);
      const week = await drawnAxis(page);
      assertEvenDayAxis(week, 7, `7 days at ${width} px`);
      if (width >= 1000) {
        // room for every day, with its weekday
        assert.equal(week.texts.length, 7);
        const wd = await page.evaluate((vs) => vs.map((v) => new Date(v).toLocaleDateString(undefined, { weekday: 'short' })), week.customValues);
        week.texts.forEach((t, i) => assert.ok(t.text.includes(wd[i]), `${t.text} names its weekday ${wd[i]}`));
      }
      await shot(page, `polish-timeline-7d-${width}`);

      await open(page, `/timeline/2025-01-05/31`);
      await timelineReady(page);
      const month = await drawnAxis(page);
      assertEvenDayAxis(month, 31, `31 days at ${width} px`);
      await shot(page, `polish-timeline-31d-${width}`);

      // zoomed in to a few hours, the axis shows times again
      await page.$eval('[data-testid=timeline-chart]', (el) => el.awChart.dispatchAction({ type: 'dataZoom', dataZoomIndex: 0, start: 50, end: 50.5 }));
      await page.waitForTimeout(200);
      const zoomed = await page.$eval('[data-testid=timeline-chart]', (el) => el.awChart.getOption().xAxis[0].axisLabel.customValues);
      assert.equal(zoomed, null, 'a view shorter than two days keeps the time ticks');
      await page.close();
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }

  test('month bars name the weekday of each day, the sunburst labels its outer rings', async () => {
    const { page, problems } = await newPage();
    await open(page, `/activity/${LOCAL}/month/${WEEK}`);
    await activityReady(page);
    const labels = await page.$eval('[data-testid=bar-chart]', (el) => el.awChart.getOption().xAxis[0].data);
    assert.equal(labels.length, 31);
    const expect = await page.evaluate(() => Array.from({ length: 31 }, (_, i) => {
      const d = new Date(2025, 0, 1 + i);
      return [String(d.getDate()), d.toLocaleDateString(undefined, { weekday: 'short' })];
    }));
    labels.forEach((l, i) => {
      assert.ok(l.split('\n').includes(expect[i][0]) && l.includes(expect[i][1]), `bar ${i + 1}: ${JSON.stringify(l)} vs ${expect[i]}`);
    });
    await shot(page, 'polish-activity-month-1440');

    await open(page, `/activity/${LOCAL}/week/${WEEK}`);
    await activityReady(page);
    await page.waitForSelector('[data-testid=sunburst][data-ready="1"]');
    await page.waitForTimeout(500);
    const sb = await page.$eval('[data-testid=sunburst]', (el) => {
      const chart = el.awChart;
      const s = chart.getOption().series[0];
      const names = [];
      const walk = (ns, depth) => ns.forEach((n) => {
        if (depth > 0 && n.label?.show) names.push(n.name);
        walk(n.children || [], depth + 1);
      });
      walk(s.data, 0);
      const drawn = chart.getZr().storage.getDisplayList(true).filter((t) => t.style?.text && !t.ignore && !t.invisible).map((t) => t.style.text);
      return { levels: s.levels.map((l) => l.label?.show), names, drawn };
    });
    assert.notEqual(sb.levels[2], false, 'the second ring has labels');
    assert.notEqual(sb.levels[3], false, 'the third ring has labels');
    assert.ok(sb.names.length >= 1, 'some subcategory is wide enough for its label');
    // a label truncated to its arc still starts with the category's name
    for (const n of sb.names) {
      assert.ok(sb.drawn.some((t) => t === n || (/(\.\.\.|…)$/.test(t) && n.startsWith(t.replace(/(\.\.\.|…)$/, '')))), `${n} is drawn: ${sb.drawn}`);
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('empty states: SVG icons, "No categorised time" once', async () => {
    for (const dark of [false, true]) {
      const { page, problems } = await newPage(390, dark);
      await open(page, `/activity/${LOCAL}/day/${EMPTY_DAY}`);
      await page.waitForSelector('[data-testid=no-activity]', { timeout: 30_000 });
      await page.waitForSelector('[data-testid=categories] .empty');
      const text = await page.evaluate(() => document.body.innerText);
      assert.equal(text.split('No categorised time').length - 1, 1, 'the empty day says it once');
      await shot(page, `polish-activity-empty-day-390${dark ? '-dark' : ''}`);

      await open(page, `/timeline/${EMPTY_DAY}/1`);
      await page.waitForSelector('[data-testid=timeline-card] .empty');
      // no chart, so no zoom hint
      assert.equal(await page.textContent('[data-testid=timeline-card] .card-sub'), '0 events');
      await shot(page, `polish-timeline-empty-390${dark ? '-dark' : ''}`);

      // a page this work does not touch, whose empty state names its icon by a character
      await open(page, '/stopwatch');
      await page.waitForSelector('.empty');
      const icons = await page.$$eval('.empty-icon', (xs) => xs.map((x) => ({ svg: !!x.querySelector('svg'), text: x.textContent.trim() })));
      assert.ok(icons.length >= 1);
      for (const i of icons) assert.deepEqual(i, { svg: true, text: '' });
      await page.close();
      assert.deepEqual(problems, [], problems.join('\n'));
    }
    // every empty state met above
    const { page } = await newPage();
    for (const hash of [`/activity/${LOCAL}/day/${EMPTY_DAY}`, `/timeline/${EMPTY_DAY}/1`]) {
      await open(page, hash);
      await page.waitForSelector('.empty', { timeout: 30_000 });
      const icons = await page.$$eval('.empty-icon', (xs) => xs.map((x) => ({ svg: !!x.querySelector('svg'), text: x.textContent.trim() })));
      for (const i of icons) assert.deepEqual(i, { svg: true, text: '' }, hash);
    }
    await page.close();
  });

  for (const [kind, date] of [['day', DAY], ['month', WEEK], ['year', WEEK]]) {
    test(`stat cards at 390 px show whole values (${kind})`, async () => {
      for (const dark of [false, true]) {
        const { page, problems } = await newPage(390, dark);
        await open(page, `/activity/${LOCAL}/${kind}/${date}`);
        await activityReady(page);
        const stats = await page.$$eval('.stats .stat', (xs) => xs.map((s) => {
          const v = s.querySelector('.stat-value');
          const t = s.querySelector('.stat-text');
          const sr = s.getBoundingClientRect(), tr = t.getBoundingClientRect();
          return {
            label: s.querySelector('.stat-label').textContent,
            text: t.textContent, seconds: v.dataset.seconds,
            sw: t.scrollWidth, cw: t.clientWidth, sh: t.scrollHeight, ch: t.clientHeight,
            inside: tr.left >= sr.left - 0.5 && tr.right <= sr.right + 0.5,
            lines: Math.round(tr.height / parseFloat(getComputedStyle(t).lineHeight || '20')),
          };
        }));
        assert.equal(stats.length, 4);
        for (const s of stats) {
          assert.ok(s.sw <= s.cw && s.sh <= s.ch + 1, `${s.label} "${s.text}" is cut (${s.sw}/${s.cw} x ${s.sh}/${s.ch})`);
          assert.ok(s.inside, `${s.label} "${s.text}" sticks out of its card`);
          assert.ok(!s.text.includes('…'), `${s.label}: ${s.text}`);
          if (s.seconds !== undefined) assert.equal(s.lines, 1, `${s.label} "${s.text}" is on one line`);
        }
        const total = stats[0];
        assert.match(total.text, /^\d+h \d+m$|^\d+m \d+s$/, total.text);
        await shot(page, `polish-activity-${kind}-390${dark ? '-dark' : ''}`);
        await page.close();
        assert.deepEqual(problems, [], problems.join('\n'));
      }
    });
  }

  test('deleting an event offers Undo, which brings back the same event; without it the event stays deleted', async () => {
    const bucket = `aw-watcher-window_${LOCAL}`;
    const enc = encodeURIComponent(bucket);
    const countBefore = await node.api('GET', `/buckets/${enc}/events/count`);
    // the table lists the newest first: its first two rows are these
    const newest = await node.api('GET', `/buckets/${enc}/events?limit=2`);
    const { page, problems } = await newPage(1440);
    await open(page, `/buckets/${bucket}`);
    await page.waitForSelector('[data-testid=events-table] tbody tr');
    const rowsBefore = await page.$$eval('[data-testid=events-table] tbody tr', (xs) => xs.length);

    // 1) delete with the keyboard, then Undo with the keyboard
    // the response, not the request: the checks below must see the deletion done
    const del1 = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.focus('[data-testid=events-table] tbody tr:first-child [data-action=delete-event]');
    await page.keyboard.press('Enter');
    const eid1 = Number((await del1).url().split('/').pop());
    assert.equal(eid1, newest[0].id, 'the first row is the newest event');
    await page.waitForSelector('[data-testid=undo-toast]');
    const toastText = await page.textContent('[data-testid=undo-toast]');
    assert.match(toastText, /Event deleted/);
    // the deletion reached the node
    const after1 = await node.api('GET', `/buckets/${enc}/events/count`);
    assert.equal(after1, countBefore - 1);
    assert.equal(await fetch(`${node.url}/api/0/buckets/${enc}/events/${eid1}`).then((r) => r.status), 404);
    // the focus is on Undo, so Enter restores
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Undo');
    await shot(page, 'polish-bucket-undo-toast-1440');
    const post = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/buckets/${enc}/events`));
    await page.keyboard.press('Enter');
    const sent = JSON.parse((await post).request().postData())[0];
    assert.equal(sent.id, eid1);
    await page.waitForSelector('[data-testid=undo-toast]', { state: 'detached' });
    const restored = await node.api('GET', `/buckets/${enc}/events/${eid1}`);
    assert.deepEqual(restored, newest[0], 'the same event is back: id, time, duration and data');
    assert.equal(await node.api('GET', `/buckets/${enc}/events/count`), countBefore);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=events-table] tbody tr').length === n, rowsBefore);
    assert.deepEqual(await node.api('GET', `/buckets/${enc}/events?limit=2`), newest, 'the bucket reads as before');

    // 2) delete with the mouse and let the toast go by itself: the event stays deleted, and
    // the focus (sent to Undo) lands on the table, not on the page
    // the response, not the request: the checks below must see the deletion done
    const del2 = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.click('[data-testid=events-table] tbody tr:nth-child(2) [data-action=delete-event]');
    const eid2 = Number((await del2).url().split('/').pop());
    assert.equal(eid2, newest[1].id);
    assert.equal(await fetch(`${node.url}/api/0/buckets/${enc}/events/${eid2}`).then((r) => r.status), 404);
    await page.mouse.move(5, 5);
    await page.waitForSelector('[data-testid=undo-toast]', { state: 'detached', timeout: 15_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'delete-event');
    await page.reload();
    await page.waitForSelector('[data-testid=events-table] tbody tr');
    assert.equal(await node.api('GET', `/buckets/${enc}/events/count`), countBefore - 1);
    assert.equal(await fetch(`${node.url}/api/0/buckets/${enc}/events/${eid2}`).then((r) => r.status), 404);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));

    // 3) on a phone, dark: Undo with the mouse, then a deletion dismissed with Escape
    const small = await newPage(390, true);
    const sp = small.page;
    await open(sp, `/buckets/${bucket}`);
    await sp.waitForSelector('[data-testid=events-table] tbody tr');
    const top = (await node.api('GET', `/buckets/${enc}/events?limit=1`))[0];
    await sp.click('[data-testid=events-table] tbody tr:first-child [data-action=delete-event]');
    await sp.waitForSelector('[data-testid=undo-toast]');
    await shot(sp, 'polish-bucket-undo-toast-390-dark');
    assert.equal(await node.api('GET', `/buckets/${enc}/events/count`), countBefore - 2);
    await sp.click('[data-testid=undo-toast] .toast-action');
    await sp.waitForSelector('[data-testid=undo-toast]', { state: 'detached' });
    assert.deepEqual(await node.api('GET', `/buckets/${enc}/events/${top.id}`), top);
    assert.equal(await node.api('GET', `/buckets/${enc}/events/count`), countBefore - 1);
    await sp.click('[data-testid=events-table] tbody tr:first-child [data-action=delete-event]');
    await sp.waitForSelector('[data-testid=undo-toast]');
    await sp.keyboard.press('Escape');
    await sp.waitForSelector('[data-testid=undo-toast]', { state: 'detached' });
    assert.equal(await fetch(`${node.url}/api/0/buckets/${enc}/events/${top.id}`).then((r) => r.status), 404);
    assert.equal(await node.api('GET', `/buckets/${enc}/events/count`), countBefore - 2);
    await sp.close();
    assert.deepEqual(small.problems, [], small.problems.join('\n'));
  });
});
