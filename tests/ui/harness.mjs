// Shared helpers for the browser tests and the web UI benchmark: a real awnode on a free
// loopback port with its own XDG dirs, data from shared/bench/gen_data.py, and Debian's
// Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const artifacts = path.join(here, 'artifacts');

export const AWNODE_BIN = path.resolve(repo, process.env.AWNODE_BIN || 'build/bin/awnode');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** shared/ lives beside the repository (../shared); AW_SHARED overrides. */
export function sharedDir() {
  const cands = [process.env.AW_SHARED, path.resolve(repo, '../shared'), '/work/shared'].filter(Boolean);
  for (const c of cands) if (fs.existsSync(path.join(c, 'bench/gen_data.py'))) return c;
  throw new Error(`cannot find shared/bench/gen_data.py (looked in ${cands.join(', ')}); set AW_SHARED`);
}

/** The built web UI for this binary: $AWNODE_WEBPATH, else <bin>/../webui (build tree). */
export function webPath() {
  if (process.env.AWNODE_WEBPATH) return path.resolve(process.env.AWNODE_WEBPATH);
  const p = path.resolve(path.dirname(AWNODE_BIN), '../webui');
  if (!fs.existsSync(path.join(p, 'index.html'))) throw new Error(`no built web UI at ${p}; build the 'webui' target or set AWNODE_WEBPATH`);
  return p;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `awnode COMMAND --testing` for `owner` (its port, its log) with `env`, then call
 * `ready` every 100 ms, at most `tries` times, until it returns a value (errors mean "not
 * up yet"); that value is returned. Throws `what` with the log when awnode exits first or
 * the tries run out.
 */
async function runAwnode(owner, command, env, tries, what, ready) {
  owner.proc = spawn(AWNODE_BIN, [command, '--testing', '--port', String(owner.port), '--webpath', webPath(), ...(owner.args || [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  owner.proc.stdout.on('data', (d) => (owner.log += d));
  owner.proc.stderr.on('data', (d) => (owner.log += d));
  for (let i = 0; i < tries; i++) {
    try {
      const v = await ready();
      if (v !== undefined) return v;
    } catch {
      /* not up yet */
    }
    if (owner.proc.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`${what} on port ${owner.port}:\n${owner.log}`);
}

export class Node {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awnode-ui-'));
    this.proc = null;
    this.port = 0;
    this.log = '';
    /** more `awnode serve` arguments (e.g. ['--hostname', 'old-name']) */
    this.args = [];
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start() {
    this.port = await freePort();
    const env = { ...process.env };
    for (const k of ['data', 'config', 'state']) fs.mkdirSync(path.join(this.dir, k), { recursive: true });
    env.XDG_DATA_HOME = path.join(this.dir, 'data');
    env.XDG_CONFIG_HOME = path.join(this.dir, 'config');
    env.XDG_STATE_HOME = path.join(this.dir, 'state');
    return runAwnode(this, 'serve', env, 100, 'awnode did not start', async () => {
      const r = await fetch(this.url + '/api/0/info');
      if (r.ok) return (this.info = await r.json());
    });
  }
  async api(method, p, body, headers = {}) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const r = await fetch(this.url + '/api/0' + p, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }
  query(periods, lines) {
    return this.api('POST', '/query/', { timeperiods: periods, query: lines });
  }
  /** Generate `days` of data for `host` and import it; `bucketData`, if given, is added to
   * every bucket's data. */
  /** Create buckets of device `host`: `[[id, type], ...]` (client "ui-test"). */
  async makeBuckets(host, list) {
    for (const [id, type] of list) await this.api('POST', `/buckets/${id}`, { type, client: 'ui-test', hostname: host });
  }
  async seed(host, days, seed, bucketData) {
    const file = path.join(this.dir, `${host}-${days}.json`);
    execFileSync('python3', [path.join(sharedDir(), 'bench/gen_data.py'), '--days', String(days), '--host', host, '--seed', String(seed)], {
      stdio: ['ignore', fs.openSync(file, 'w'), 'inherit'],
    });
    if (bucketData) {
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      for (const b of Object.values(doc.buckets)) b.data = { ...(b.data || {}), ...bucketData };
      fs.writeFileSync(file, JSON.stringify(doc));
    }
    await this.api('POST', '/import', fs.readFileSync(file, 'utf8'));
    return file;
  }
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      for (let i = 0; i < 50 && this.proc.exitCode === null; i++) await sleep(100);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A node that can be stopped (keeping its data) while `awnode sync` runs on its database,
 * for tests of several devices syncing through a bare repository (docs/sync.md). */
export class SyncNode extends Node {
  constructor(host, passphrase) {
    super();
    this.host = host;
    this.passphrase = passphrase;
  }
  env() {
    const x = (k) => path.join(this.dir, k);
    return { ...process.env, XDG_DATA_HOME: x('data'), XDG_CONFIG_HOME: x('config'), XDG_STATE_HOME: x('state'), AWNODE_SYNC_PASSPHRASE: this.passphrase };
  }
  async halt() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      for (let i = 0; i < 100 && this.proc.exitCode === null; i++) await sleep(50);
    }
    if (this.proc?.exitCode === null) throw new Error('node did not stop');
  }
  /** `awnode sync ARGS` against this node's database (the node is stopped meanwhile). */
  async sync(...args) {
    const was = this.proc && this.proc.exitCode === null;
    if (was) await this.halt();
    try {
      return execFileSync(AWNODE_BIN, ['sync', ...args, '--testing', '--hostname', this.host], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    } finally {
      if (was) await this.start();
    }
  }
}

/** Retry `f` until it stops throwing or `ms` have passed (a page that re-queries after a
 * change); the last error is thrown. */
export async function eventually(f, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

/** True when Xvfb is installed (the supervised tests need an X display for the watchers). */
export function haveXvfb() {
  return (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, 'Xvfb')));
}

/** `awnode start --testing` (node + watchers) under a private Xvfb, with its own XDG dirs
 * (XDG_RUNTIME_DIR included, so its control socket is private too). */
export class Supervised {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awnode-ui-sv-'));
    this.log = '';
    this.port = 0;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async startX() {
    // -displayfd 3: Xvfb picks a free display and writes its number to fd 3
    this.xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '640x480x24'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let out = '';
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('Xvfb did not start')), 15_000);
      this.xvfb.stdio[3].on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(t);
          resolve();
        }
      });
      this.xvfb.on('exit', () => reject(new Error('Xvfb exited')));
    });
    this.display = ':' + out.trim();
  }
  async start() {
    await this.startX();
    this.port = await freePort();
    const env = { ...process.env, DISPLAY: this.display, HOME: path.join(this.dir, 'home') };
    for (const k of ['data', 'config', 'state', 'cache', 'runtime', 'home']) fs.mkdirSync(path.join(this.dir, k), { recursive: true, mode: 0o700 });
    for (const k of ['data', 'config', 'state', 'cache', 'runtime']) env[`XDG_${k.toUpperCase()}_${k === 'runtime' ? 'DIR' : 'HOME'}`] = path.join(this.dir, k);
    delete env.WAYLAND_DISPLAY;
    return runAwnode(this, 'start', env, 150, 'awnode start did not come up with both watchers', async () => {
      const r = await fetch(this.url + '/api/0/watchers');
      const body = r.ok ? await r.json() : null;
      if (body?.supervised && body.watchers.length === 2 && body.watchers.every((w) => w.state === 'running')) return body;
    });
  }
  async watchers() {
    const r = await fetch(this.url + '/api/0/watchers');
    return Object.fromEntries((await r.json()).watchers.map((w) => [w.name, w]));
  }
  async stop() {
    for (const p of [this.proc, this.xvfb]) {
      if (!p || p.exitCode !== null) continue;
      p.kill('SIGTERM');
      for (let i = 0; i < 150 && p.exitCode === null; i++) await sleep(100);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return this.proc?.exitCode;
  }
}

/** Chromium with a fresh profile (deleted on close). */
export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awnode-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return ctx;
}

/** Watch a page for console errors, page errors, failed requests and HTTP errors.
 * `allow(url, status)` may excuse an expected error response. */
export function watch(page, allow = () => false) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location()?.url || '';
    if (/Failed to load resource/.test(m.text()) && allow(loc)) return;
    problems.push(`console error: ${m.text()} (${loc})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // a navigation away from a page aborts its pending requests; that is not a failure
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !allow(r.url(), r.status())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

export function screenshotPath(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  return path.join(artifacts, name + '.png');
}
