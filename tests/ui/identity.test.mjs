// Device identity and settings origins in the web UI, against real nodes that sync through
// a bare git repository with `awnode sync` (docs/sync.md): what the Raw data, Sync and
// Settings pages show is read from the page and compared with the node's own answers
// (GET /api/0/devices, GET /api/0/settings-history). Run with tests/ui/run.sh.
//
// The devices: "desk", a machine renamed from "desktop-old" (buckets under both names);
// a second machine also called "desk"; and this node, which also holds an export file of
// "work-laptop" imported by hand (whose buckets still carry sync marks from elsewhere:
// they are this device's all the same, and deletable). This node was renamed too: it ran
// as "<name>-before" first, and its buckets under that name are its own history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AWNODE_BIN, launchBrowser, Node, screenshotPath, SyncNode, watch } from './harness.mjs';

const PASSPHRASE = 'a long test passphrase: correct horse battery staple';
const KDF = ['--kdf-ops', '1', '--kdf-mem', '8']; // fast key derivation for tests
const allowSync = (url, status) => /\/api\/0\/sync\/status/.test(url) && (status === undefined || status === 404);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class IdNode extends SyncNode {
  constructor(host) {
    super(host, PASSPHRASE);
  }
  async bucket(id, hostname, type, events) {
    await this.api('POST', `/buckets/${id}`, { type, client: 'identity-test', hostname });
    await this.api('POST', `/buckets/${id}/events`, events);
  }
}

const ev = (ts, title) => ({ timestamp: ts, duration: 60, data: { app: 'editor', title } });

let tmp, remote, A, B, C, ctx;

before(async () => {
  tmp = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'awnode-ui-id-'));
  remote = path.join(tmp, 'remote.git');
  execFileSync('git', ['init', '-q', '--bare', remote]);

  // "desk": renamed from desktop-old; it changes the start of week
  B = new IdNode('desk');
  await B.start();
  await B.bucket('aw-watcher-window_desktop-old', 'desktop-old', 'currentwindow', [ev('2025-01-10T10:00:00Z', 'old name')]);
  await B.bucket('aw-watcher-window_desk', 'desk', 'currentwindow', [ev('2025-02-01T10:00:00Z', 'new name')]);
  await B.api('POST', '/settings/startOfWeek', '"Sunday"');
  await B.halt();
  await B.sync('init', '--remote', remote, ...KDF);
  await B.sync('run');

  // another machine also called "desk"
  C = new IdNode('desk');
  await C.start();
  await C.bucket('aw-watcher-afk_desk', 'desk', 'afkstatus', [{ timestamp: '2025-02-02T09:00:00Z', duration: 600, data: { status: 'not-afk' } }]);
  await C.halt();
  await C.sync('join', remote);
  await C.sync('run');

  // this node: a bucket from when it had another name, its own bucket, an imported export
  // of another host, two start-of-day changes
  A = new IdNode('');
  await A.start();
  A.host = A.info.hostname;
  A.formerHost = `${A.host}-before`;
  await A.halt();
  A.args = ['--hostname', A.formerHost];
  await A.start();
  await A.bucket(`aw-watcher-window_${A.formerHost}`, A.formerHost, 'currentwindow', [ev('2025-02-05T10:00:00Z', 'before')]);
  await A.halt();
  A.args = [];
  await A.start();
  await A.bucket(`aw-watcher-window_${A.host}`, A.host, 'currentwindow', [ev('2025-02-03T10:00:00Z', 'here')]);
  const mark = { '$aw.sync.origin': 'work-laptop', '$aw.sync.device_id': 'some-other-device' };
  const doc = { buckets: {} };
  for (const [id, type] of [['aw-watcher-window_work-laptop', 'currentwindow'], ['aw-watcher-afk_work-laptop', 'afkstatus']]) {
    doc.buckets[id] = { id, type, client: 'aw-watcher', hostname: 'work-laptop', created: '2025-01-01T00:00:00Z', data: mark,
      events: [{ timestamp: '2025-01-20T10:00:00Z', duration: 30, data: type === 'afkstatus' ? { status: 'afk' } : { app: 'x', title: 'y' } }] };
  }
  await A.api('POST', '/import', JSON.stringify(doc));
  await A.api('POST', '/settings/startOfDay', '"05:00"');
  await A.api('POST', '/settings/startOfDay', '"06:00"');
  await A.sync('join', remote);
  await A.sync('run');
  ctx = await launchBrowser();
});

