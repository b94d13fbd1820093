// Year view of the 365-day data set: time to first meaningful paint (the Activity summary:
// total, top apps, categories rendered; performance mark "awnode-fmp") and to the per-month
// bar chart ("awnode-bars"), measured in Chromium with the Performance API.
import { launchBrowser, Node, screenshotPath } from './harness.mjs';

export async function yearBench({ runs = 3, log = () => {} } = {}) {
  const node = new Node();
  let ctx;
  try {
    await node.start();
    const host = node.info.hostname;
    const t0 = performance.now();
    await node.seed(host, 365, 1);
    const importS = (performance.now() - t0) / 1000;
    log(`generated and imported 365 days in ${importS.toFixed(1)} s`);
    ctx = await launchBrowser();
    const url = `${node.url}/#/activity/${host}/year/2025-06-01`;
    const loads = [];
    for (let i = 0; i < runs + 1; i++) {
      const page = await ctx.newPage();
      await page.goto(url);
      // both the summary (fmp) and the bar chart must be done: they load independently
      await page.waitForFunction(() => performance.getEntriesByName('awnode-bars').length > 0
        && performance.getEntriesByName('awnode-fmp').length > 0
        && document.querySelector('[data-testid=total-active] .stat-value[data-seconds]'), null, { timeout: 120_000 });
      const m = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        fmp: performance.getEntriesByName('awnode-fmp')[0]?.startTime ?? null,
        bars: performance.getEntriesByName('awnode-bars')[0]?.startTime ?? null,
        total: Number(document.querySelector('[data-testid=total-active] .stat-value')?.dataset.seconds || 0),
      }));
      if (i === 0) {
        await page.waitForTimeout(500);
        await page.screenshot({ path: screenshotPath('20-activity-year-365-days'), fullPage: true });
      }
      await page.close();
      // run 0 warms the browser's HTTP cache for the assets; the server has no result cache
      if (i > 0 || runs === 0) loads.push(m);
      log(`load ${i}: ${JSON.stringify(m)}`);
    }
    const med = (k) => {
      const v = loads.map((l) => l[k]).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    const qs = performance.now();
    await node.query(['2025-01-01T00:00:00Z/2026-01-01T00:00:00Z'], ['RETURN = sum_durations(flood(query_bucket("aw-watcher-window_' + host + '")));']);
    return {
      seed_s: +importS.toFixed(2),
      fcp_ms: Math.round(med('fcp')),
      fmp_ms: Math.round(med('fmp')),
      bars_ms: Math.round(med('bars')),
      active_h: +(loads[0].total / 3600).toFixed(1),
      runs: loads.length,
      simple_year_query_ms: Math.round(performance.now() - qs),
    };
  } finally {
    await ctx?.close();
    await node.stop();
  }
}
