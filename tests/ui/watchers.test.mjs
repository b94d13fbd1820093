// Browser tests of the "Pause recording" section (Settings > General): against a plain
// node it says the node is not run by awnode start; against `awnode start` under Xvfb its
// toggles pause and resume the real watchers. Also the API explorer at /api/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { haveXvfb, launchBrowser, Node, screenshotPath, Supervised, watch } from './harness.mjs';

let ctx;

before(async () => {
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
});

describe('pause recording and the API explorer', () => {
  let node;
  before(async () => {
    node = new Node();
    await node.start();
  });
  after(async () => {
    await node?.stop();
  });

  test('a plain node: the section says it is not running under awnode start', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/#/settings/general`);
    await page.waitForSelector('[data-testid=watchers-card] [data-testid=watchers-unsupervised]');
    const text = await page.textContent('[data-testid=watchers-unsupervised]');
    assert.match(text, /not running under awnode start/);
    assert.equal(await page.$('[data-testid=watchers-table]'), null);
    await page.screenshot({ path: screenshotPath('18-settings-watchers-unsupervised'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the API explorer at /api/ loads without console errors or failed requests', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.goto(`${node.url}/api/`);
    // Swagger UI renders one block per operation from /api/0/openapi.json
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const doc = await node.api('GET', '/openapi.json');
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length === n, operations);
    assert.ok(await page.$('.opblock-summary-path[data-path="/api/0/watchers"]'), 'the watchers route is listed');
    await page.screenshot({ path: screenshotPath('19-api-explorer'), fullPage: false });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

describe('pause recording under awnode start', { skip: !haveXvfb() && 'Xvfb is not installed' }, () => {
  let sv;
  before(async () => {
    sv = new Supervised();
    await sv.start();
  });
  after(async () => {
    const code = await sv?.stop();
    assert.equal(code, 0, `awnode start exited with ${code}:\n${sv?.log}`);
  });

  test('the toggle pauses and resumes the real watchers', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    const row = (w) => `[data-testid=watchers-table] [data-testid=watcher-${w}]`;
    await page.goto(`${sv.url}/#/settings/general`);
    await page.waitForSelector(`${row('window')}[data-state=running]`);
    await page.waitForSelector(`${row('afk')}[data-state=running]`);

    // until resumed
    await page.selectOption('[data-testid=pause-duration-window]', 'until');
    await page.click('[data-testid=pause-toggle-window]');
    await page.waitForSelector(`${row('window')}[data-state=paused]`);
    assert.equal(await page.textContent('[data-testid=paused-until-window]'), 'until resumed');
    let ws = await sv.watchers();
    assert.equal(ws['aw-watcher-window'].state, 'paused');
    assert.equal(ws['aw-watcher-window'].paused_until, null);
    assert.equal(ws['aw-watcher-afk'].state, 'running', 'only the window watcher is paused');
    await page.screenshot({ path: screenshotPath('20-settings-watchers-paused'), fullPage: true });

    await page.click('[data-testid=pause-toggle-window]'); // Resume
    await page.waitForSelector(`${row('window')}[data-state=running]`);
    for (let i = 0; i < 50 && !(await sv.watchers())['aw-watcher-window'].pid; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await sv.watchers())['aw-watcher-window'].pid, 'the window watcher runs again');

    // 15 minutes (the default choice)
    const t0 = Date.now();
    await page.click('[data-testid=pause-toggle-afk]');
    await page.waitForSelector(`${row('afk')}[data-state=paused]`);
    assert.match(await page.textContent('[data-testid=paused-until-afk]'), /^until \d/);
    ws = await sv.watchers();
    const until = Date.parse(ws['aw-watcher-afk'].paused_until);
    assert.ok(Math.abs(until - t0 - 900_000) < 5_000, `paused until ${ws['aw-watcher-afk'].paused_until}`);
    await page.click('[data-testid=pause-toggle-afk]');
    await page.waitForSelector(`${row('afk')}[data-state=running]`);

    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