after(async () => {
  await ctx?.close();
  for (const n of [A, B, C]) await n?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const open = (page, hash) => page.goto(`${A.url}/#${hash}`);

/** The devices that own buckets, as the node says (this device first). */
async function owners() {
  const d = await A.api('GET', '/devices');
  return { ...d, withBuckets: d.devices.filter((x) => x.buckets.length) };
}

describe('device identity', () => {
  test('the sync round created the situation this file is about', async () => {
    const d = await owners();
    assert.equal(d.devices[0].device_id, d.this_device);
    assert.equal(d.withBuckets.length, 3, JSON.stringify(d));
    const desks = d.devices.filter((x) => x.hostname === 'desk');
    assert.equal(desks.length, 2, 'two devices named desk');
    assert.ok(desks.some((x) => x.hostnames.join() === 'desk,desktop-old'), JSON.stringify(desks));
    assert.ok(d.devices[0].buckets.includes('aw-watcher-window_work-laptop'), 'the imported export is this device\'s');
  });

  test('Raw data groups buckets by device id, names former names, tells same-name devices apart, offers delete for exactly this device\'s buckets', async () => {
    const d = await owners();
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/buckets');
    await page.waitForSelector('[data-testid=buckets-page] .dev-title[data-device-id]');
    await page.waitForFunction((n) => document.querySelectorAll('.dev-title[data-device-id]').length === n, d.withBuckets.length);
    const cards = await page.$$eval('[data-testid=buckets-page] section.card', (cs) => cs.filter((c) => c.querySelector('.dev-title')).map((c) => {
      const t = c.querySelector('.dev-title');
      return {
        id: t.dataset.deviceId,
        self: t.dataset.thisDevice === '1',
        name: t.querySelector('[data-testid=device-name] strong').textContent,
        former: t.querySelector('[data-testid=former-names]')?.textContent.trim() || '',
        badge: t.querySelector('.badge').textContent.trim(),
        rows: [...c.querySelectorAll('tr[data-bucket]')].map((r) => ({ id: r.dataset.bucket, remote: r.dataset.remote, del: !!r.querySelector('[data-action=delete]') })),
      };
    }));
    // the same devices in the same order, each with the buckets the node says it owns
    assert.deepEqual(cards.map((c) => c.id), d.withBuckets.map((x) => x.device_id));
    for (const [i, c] of cards.entries()) {
      const o = d.withBuckets[i];
      assert.deepEqual(c.rows.map((r) => r.id).sort(), [...o.buckets].sort(), c.name);
      assert.equal(c.self, o.this_device);
      assert.equal(c.badge.includes('this device'), o.this_device, c.badge);
      assert.ok(c.name.startsWith(o.hostname), `${c.name} vs ${o.hostname}`);
      // another device's other names are its former names; this device's are its own
      // earlier names (node_hostnames) and the names of imported exports
      const others = o.hostnames.filter((h) => h !== o.hostname);
      const former = o.this_device ? others.filter((h) => o.node_hostnames.includes(h)) : others;
      const also = o.this_device ? others.filter((h) => !o.node_hostnames.includes(h)) : [];
      const parts = [...(former.length ? [`formerly ${former.join(', ')}`] : []), ...(also.length ? [`also ${also.join(', ')}`] : [])];
      assert.equal(c.former, parts.length ? `(${parts.join('; ')})` : '');
      if (o.this_device) assert.equal(c.former, `(formerly ${A.formerHost}; also work-laptop)`);
      // delete for every bucket of this device (the imported export included), none elsewhere
      for (const r of c.rows) assert.deepEqual([r.remote, r.del], o.this_device ? ['0', true] : ['1', false], r.id);
    }
    assert.ok(cards[0].self, 'this device first');
    const names = cards.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, `device names must differ: ${names}`);
    const desks = cards.filter((c) => c.name.startsWith('desk'));
    assert.equal(desks.length, 2);
    for (const c of desks) assert.ok(c.name.includes(c.id.replace(/-/g, '').slice(0, 4)), `${c.name} names its device id ${c.id}`);
    assert.ok(cards.some((c) => c.former === '(formerly desktop-old)'));
    await page.screenshot({ path: screenshotPath('30-buckets-device-identity'), fullPage: true });
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('a bucket imported from another host\'s export is deleted through the page; a synced one is refused by the node', async () => {
    const d = await owners();
    const other = d.withBuckets.find((x) => !x.this_device);
    await assert.rejects(A.api('DELETE', `/buckets/${other.buckets[0]}?force=1`), /403/);
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/buckets');
    const victim = 'aw-watcher-afk_work-laptop';
    const del = `tr[data-bucket="${victim}"] [data-action=delete]`;
    // by keyboard first: the dialog takes the focus, Tab goes round inside it, Escape
    // closes it without deleting and gives the focus back to the button that opened it
    await page.focus(del);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=confirm-delete]');
    const inDialog = () => page.evaluate(() => !!document.activeElement?.closest('[role=dialog]'));
    assert.ok(await inDialog(), 'the dialog has the focus once open');
    const seen = new Set();
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      assert.ok(await inDialog(), `Tab ${i + 1} left the dialog`);
      seen.add(await page.evaluate(() => document.activeElement?.textContent + '|' + document.activeElement?.getAttribute('aria-label')));
    }
    assert.ok(seen.size >= 3, `Tab reaches close, Cancel and Delete: ${[...seen]}`);
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=confirm-delete]', { state: 'detached' });
    assert.ok(await page.evaluate((sel) => document.activeElement === document.querySelector(sel), del), 'the focus is back on the delete button');
    assert.ok((await A.api('GET', '/buckets/'))[victim], 'Escape deleted nothing');
    await page.click(del);
    await page.click('[data-testid=confirm-delete]');
    await page.waitForSelector(`tr[data-bucket="${victim}"]`, { state: 'detached' });
    assert.equal((await A.api('GET', '/buckets/'))[victim], undefined);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('a bucket\'s own page: a synced bucket is read-only, an imported one is this device\'s', async () => {
    const d = await owners();
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    const shown = (id, badge) => page.waitForFunction(([id, badge]) => {
      const p = document.querySelector('[data-testid=bucket-page]');
      return p && p.querySelector('h1')?.textContent === id && p.querySelector('.badge-' + badge)
        && p.querySelector('[data-testid=events-table] tbody tr');
    }, [id, badge]);
    const synced = d.withBuckets.find((x) => !x.this_device).buckets[0];
    await open(page, `/buckets/${encodeURIComponent(synced)}`);
    await shown(synced, 'remote');
    assert.equal(await page.$('[data-action=delete]'), null);
    await open(page, '/buckets/aw-watcher-window_work-laptop');
    await shown('aw-watcher-window_work-laptop', 'local');
    assert.ok(await page.$('[data-action=delete]'));
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('Sync lists the devices with data on this node from the same answer', async () => {
    const d = await owners();
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/sync');
    await page.waitForSelector('[data-testid=known-devices] tr[data-device-id]');
    const rows = await page.$$eval('[data-testid=known-devices] tr[data-device-id]', (trs) => trs.map((t) => ({
      id: t.dataset.deviceId, self: t.dataset.thisDevice === '1', n: Number(t.querySelector('td.num').textContent),
      name: t.querySelector('[data-testid=device-name]').textContent,
    })));
    assert.deepEqual(rows.map((r) => [r.id, r.self, r.n]), d.withBuckets.map((x) => [x.device_id, x.this_device, x.buckets.length]));
    assert.ok(rows.some((r) => r.name.includes('(formerly desktop-old)')));
    // the sync folder's other devices, named as above
    const status = await A.api('GET', '/sync/status');
    assert.equal(status.configured, true, JSON.stringify(status).slice(0, 300));
    await page.waitForSelector('[data-testid=sync-devices] tr[data-device-id]');
    const folder = await page.$$eval('[data-testid=sync-devices] tr[data-device-id]', (trs) => Object.fromEntries(trs.map((t) => [t.dataset.deviceId, t.querySelector('td').textContent])));
    assert.deepEqual(Object.keys(folder).sort(), status.devices.map((x) => x.device_id).sort());
    for (const x of d.withBuckets.filter((x) => !x.this_device)) {
      const row = rows.find((r) => r.id === x.device_id);
      assert.ok(folder[x.device_id].startsWith(row.name), `${folder[x.device_id]} vs ${row.name}`);
    }
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('Activity lists a renamed device (another, or this one) once, with the time under both its names, apart from its namesake', async () => {
    const d = await owners();
    const renamed = d.devices.find((x) => x.hostnames.includes('desktop-old'));
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/activity');
    await page.waitForSelector('[data-testid=host-select] option[value="all"]', { state: 'attached' });
    const opts = await page.$$eval('[data-testid=host-select] option', (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
    // this node's own hostname, the imported work-laptop (this device's), and the renamed
    // desk once; not desktop-old, and not the other desk (it has no window bucket)
    assert.equal(opts.filter((o) => o.value === 'desktop-old').length, 0, JSON.stringify(opts));
    const desk = opts.filter((o) => o.value.startsWith('desk'));
    assert.equal(desk.length, 1, JSON.stringify(opts));
    assert.ok(desk[0].text.endsWith('(remote)'), desk[0].text);
    assert.ok(opts.some((o) => o.value === 'work-laptop' && o.text.endsWith('(this device)')), JSON.stringify(opts));
    // this node under its current name once; its former name is not an entry of its own
    assert.equal(opts.filter((o) => o.value === A.host && o.text.endsWith('(this device)')).length, 1, JSON.stringify(opts));
    assert.equal(opts.filter((o) => o.value === A.formerHost).length, 0, JSON.stringify(opts));
    // its year: the minute under the old name (January) and the one under the new (February).
    // Queries are held back so that the previous view's answer is still on screen while
    // this one's is pending: the figures read must be this view's, not the earlier one's.
    await page.route(/\/api\/0\/query\//, async (r) => {
      await sleep(700);
      await r.continue();
    });
    await open(page, `/activity/${encodeURIComponent(desk[0].value)}/year/2025-03-01`);
    await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
    const total = Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
    assert.equal(total, 120, `total ${total} s`);
    assert.ok(renamed.buckets.every((id) => id.startsWith('aw-watcher-window_')));
    // this node's year: the minute under its current name and the one under its former
    // name, not the imported work-laptop's
    const me = d.devices.find((x) => x.this_device);
    assert.deepEqual(me.node_hostnames, [A.host, A.formerHost]);
    await open(page, `/activity/${encodeURIComponent(A.host)}/year/2025-03-01`);
    await page.waitForSelector('[data-testid=total-active] .stat-value[data-seconds]', { timeout: 30_000 });
    const own = Number(await page.getAttribute('[data-testid=total-active] .stat-value', 'data-seconds'));
    assert.equal(own, 120, `this node's total ${own} s`);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

describe('a node without the devices and settings-history routes (an older node, aw-server)', () => {
  test('every bucket is local and devices are hostnames; Settings works without origins', async () => {
    const page = await ctx.newPage();
    const gone = /\/api\/0\/(devices|settings-history)$/;
    const problems = watch(page, (url, status) => allowSync(url, status) || (gone.test(url) && (status === undefined || status === 404)));
    await page.route(gone, (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"no such route"}' }));
    await open(page, '/buckets');
    await page.waitForSelector('tr[data-bucket]');
    const buckets = await A.api('GET', '/buckets/');
    const cards = await page.$$eval('.dev-title', (ts) => ts.map((t) => ({
      id: t.dataset.deviceId, name: t.querySelector('[data-testid=device-name] strong').textContent,
      rows: [...t.closest('section').querySelectorAll('tr[data-bucket]')].map((r) => [r.dataset.bucket, r.dataset.remote, !!r.querySelector('[data-action=delete]')]),
    })));
    const hosts = [...new Set(Object.values(buckets).map((b) => b.hostname))];
    assert.deepEqual(cards.map((c) => c.name).sort(), hosts.sort());
    assert.equal(cards[0].name, A.host, 'this node\'s hostname first');
    for (const c of cards) {
      assert.equal(c.id, '');
      for (const [id, remote, del] of c.rows) {
        assert.equal(buckets[id].hostname, c.name);
        assert.deepEqual([remote, del], ['0', true], id);
      }
    }
    await open(page, '/settings/general');
    await page.waitForSelector('[data-testid=start-of-day]');
    assert.equal(await page.$('.setting-origin'), null);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

describe('settings across devices', () => {
  test('Settings shows which device changed each setting and when, and the device-local mark', async () => {
    const h = await A.api('GET', '/settings-history');
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/settings/general');
    await page.waitForSelector('[data-testid=origin-startOfWeek]');
    const shown = await page.$$eval('.setting-origin[data-setting]', (xs) => Object.fromEntries(xs.map((x) => [x.dataset.setting, {
      device: x.dataset.deviceId, at: x.dataset.changedAt, local: x.dataset.local === '1',
      text: x.querySelector('[data-testid=origin-text]').textContent, badge: !!x.querySelector('.badge'),
    }])));
    for (const k of ['startOfDay', 'startOfWeek', 'theme', 'landingpage']) assert.ok(shown[k], k);
    // startOfWeek came from "desk" through sync
    const sow = h.settings.startOfWeek;
    assert.notEqual(sow.device_id, h.device_id);
    assert.equal(shown.startOfWeek.device, sow.device_id);
    assert.equal(shown.startOfWeek.at, sow.changed_at);
    assert.match(shown.startOfWeek.text, /^Changed on desk #[0-9a-f]{4,}, /);
    const d = await owners();
    const short = shown.startOfWeek.text.match(/#([0-9a-f]+)/)[1];
    assert.ok(sow.device_id.replace(/-/g, '').startsWith(short), 'the named device is the one that changed it');
    assert.ok(d.devices.find((x) => x.device_id === sow.device_id).hostname === 'desk');
    // startOfDay changed here
    assert.equal(shown.startOfDay.device, h.device_id);
    assert.equal(shown.startOfDay.at, h.settings.startOfDay.changed_at);
    assert.match(shown.startOfDay.text, /^Changed on this device, /);
    // never-set keys, and the theme's device-local mark
    assert.equal(shown.landingpage.text, 'Default value, never changed');
    assert.deepEqual([shown.theme.local, shown.theme.badge], [true, true]);
    assert.deepEqual([shown.startOfDay.local, shown.startOfDay.badge], [false, false]);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('restoring an earlier value (keyboard only) stores it again; the replaced value joins the history', async () => {
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/settings/general');
    const box = '[data-testid=origin-startOfDay]';
    await page.waitForSelector(`${box} [data-testid=history] summary`);
    const before = await page.$$eval(`${box} [data-testid=history-value]`, (xs) => xs.map((x) => x.textContent));
    const h0 = await A.api('GET', '/settings-history');
    assert.deepEqual(before, h0.settings.startOfDay.history.map((e) => e.value));
    assert.deepEqual(before, ['05:00']);
    await page.focus(`${box} [data-testid=history] summary`);
    await page.keyboard.press('Enter'); // open the list
    await page.keyboard.press('Tab'); // to its first Restore button
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'restore');
    await page.screenshot({ path: screenshotPath('33-settings-earlier-values'), fullPage: true });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=start-of-day]').value === '05:00');
    assert.equal(await A.api('GET', '/settings/startOfDay'), '05:00');
    const h1 = await A.api('GET', '/settings-history');
    assert.equal(h1.settings.startOfDay.history[0].value, '06:00');
    await page.waitForFunction(() => document.querySelector('[data-testid=origin-startOfDay] [data-testid=history-value]')?.textContent === '06:00');
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the device-local toggle edits awnode.device_local and keeps the theme listed', async () => {
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await open(page, '/settings/general');
    const toggle = '[data-testid=origin-startOfDay] [data-testid=device-local-toggle]';
    await page.waitForSelector(toggle);
    await page.click(toggle);
    await page.waitForSelector('[data-testid=origin-startOfDay][data-local="1"] .badge');
    assert.deepEqual(await A.api('GET', '/settings/awnode.device_local'), ['theme', 'startOfDay']);
    assert.equal((await A.api('GET', '/settings-history')).settings.startOfDay.local, true);
    await page.click(toggle);
    await page.waitForSelector('[data-testid=origin-startOfDay][data-local="0"]');
    assert.deepEqual(await A.api('GET', '/settings/awnode.device_local'), ['theme']);
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('categories and privacy show their origin; the settings page fits 390 px in light and dark', async () => {
    await A.api('POST', '/settings/privacy_filters', [{ enabled: true, pattern: 'bank', action: 'drop' }]);
    const page = await ctx.newPage();
    const problems = watch(page, allowSync);
    await page.setViewportSize({ width: 390, height: 844 });
    for (const theme of ['light', 'dark']) {
      await A.api('POST', '/settings/theme', JSON.stringify(theme));
      for (const tab of ['general', 'categories', 'privacy']) {
        await open(page, `/settings/${tab}`);
        await page.reload();
        const sel = { general: 'origin-startOfWeek', categories: 'origin-classes', privacy: 'origin-privacy_filters' }[tab];
        await page.waitForSelector(`[data-testid=${sel}]`);
        if (tab === 'privacy') assert.match(await page.textContent(`[data-testid=${sel}] [data-testid=origin-text]`), /^Changed on this device, /);
        if (tab === 'categories') assert.equal(await page.textContent(`[data-testid=${sel}] [data-testid=origin-text]`), 'Default value, never changed');
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
        const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(over <= 1, `${tab} (${theme}) overflows by ${over} px at 390 px`);
        await page.screenshot({ path: screenshotPath(`31-settings-${tab}-390-${theme}`), fullPage: true });
      }
    }
    await page.setViewportSize({ width: 1440, height: 1000 });
    await open(page, '/settings/general');
    await page.waitForSelector('[data-testid=origin-startOfWeek]');
    await page.screenshot({ path: screenshotPath('32-settings-general-1440-dark'), fullPage: true });
    await A.api('POST', '/settings/theme', '"light"');
    await page.close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
