// The Reports page against a real node. Run with tests/ui/run.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, Node, watch } from './harness.mjs';

let node, ctx;
before(async () => {
  node = new Node();
  await node.start();
  ctx = await launchBrowser();
});
after(async () => {
  await ctx?.close();
  await node?.stop();
});

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
