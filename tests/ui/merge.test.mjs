// Browser tests of Raw data's "Merge into…": buckets with known events are merged through
// the page against a real node, and the node's own answers afterwards are compared with
// what was put in (every source event present in the destination with its timestamp,
// duration and data; the source kept or deleted as chosen). Run with
// `node --test merge.test.mjs` (env AWNODE_BIN, AWNODE_WEBPATH as for tests/ui/run.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AWNODE_BIN, launchBrowser, Node, screenshotPath, SyncNode, watch } from './harness.mjs';

const EARLIEST = '1678-01-01T00:00:00Z';
const OLD = 'oldhost';
const SRC = `aw-watcher-window_${OLD}`; // imported from an export file, as after a rename
const AFK = `aw-watcher-afk_${OLD}`;
const N = 2500; // more than one batch of reads and of inserts (2,000 each)
const base = Date.parse('2025-02-01T08:00:00Z');
let node, ctx, DEST;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The source's events: a minute apart, some with micro- and nanosecond times, some lasting
 * three hours (so that whatever the page boundaries are, events run across them), one
 * before 1970 (which a read without a start leaves out), unicode and nested data. */
function sourceEvents() {
  const out = [{ timestamp: '1969-07-20T20:17:40Z', duration: 60, data: { app: 'lander', title: 'one small step' } }];
  for (let i = 0; i < N; i++) {
    const t = new Date(base + i * 60_000).toISOString().replace(/\.000Z$/, i % 3 === 1 ? '.123456Z' : 'Z');
    const duration = i % 100 === 7 ? 3 * 3600 : i % 5 === 0 ? 12.345678901 : 59.5;
    const data = { app: `app${i % 7}`, title: `title ${i} — ünïcødé "quoted" \\ slash` };
    if (i % 250 === 0) data.extra = { n: i, list: [1, 'two', null] };
    out.push({ timestamp: t, duration, data });
  }
  return out;
}

const ev = (iso, min, title) => ({ timestamp: iso, duration: min * 60, data: { app: 'new', title } });
const all = (id) => node.api('GET', `/buckets/${encodeURIComponent(id)}/events?start=${EARLIEST}`);
const count = (id) => node.api('GET', `/buckets/${encodeURIComponent(id)}/events/count?start=${EARLIEST}`);
const exists = async (id) => (await node.api('GET', '/buckets/'))[id] !== undefined;
const key = (e) => JSON.stringify([Date.parse(e.timestamp), e.timestamp.replace(/^.*T/, ''), e.duration, e.data]);
/** multiset of events by (timestamp, duration, data) */
function bag(events) {
  const m = new Map();
  for (const e of events) m.set(key(e), (m.get(key(e)) || 0) + 1);
  return m;
}
function assertContains(outer, inner, what) {
  const o = bag(outer);
  let missing = 0;
  let first = null;
  for (const [k, n] of bag(inner)) {
    if ((o.get(k) || 0) < n) {
      missing += n - (o.get(k) || 0);
      first ??= k;
    }
  }
  assert.equal(missing, 0, `${what}: ${missing} events missing, e.g. ${first}`);
}

async function bucket(id, type, hostname, events) {
  await node.api('POST', `/buckets/${encodeURIComponent(id)}`, { type, client: 'merge-test', hostname });
  if (events.length) await node.api('POST', `/buckets/${encodeURIComponent(id)}/events`, events);
}

/** Put the destination back as it was (its own events only), for the next test. */
async function resetDest(events) {
  await node.api('DELETE', `/buckets/${DEST}?force=1`);
  await bucket(DEST, 'currentwindow', node.info.hostname, events.map(({ timestamp, duration, data }) => ({ timestamp, duration, data })));
  assert.equal(await count(DEST), 3);
}

