// Search page benchmark: a node with the 365-day data set (shared/bench/gen_data.py), the
// Search page in Chromium, a query typed into its box key by key. Per query, the median over
// the runs of the time from the last key press to the first stretch's matches on screen
// (performance mark "awnode-search-first", the debounce included) and to the whole year
// searched ("awnode-search-done"), plus the first request's own time.
// usage: node tests/bench/search_bench.mjs [runs]  (see search_bench.sh)
import { launchBrowser, Node } from '../ui/harness.mjs';

const runs = Number(process.argv[2] || 3);
const QUERIES = [
  { text: 'github', regex: false },
  { text: 'stack overflow', regex: false },
  { text: '^(GitHub|Slack) .*(alpha|sync)', regex: true },
  { text: 'e', regex: false }, // matches nearly everything: the largest answers
];
const log = (m) => console.error(m);
const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const node = new Node();
let ctx;
try {
  await node.start();
  const host = 'bench-host';
  const t0 = performance.now();
  await node.seed(host, 365, 1);
  log(`generated and imported 365 days in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  ctx = await launchBrowser();
  const results = [];
  for (const q of QUERIES) {
    const m = [];
    // run 0 warms the browser's cache of the page's assets
    for (let i = 0; i < runs + 1; i++) {
      const page = await ctx.newPage();
      await page.goto(`${node.url}/#/search${q.regex ? '?re=1' : ''}`);
      // the device list is there once the buckets are loaded: the page can search
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=search-device] option').length > 1);
      await page.waitForTimeout(300);
      await page.evaluate(() => document.addEventListener('keydown', () => (window.lastKey = performance.now()), true));
      await page.type('[data-testid=search-input]', q.text, { delay: 60 });
      // a pause between keys longer than the debounce starts a search of the text so far,
      // which the next key cancels: only what follows the last key counts
      await page.waitForFunction(() => performance.getEntriesByName('awnode-search-done').some((e) => e.startTime > window.lastKey), null, { timeout: 120_000 });
      const r = await page.evaluate(() => {
        const after = (list) => list.filter((e) => e.startTime > window.lastKey);
        const reqs = after(performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/0/query/')));
        const first = after(performance.getEntriesByName('awnode-search-first'))[0].startTime;
        return {
          first_ms: first - window.lastKey,
          done_ms: after(performance.getEntriesByName('awnode-search-done'))[0].startTime - window.lastKey,
          request_to_first_ms: first - reqs[0].startTime,
          requests: reqs.length,
          request_ms: reqs.map((e) => Math.round(e.responseEnd - e.startTime)),
          summary: document.querySelector('[data-testid=search-summary]')?.textContent,
        };
      });
      await page.close();
      log(`${q.text}: run ${i}: ${JSON.stringify(r)}`);
      if (i > 0 || runs === 0) m.push(r);
    }
    results.push({
      query: q.text, regex: q.regex, summary: m[0].summary, requests: m[0].requests,
      first_ms: Math.round(med(m.map((r) => r.first_ms))),
      request_to_first_ms: Math.round(med(m.map((r) => r.request_to_first_ms))),
      done_ms: Math.round(med(m.map((r) => r.done_ms))),
    });
  }
  console.log(JSON.stringify({ bench: 'webui search, 365-day data set', target_first_ms: 300, runs, results }));
} finally {
  await ctx?.close();
  await node.stop();
}
