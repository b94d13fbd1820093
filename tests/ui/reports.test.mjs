// The Reports page against a real node. Run with tests/ui/run.sh.
// The expected figures come from the node itself through queries written here (window
// time intersected with not-AFK time, titles picked with filter_keyvals_regex), not from
// the page's own query, so a wrong query shape, day boundary or rounding on the page fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launchBrowser, Node, screenshotPath, watch, eventually } from './harness.mjs';

const HOST = 'desk';
const WIN = `aw-watcher-window_${HOST}`;
const AFK = `aw-watcher-afk_${HOST}`;
// the generated data covers Jan 6-12, 2025; the hand-made ClientX day is Jan 14
const DAYS = [6, 7, 8, 9, 10, 11, 12, 13, 14].map((d) => ({
  date: `2025-01-${String(d).padStart(2, '0')}`,
  // the default start of day, 04:00 local
  start: new Date(2025, 0, d, 4, 0),
  end: new Date(2025, 0, d + 1, 4, 0),
}));
const PROJECTS = [
  { name: 'ClientX', regex: 'ClientX' },
  { name: 'Acme, "Big" Client', regex: 'Acme' },
  { name: 'GitHub', regex: '^GitHub' },
];
// ClientX: 90 minutes of window time of which the first 70 are not AFK
const CLIENTX_SECONDS = 70 * 60;
const RATE = 90;