async function openMerge(page, id) {
  await page.goto(`${node.url}/#/buckets`);
  const btn = `tr[data-bucket="${id}"] [data-action=merge]`;
  await page.waitForSelector(btn);
  // counts loaded: the page is settled
  await page.waitForFunction((id) => /\d/.test(document.querySelector(`tr[data-bucket="${id}"] [data-testid=count]`)?.textContent || ''), id);
  await page.focus(btn);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=merge-dialog][data-phase=choose]');
}

/** Tab until the element with `testid` has the focus (the dialog is used by keyboard). */
async function tabTo(page, testid) {
  for (let i = 0; i < 8; i++) {
    if ((await page.evaluate(() => document.activeElement?.dataset?.testid)) === testid) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${testid}`);
}

const planned = (page, n) =>
  page.waitForSelector(`[data-testid=merge-count][data-count="${n}"]`, { timeout: 30_000 });

before(async () => {
  node = new Node();
  await node.start();
  DEST = `aw-watcher-window_${node.info.hostname}`;
  const doc = { buckets: {} };
  doc.buckets[SRC] = { id: SRC, type: 'currentwindow', client: 'aw-watcher-window', hostname: OLD, created: '2025-01-01T00:00:00Z', data: {}, events: sourceEvents() };
  await node.api('POST', '/import', JSON.stringify(doc));
  // the destination overlaps the source's last hours and goes on after it
  await bucket(DEST, 'currentwindow', node.info.hostname, [
    ev('2025-02-02T22:00:00Z', 30, 'new a'), ev('2025-02-03T10:00:00Z', 30, 'new b'), ev('2025-02-10T10:00:00Z', 30, 'new c'),
  ]);
  await bucket(AFK, 'afkstatus', OLD, [{ timestamp: '2025-02-01T08:00:00Z', duration: 600, data: { status: 'not-afk' } }]);
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  await node?.stop();
});

describe('Raw data: merge buckets', () => {
  test('the setup is what the tests below rely on', async () => {
    assert.equal(await count(SRC), N + 1);
    // a read without a start leaves the 1969 event out: the merge must not read that way
    assert.equal((await node.api('GET', `/buckets/${SRC}/events`)).length, N);
    assert.equal((await node.api('GET', '/devices')).devices[0].buckets.includes(SRC), true, 'the imported bucket is this device\'s');
  });

  test('a different type is refused', async () => {
    const page = await ctx.newPage();
    const problems = watch(page);
    await openMerge(page, SRC);
    await page.selectOption('[data-testid=merge-dest]', AFK);
    await page.waitForSelector('[data-testid=merge-refused]');
    assert.match(await page.textContent('[data-testid=merge-refused]'), /currentwindow.*afkstatus/);
    assert.equal(await page.isDisabled('[data-testid=merge-next]'), true);
    assert.equal(await page.$('[data-testid=merge-plan]'), null);
    // the other types are listed apart, as not mergeable
    const groups = await page.$$eval('[data-testid=merge-dest] optgroup', (gs) => gs.map((g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.value)]));
    assert.deepEqual(groups, [['Other types (cannot be merged)', [AFK]]]);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=merge-dialog]', { state: 'detached' });
    assert.equal(await count(AFK), 1);
    assert.equal(await count(DEST), 3);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('a copy that fails midway says how many events were copied and keeps the source', async () => {
    const before = await all(DEST);
    const page = await ctx.newPage();
    const problems = watch(page, (url, status) => url.includes(`/buckets/${DEST}/events`) && (status === undefined || status === 500));
    let posts = 0;
    await page.route(`**/api/0/buckets/${DEST}/events`, async (r) => {
      if (r.request().method() !== 'POST') return r.continue();
      if (++posts === 2) return r.fulfill({ status: 500, contentType: 'application/json', body: '{"message":"disk full (test)"}' });
      return r.continue();
    });
    await openMerge(page, SRC);
    await planned(page, N + 1);
    await page.click('[data-testid=merge-next]');
    await page.click('[data-testid=merge-confirm]');
    await page.waitForSelector('[data-testid=merge-failed]', { timeout: 60_000 });
    const copied = Number(await page.getAttribute('[data-testid=merge-failed]', 'data-copied'));
    assert.equal(copied, 2000, 'one batch went through');
    const text = await page.textContent('[data-testid=merge-dialog]');
    assert.match(text, /disk full \(test\)/);
    assert.match(text, /2,000 events of 2,501/);
    assert.match(text, /was not deleted/);
    assert.equal(await page.$('[data-testid=merge-delete]'), null, 'no delete after a failed copy');
    assert.equal(await exists(SRC), true);
    const after = await all(DEST);
    assert.equal(after.length, before.length + 2000);
    // what did arrive is source events, unchanged
    assertContains(await all(SRC), after.filter((e) => e.data.app !== 'new'), 'copied part');
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
    await resetDest(before);
  });

  test('Stop ends the copy after the batch under way; the source is kept', async () => {
    const before = await all(DEST);
    const page = await ctx.newPage();
    const problems = watch(page);
    let release, posting;
    const held = new Promise((r) => (release = r));
    const posted = new Promise((r) => (posting = r));
    await page.route(`**/api/0/buckets/${DEST}/events`, async (r) => {
      if (r.request().method() === 'POST') {
        posting();
        await held;
      }
      return r.continue();
    });
    await openMerge(page, SRC);
    await planned(page, N + 1);
    await page.click('[data-testid=merge-next]');
    await page.click('[data-testid=merge-confirm]');
    await page.waitForSelector('[data-testid=merge-copying]');
    await posted; // the first batch is on its way
    // Escape does not close the dialog while copying
    await page.keyboard.press('Escape');
    assert.ok(await page.$('[data-testid=merge-dialog][data-phase=copying]'));
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'merge-stop');
    await page.keyboard.press('Enter');
    release();
    await page.waitForSelector('[data-testid=merge-failed]', { timeout: 30_000 });
    assert.equal(await page.getAttribute('[data-testid=merge-failed]', 'data-copied'), '2000');
    assert.match(await page.textContent('[data-testid=merge-dialog]'), /Stopped/);
    assert.equal(await count(SRC), N + 1);
    assert.equal(await count(DEST), before.length + 2000);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
    await resetDest(before);
  });

  test('merging by keyboard copies every event in batches; the source stays when kept', async () => {
    const src = await all(SRC);
    const destBefore = await all(DEST);
    const page = await ctx.newPage();
    const problems = watch(page);
    const batches = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith(`/buckets/${DEST}/events`)) batches.push(JSON.parse(r.postData()));
    });
    await openMerge(page, SRC);
    // the same watcher's bucket under this node's name is proposed
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'merge-dest');
    assert.equal(await page.inputValue('[data-testid=merge-dest]'), DEST);
    await planned(page, N + 1);
    assert.equal(await page.getAttribute('[data-testid=merge-overlap]', 'data-overlap'), '1');
    assert.match(await page.textContent('[data-testid=merge-overlap]'), /\d[\d,]* source events?, 1 destination event/);
    await page.screenshot({ path: screenshotPath('40-merge-dialog-1440-light') });
    await tabTo(page, 'merge-next');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=merge-dialog][data-phase=confirm]');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'merge-confirm');
    assert.match(await page.textContent('[data-testid=merge-confirm-text]'), /2,501 events/);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=merge-done]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('[data-testid=merge-done]', 'data-copied'), String(N + 1));
    await page.screenshot({ path: screenshotPath('41-merge-done-1440-light') });

    // batches: none larger than 2,000, none carrying the source's ids
    assert.ok(batches.length >= 2, `${batches.length} batches`);
    assert.ok(batches.every((b) => b.length > 0 && b.length <= 2000), batches.map((b) => b.length).join());
    assert.ok(batches.flat().every((e) => !('id' in e)), 'ids are not sent');
    // the destination holds both: every source event (timestamp, duration, data) and its own
    const dest = await all(DEST);
    assert.equal(dest.length, src.length + destBefore.length);
    assertContains(dest, src, 'source in destination');
    assertContains(dest, destBefore, 'destination\'s own');
    // the long events that ran across read pages came through whole
    assert.equal(dest.filter((e) => e.duration === 3 * 3600).length, src.filter((e) => e.duration === 3 * 3600).length);
    assert.ok(dest.some((e) => e.timestamp.startsWith('1969-07-20')), 'the 1969 event');

    // keep the source: the focus starts on Keep, Delete is one Tab further
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'merge-keep');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'merge-delete');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=merge-dialog]', { state: 'detached' });
    assert.equal(await exists(SRC), true);
    assert.equal(await count(SRC), N + 1);
    // the page's counts follow (they count from 1970, as the node does without a start)
    await page.waitForFunction(([id, n]) => document.querySelector(`tr[data-bucket="${id}"] [data-testid=count]`)?.textContent === n,
      [DEST, (N + 3).toLocaleString('en-US')]);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('deleting the source after the copy, at 390 px in the dark theme', async () => {
    const id = `aw-watcher-afk_${node.info.hostname}`;
    await bucket(id, 'afkstatus', node.info.hostname, [{ timestamp: '2025-03-01T08:00:00Z', duration: 60, data: { status: 'afk' } }]);
    const src = await all(AFK);
    await node.api('POST', '/settings/theme', JSON.stringify('dark'));
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await openMerge(page, AFK);
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assert.equal(await page.inputValue('[data-testid=merge-dest]'), id);
    await planned(page, 1);
    assert.equal(await page.getAttribute('[data-testid=merge-overlap]', 'data-overlap'), '0');
    const overflow = await page.evaluate(() => {
      const m = document.querySelector('.modal');
      return Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, m.scrollWidth - m.clientWidth);
    });
    assert.ok(overflow <= 0, `the dialog is ${overflow} px too wide at 390 px`);
    await page.screenshot({ path: screenshotPath('42-merge-dialog-390-dark') });
    await page.click('[data-testid=merge-next]');
    await page.click('[data-testid=merge-confirm]');
    await page.waitForSelector('[data-testid=merge-delete]');
    await page.screenshot({ path: screenshotPath('43-merge-delete-390-dark') });
    await page.click('[data-testid=merge-delete]');
    await page.waitForSelector('[data-testid=merge-dialog]', { state: 'detached' });
    await page.waitForSelector(`tr[data-bucket="${AFK}"]`, { state: 'detached' });
    assert.equal(await exists(AFK), false);
    const dest = await all(id);
    assert.equal(dest.length, 2);
    assertContains(dest, src, 'afk source in destination');
    await node.api('POST', '/settings/theme', JSON.stringify('light'));
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('buckets the devices answer gives to another device offer no merge and are never a destination', async () => {
    // a third bucket of the same type, which GET /api/0/devices says another device owns
    const theirs = 'aw-watcher-window_elsewhere';
    await bucket(theirs, 'currentwindow', 'elsewhere', [ev('2025-04-01T10:00:00Z', 5, 'theirs')]);
    const real = await node.api('GET', '/devices');
    const fake = JSON.parse(JSON.stringify(real));
    fake.devices[0].buckets = fake.devices[0].buckets.filter((b) => b !== theirs);
    fake.devices[0].hostnames = fake.devices[0].hostnames.filter((h) => h !== 'elsewhere');
    fake.devices = fake.devices.filter((d) => !d.buckets.includes(theirs));
    fake.devices.push({ device_id: '0d15ea5e-0000-4000-8000-000000000000', this_device: false, hostname: 'elsewhere', hostnames: ['elsewhere'], buckets: [theirs], last_seen: null });
    const page = await ctx.newPage();
    const problems = watch(page);
    await page.route('**/api/0/devices', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fake) }));
    await openMerge(page, SRC);
    assert.equal(await page.getAttribute(`tr[data-bucket="${theirs}"]`, 'data-remote'), '1');
    assert.equal(await page.$(`tr[data-bucket="${theirs}"] [data-action=merge]`), null);
    const options = await page.$$eval('[data-testid=merge-dest] option', (os) => os.map((o) => o.value));
    assert.ok(options.includes(DEST), options.join());
    assert.ok(!options.includes(theirs), `a remote bucket offered as destination: ${options.join()}`);
    // every local bucket row does offer it
    const rows = await page.$$eval('tr[data-bucket]', (rs) => rs.map((r) => [r.dataset.bucket, r.dataset.remote, !!r.querySelector('[data-action=merge]')]));
    for (const [id, remote, merge] of rows) assert.equal(merge, remote === '0', id);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

// ---- a real remote bucket: another node's, brought here by `awnode sync` ----------------

const PASSPHRASE = 'merge test passphrase, long enough to pass';
const KDF = ['--kdf-ops', '1', '--kdf-mem', '8']; // fast key derivation for tests
const allowSync = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);


describe('Raw data: merge and synced buckets', () => {
  let tmp, A, B;
  const THEIRS = 'aw-watcher-window_far-away';
  before(async () => {
    tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'awnode-ui-merge-'));
    const remote = path.join(tmp, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', remote]);
    B = new SyncNode('far-away', PASSPHRASE);
    await B.start();
    await B.api('POST', `/buckets/${THEIRS}`, { type: 'currentwindow', client: 'merge-test', hostname: 'far-away' });
    await B.api('POST', `/buckets/${THEIRS}/events`, [ev('2025-05-01T10:00:00Z', 5, 'theirs')]);
    await B.halt();
    await B.sync('init', '--remote', remote, ...KDF);
    await B.sync('run');
    A = new SyncNode('', PASSPHRASE);
    await A.start();
    A.host = A.info.hostname;
    for (const h of [A.host, `${A.host}-old`]) {
      await A.api('POST', `/buckets/aw-watcher-window_${h}`, { type: 'currentwindow', client: 'merge-test', hostname: h });
      await A.api('POST', `/buckets/aw-watcher-window_${h}/events`, [ev(h === A.host ? '2025-05-02T10:00:00Z' : '2025-04-02T10:00:00Z', 5, h)]);
    }
    await A.sync('join', remote);
    await A.sync('run');
  });
  after(async () => {
    for (const n of [A, B]) await n?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a synced bucket offers no merge, is never a destination, and the node refuses writes to it', async () => {
    const d = await A.api('GET', '/devices');
    const other = d.devices.find((x) => !x.this_device && x.buckets.includes(THEIRS));
    assert.ok(other, `the sync round brought ${THEIRS}: ${JSON.stringify(d)}`);
    await assert.rejects(A.api('POST', `/buckets/${THEIRS}/events`, [ev('2025-05-03T10:00:00Z', 1, 'x')]), /403/);
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await page.goto(`${A.url}/#/buckets`);
    await page.waitForSelector(`tr[data-bucket="${THEIRS}"][data-remote="1"]`);
    assert.equal(await page.$(`tr[data-bucket="${THEIRS}"] [data-action=merge]`), null);
    const src = `aw-watcher-window_${A.host}-old`;
    await page.focus(`tr[data-bucket="${src}"] [data-action=merge]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=merge-dialog]');
    const options = await page.$$eval('[data-testid=merge-dest] option', (os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual(options, [`aw-watcher-window_${A.host}`]);
    // and this device's merge works alongside
    await page.waitForSelector('[data-testid=merge-count][data-count="1"]');
    await page.click('[data-testid=merge-next]');
    await page.click('[data-testid=merge-confirm]');
    await page.click('[data-testid=merge-delete]');
    await page.waitForSelector(`tr[data-bucket="${src}"]`, { state: 'detached' });
    const dest = await A.api('GET', `/buckets/aw-watcher-window_${A.host}/events`);
    assert.deepEqual(dest.map((e) => e.data.title).sort(), [A.host, `${A.host}-old`].sort());
    assert.equal((await A.api('GET', `/buckets/${THEIRS}/events/count`)), 1);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