let node, ctx, expectedRaw;
before(async () => {
  node = new Node();
  await node.start();
  await node.seed(HOST, 7, 3);
  const at = (h, m) => new Date(2025, 0, 14, h, m).toISOString();
  await node.api('POST', `/buckets/${WIN}/events`, [
    { timestamp: at(9, 0), duration: 3600, data: { app: 'Writer', title: 'ClientX spec - Writer' } },
    { timestamp: at(10, 0), duration: 1800, data: { app: 'Writer', title: 'ClientX review - Writer' } },
  ]);
  await node.api('POST', `/buckets/${AFK}/events`, [
    { timestamp: at(9, 0), duration: 4200, data: { status: 'not-afk' } },
    { timestamp: at(10, 10), duration: 3000, data: { status: 'afk' } },
  ]);
  // per day and project: seconds of not-AFK window time whose title matches
  const lines = [
    `w = flood(query_bucket("${WIN}"));`,
    `a = flood(query_bucket("${AFK}"));`,
    'a = filter_keyvals(a, "status", ["not-afk"]);',
    'w = filter_period_intersect(w, a);',
    'RETURN = [' + PROJECTS.map((p) => `sum_durations(filter_keyvals_regex(w, "title", "${p.regex}"))`).join(', ') + '];',
  ];
  expectedRaw = await node.query(DAYS.map((d) => `${d.start.toISOString()}/${d.end.toISOString()}`), lines);
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

const roundUp = (s, inc) => (inc && s > 0 ? Math.ceil((s - 0.001) / inc) * inc : s);
function expectedTable(inc) {
  const cells = expectedRaw.map((row) => row.map((s) => roundUp(s, inc)));
  const rowTotals = cells.map((r) => r.reduce((a, b) => a + b, 0));
  const colTotals = PROJECTS.map((_, j) => cells.reduce((a, r) => a + r[j], 0));
  const total = colTotals.reduce((a, b) => a + b, 0);
  return { cells, rowTotals, colTotals, total, amount: (total / 3600) * RATE };
}

async function readTable(page) {
  return page.evaluate(() => {
    const t = document.querySelector('[data-testid=report-table]');
    if (!t) return null;
    const secs = (tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.dataset.seconds));
    const rows = [...t.querySelectorAll('tbody tr')];
    const foot = secs(t.querySelector('[data-testid=report-col-totals]'));
    return {
      columns: [...t.querySelectorAll('thead th')].slice(1, -1).map((th) => th.textContent),
      dates: rows.map((r) => r.dataset.date),
      cells: rows.map((r) => secs(r).slice(0, -1)),
      rowTotals: rows.map((r) => secs(r).at(-1)),
      colTotals: foot.slice(0, -1),
      total: foot.at(-1),
      amount: Number(t.querySelector('[data-testid=report-amount]').dataset.amount),
      amountText: t.querySelector('[data-testid=report-amount]').textContent,
      clientxText: t.querySelector('tr[data-date="2025-01-14"] td').textContent,
    };
  });
}

const close = (a, b, eps = 0.01) => Math.abs(a - b) <= eps;
function assertTable(got, want, label) {
  assert.ok(got, `${label}: no table`);
  assert.deepEqual(got.columns, PROJECTS.map((p) => p.name), label);
  assert.deepEqual(got.dates, DAYS.map((d) => d.date), label);
  got.cells.forEach((r, i) => r.forEach((s, j) => assert.ok(close(s, want.cells[i][j]), `${label}: ${DAYS[i].date} ${PROJECTS[j].name}: ${s} != ${want.cells[i][j]}`)));
  got.rowTotals.forEach((s, i) => assert.ok(close(s, want.rowTotals[i]), `${label}: row total ${DAYS[i].date}: ${s} != ${want.rowTotals[i]}`));
  got.colTotals.forEach((s, j) => assert.ok(close(s, want.colTotals[j]), `${label}: column total ${PROJECTS[j].name}: ${s} != ${want.colTotals[j]}`));
  assert.ok(close(got.total, want.total), `${label}: total ${got.total} != ${want.total}`);
  assert.ok(close(got.amount, want.amount, 0.001), `${label}: amount ${got.amount} != ${want.amount}`);
}


test('the Reports page is reachable from the navigation', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/activity`);
  await page.click('[data-nav=reports]');
  await page.waitForSelector('[data-testid=reports-page] h1');
  assert.equal(await page.textContent('[data-testid=reports-page] h1'), 'Reports');
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('a project report: cells, totals, rounding, amounts, CSV, saving, print and layout', async () => {
  // the hand-made day is what the regex rows must find exactly
  assert.ok(close(expectedRaw[8][0], CLIENTX_SECONDS, 0.001), `independent ClientX time ${expectedRaw[8][0]}`);
  assert.ok(expectedRaw.slice(0, 7).every((r) => r[1] > 0 && r[2] > 0), 'the generated days have Acme and GitHub time');

  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/reports`);
  await page.waitForSelector('[data-testid=report-controls]');
  await page.fill('[data-testid=report-name]', 'Acme invoice');
  await page.click('[data-testid=report-range] [data-value=custom]');
  await page.fill('[data-testid=report-from]', '2025-01-06');
  await page.fill('[data-testid=report-to]', '2025-01-14');
  for (let i = 0; i < PROJECTS.length; i++) {
    if (i > 0) await page.click('[data-testid=report-add-project]');
    await page.fill(`[data-row="${i}"] [data-field=name]`, PROJECTS[i].name);
    await page.fill(`[data-row="${i}"] [data-field=regex]`, PROJECTS[i].regex);
    await page.press(`[data-row="${i}"] [data-field=regex]`, 'Tab');
  }
  await page.fill('[data-testid=report-rate]', String(RATE));
  await page.fill('[data-testid=report-currency]', 'EUR');

  // no rounding: the exact active time
  await eventually(async () => assertTable(await readTable(page), expectedTable(0), 'none'));
  let got = await readTable(page);
  assert.equal(got.clientxText, '1:10');
  assert.ok(close(got.cells[8][0], 4200, 0.001));
  assert.match(await page.textContent('[data-testid=report-rounding-text]'), /not rounded/);

  // 6 minutes: 70 min rounds up to 72; 15 minutes: to 75; each cell on its own
  await page.click('[data-testid=report-rounding] [data-value="6"]');
  await eventually(async () => assertTable(await readTable(page), expectedTable(360), '6 min'));
  got = await readTable(page);
  assert.equal(got.cells[8][0], 72 * 60);
  assert.equal(got.clientxText, '1:12');
  assert.match(await page.textContent('[data-testid=report-rounding-text]'), /rounded up to the next 6 minutes/);
  await page.click('[data-testid=report-rounding] [data-value="15"]');
  await eventually(async () => assertTable(await readTable(page), expectedTable(900), '15 min'));
  got = await readTable(page);
  assert.equal(got.cells[8][0], 75 * 60);
  // every rounded cell is a whole number of quarter hours, so the total is too
  assert.equal(got.total % 900, 0);
  const want15 = expectedTable(900);
  assert.equal(got.amountText, `${((want15.total / 3600) * RATE).toFixed(2)} EUR`);
  // ClientX alone: 1.25 h at 90 EUR
  assert.equal(await page.textContent('[data-testid=report-amounts] td:first-of-type'), '112.50');

  // CSV: a line per non-empty day×project cell, then the total; RFC 4180 quoting
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-csv]')]);
  assert.match(dl.suggestedFilename(), /^Acme_invoice-2025-01-06-2025-01-14\.csv$/);
  const csv = fs.readFileSync(await dl.path(), 'utf8');
  const lines = csv.split('\r\n');
  assert.equal(lines.at(-1), '', 'ends with CRLF');
  assert.equal(lines[0], 'date,item,seconds,hours,rate,amount,currency');
  assert.ok(lines.includes('2025-01-14,ClientX,4500,1.2500,90,112.50,EUR'), csv);
  const acme = lines.filter((l) => l.startsWith('2025-01-06,"Acme, ""Big"" Client",'));
  assert.equal(acme.length, 1, csv);
  assert.equal(Number(acme[0].split(',')[3]), want15.cells[0][1]);
  const nonEmpty = want15.cells.flat().filter((s) => s > 0).length;
  assert.equal(lines.length, 1 + nonEmpty + 1 + 1);
  assert.equal(lines.at(-2), `total,,${want15.total},${(want15.total / 3600).toFixed(4)},90,${want15.amount.toFixed(2)},EUR`);

  // keyboard: Tab from the name reaches Save
  await page.focus('[data-testid=report-name]');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'report-save');

  // saving stores the definition in the settings and names it in the URL
  await page.click('[data-testid=report-save]');
  await page.waitForFunction(() => location.hash === '#/reports/Acme%20invoice');
  let stored = (await node.api('GET', '/settings'))['awnode.reports'];
  assert.equal(stored.length, 1);
  assert.deepEqual(
    { ...stored[0] },
    { name: 'Acme invoice', range: 'custom', from: '2025-01-06', to: '2025-01-14', devices: [], mode: 'projects', categories: [], projects: PROJECTS, rounding: '15', rate: 90, currency: 'EUR' },
  );

  // a reload restores it from the URL
  await page.reload();
  await page.waitForSelector('[data-testid=report-table]');
  assert.equal(await page.inputValue('[data-testid=report-name]'), 'Acme invoice');
  assert.equal(await page.inputValue('[data-row="1"] [data-field=name]'), 'Acme, "Big" Client');
  assert.equal(await page.getAttribute('[data-testid=report-rounding] [data-value="15"]', 'aria-selected'), 'true');
  await eventually(async () => assertTable(await readTable(page), want15, 'reloaded'));

  // print: the report without navigation or controls
  await page.emulateMedia({ media: 'print' });
  for (const sel of ['.sidebar', '[data-testid=report-controls]', '[data-testid=report-csv]', '[data-testid=report-saved]']) {
    assert.equal(await page.isVisible(sel), false, `${sel} is hidden in print`);
  }
  assert.equal(await page.isVisible('[data-testid=report-table]'), true);
  assert.match(await page.textContent('[data-testid=report-heading]'), /Acme invoice/);
  // dark ink on white paper even in the dark theme
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
  const ink = await page.evaluate(() => {
    const c = (sel) => getComputedStyle(document.querySelector(sel)).color;
    return [c('[data-testid=report-table] tbody th'), c('[data-testid=report-table] td'), c('[data-testid=reports-page] h1')];
  });
  assert.deepEqual(ink, ['rgb(0, 0, 0)', 'rgb(0, 0, 0)', 'rgb(0, 0, 0)']);
  await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 1000);
  await page.emulateMedia({ media: 'screen' });

  // screenshots, light and dark, desktop and phone width
  await page.screenshot({ path: screenshotPath('reports-1440'), fullPage: true });
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
  await page.screenshot({ path: screenshotPath('reports-1440-dark'), fullPage: true });
  await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));
  await page.setViewportSize({ width: 390, height: 844 });
  // nothing wider than the phone screen except the table, which scrolls in its own box
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `page is ${overflow}px wide at 390`);
  assert.equal(await page.isVisible('[data-testid=report-save]'), true);
  await page.screenshot({ path: screenshotPath('reports-390'), fullPage: true });
  await page.setViewportSize({ width: 1440, height: 1000 });

  // rename, then delete
  await page.fill('[data-testid=report-name]', 'Acme Q1');
  await page.click('[data-testid=report-save]');
  await page.waitForFunction(() => location.hash === '#/reports/Acme%20Q1');
  stored = (await node.api('GET', '/settings'))['awnode.reports'];
  assert.deepEqual(stored.map((r) => r.name), ['Acme Q1']);
  page.once('dialog', (d) => d.accept());
  await page.click('[data-testid=report-delete]');
  await page.waitForFunction(() => location.hash === '#/reports');
  stored = (await node.api('GET', '/settings'))['awnode.reports'];
  assert.deepEqual(stored, []);

  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('a category report counts each moment once, in the deepest picked category', async () => {
  const rulesOf = (classes) => classes.filter((c) => c.rule?.type === 'regex' && c.rule.regex).map((c) => [c.name, c.rule]);
  // the default categories (nothing saved in `classes` yet), as the page's categories.ts has them
  const classes = [
    [['Work'], 'Google Docs|libreoffice|ReText'],
    [['Work', 'Programming'], 'GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite'],
    [['Comms', 'IM'], 'Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Element|Discord|Nheko|NeoChat|Mattermost'],
    [['Comms', 'Email'], 'Gmail|Thunderbird|mutt|alpine'],
  ].map(([name, regex]) => ({ name, rule: { type: 'regex', regex } }));
  await node.api('POST', '/settings/classes', classes);
  const lines = [
    `w = flood(query_bucket("${WIN}"));`,
    `a = flood(query_bucket("${AFK}"));`,
    'a = filter_keyvals(a, "status", ["not-afk"]);',
    'w = filter_period_intersect(w, a);',
    `w = categorize(w, ${JSON.stringify(rulesOf(classes))});`,
    'RETURN = merge_events_by_keys(w, ["$category"]);',
  ];
  const per = await node.query(DAYS.map((d) => `${d.start.toISOString()}/${d.end.toISOString()}`), lines);
  // columns: Comms (IM and Email), Work > Programming
  const want = per.map((evs) => [
    evs.filter((e) => e.data.$category[0] === 'Comms').reduce((s, e) => s + e.duration, 0),
    evs.filter((e) => e.data.$category[0] === 'Work' && e.data.$category[1] === 'Programming').reduce((s, e) => s + e.duration, 0),
  ]);
  assert.ok(want[0][0] > 0 && want[0][1] > 0);

  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/reports`);
  await page.waitForSelector('[data-testid=report-controls]');
  await page.click('[data-testid=report-range] [data-value=custom]');
  await page.fill('[data-testid=report-from]', '2025-01-06');
  await page.fill('[data-testid=report-to]', '2025-01-14');
  await page.click('[data-testid=report-mode] [data-value=categories]');
  await page.check('[data-category="Comms"]');
  await page.check('[data-category="Work > Programming"]');
  await eventually(async () => {
    const t = await readTable(page);
    assert.deepEqual(t.columns, ['Comms', 'Work > Programming']);
    t.cells.forEach((r, i) => r.forEach((s, j) => assert.ok(close(s, want[i][j]), `${DAYS[i].date} col ${j}: ${s} != ${want[i][j]}`)));
    const total = want.flat().reduce((a, b) => a + b, 0);
    assert.ok(close(t.total, total), `${t.total} != ${total}`);
  });
  // Comms > IM picked as well: its time leaves the Comms column (which keeps Email)
  await page.check('[data-category="Comms > IM"]');
  await eventually(async () => {
    const t = await readTable(page);
    assert.deepEqual(t.columns, ['Comms', 'Work > Programming', 'Comms > IM']);
    per.forEach((evs, i) => {
      const of = (path) => evs.filter((e) => path.every((n, k) => e.data.$category[k] === n)).reduce((s, e) => s + e.duration, 0);
      const email = of(['Comms', 'Email']);
      assert.ok(email > 0 || i >= 7);
      assert.ok(close(t.cells[i][0], email), `${DAYS[i].date} Comms: ${t.cells[i][0]} != ${email}`);
      assert.ok(close(t.cells[i][2], of(['Comms', 'IM'])), `${DAYS[i].date} IM`);
      assert.ok(close(t.rowTotals[i], want[i][0] + want[i][1]), `${DAYS[i].date} row total`);
    });
  });
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('devices: one device reports its own time, all devices each moment once', async () => {
  await node.seed('laptop', 7, 5);
  const perHost = async (host) => {
    const lines = [
      `w = flood(query_bucket("aw-watcher-window_${host}"));`,
      `a = flood(query_bucket("aw-watcher-afk_${host}"));`,
      'a = filter_keyvals(a, "status", ["not-afk"]);',
      'w = filter_period_intersect(w, a);',
      'RETURN = [' + PROJECTS.map((p) => `sum_durations(filter_keyvals_regex(w, "title", "${p.regex}"))`).join(', ') + '];',
    ];
    return node.query(DAYS.map((d) => `${d.start.toISOString()}/${d.end.toISOString()}`), lines);
  };
  const desk = await perHost(HOST);
  const laptop = await perHost('laptop');
  const sum = (t) => t.flat().reduce((a, b) => a + b, 0);

  const page = await ctx.newPage();
  const problems = watch(page);
  // a name that is not saved opens an empty report and says so
  await page.goto(`${node.url}/#/reports/No%20such%20report`);
  await page.waitForSelector('[data-testid=report-missing]');
  await page.click('[data-testid=report-range] [data-value=custom]');
  await page.fill('[data-testid=report-from]', '2025-01-06');
  await page.fill('[data-testid=report-to]', '2025-01-14');
  for (let i = 0; i < PROJECTS.length; i++) {
    if (i > 0) await page.click('[data-testid=report-add-project]');
    await page.fill(`[data-row="${i}"] [data-field=name]`, PROJECTS[i].name);
    await page.fill(`[data-row="${i}"] [data-field=regex]`, PROJECTS[i].regex);
    await page.press(`[data-row="${i}"] [data-field=regex]`, 'Tab');
  }
  const cellsMatch = (t, want, label) =>
    t.cells.forEach((r, i) => r.forEach((s, j) => assert.ok(close(s, want[i][j]), `${label} ${DAYS[i].date} ${PROJECTS[j].name}: ${s} != ${want[i][j]}`)));

  await page.check('[data-testid=report-devices] [data-host=laptop]');
  await eventually(async () => cellsMatch(await readTable(page), laptop, 'laptop'));
  assert.match(await page.textContent('[data-testid=report-heading]'), /laptop/);
  await page.uncheck('[data-testid=report-devices] [data-host=laptop]');
  await page.check('[data-testid=report-devices] [data-host=desk]');
  await eventually(async () => cellsMatch(await readTable(page), desk, 'desk'));

  // all devices: the overlapping time counts once, so no cell exceeds the two devices' sum,
  // and the laptop's time is in
  await page.check('[data-testid=report-devices] >> text=All devices');
  await eventually(async () => {
    const t = await readTable(page);
    assert.match(await page.textContent('[data-testid=report-heading]'), /all devices/);
    t.cells.forEach((r, i) => r.forEach((s, j) => assert.ok(s <= desk[i][j] + laptop[i][j] + 0.01, `${DAYS[i].date} ${PROJECTS[j].name}`)));
    assert.ok(t.total > sum(desk) + 1, `all devices ${t.total} vs desk ${sum(desk)}`);
  });
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('overlapping project rows: a title counts for the first row that matches; ignore case', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/reports`);
  await page.waitForSelector('[data-testid=report-controls]');
  await page.click('[data-testid=report-range] [data-value=custom]');
  await page.fill('[data-testid=report-from]', '2025-01-14');
  await page.fill('[data-testid=report-to]', '2025-01-14');
  await page.check(`[data-testid=report-devices] [data-host=${HOST}]`);
  const rows = async (ps) => {
    for (let i = 0; i < ps.length; i++) {
      if (i > 0 && !(await page.isVisible(`[data-row="${i}"]`))) await page.click('[data-testid=report-add-project]');
      await page.fill(`[data-row="${i}"] [data-field=name]`, ps[i].name);
      await page.fill(`[data-row="${i}"] [data-field=regex]`, ps[i].regex);
      await page.press(`[data-row="${i}"] [data-field=regex]`, 'Tab');
      await page.setChecked(`[data-row="${i}"] [data-field=ignore_case]`, !!ps[i].ignore_case);
    }
  };
  const cells = async (want) =>
    eventually(async () => {
      const t = await readTable(page);
      assert.deepEqual(t.columns, want.map(([n]) => n));
      assert.deepEqual(t.cells[0], want.map(([, s]) => s));
    });
  // "ClientX spec" (60 min, all of it not AFK) matches both rows
  await rows([{ name: 'ClientX', regex: 'ClientX' }, { name: 'Spec', regex: 'spec' }]);
  await cells([['ClientX', 4200], ['Spec', 0]]);
  await rows([{ name: 'Spec', regex: 'spec' }, { name: 'ClientX', regex: 'ClientX' }]);
  await cells([['Spec', 3600], ['ClientX', 600]]);
  // case: without ignore case "clientx" matches nothing
  await rows([{ name: 'Spec', regex: 'SPEC' }, { name: 'clientx', regex: 'clientx', ignore_case: true }]);
  await cells([['Spec', 0], ['clientx', 4200]]);
  await page.setChecked('[data-row="0"] [data-field=ignore_case]', true);
  await cells([['Spec', 3600], ['clientx', 600]]);
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});
