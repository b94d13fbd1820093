// The Search page against a real node. Run with tests/ui/run.sh.
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

test('the Search page is reachable from the navigation', async () => {
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(`${node.url}/#/activity`);
  await page.click('[data-nav=search]');
  await page.waitForSelector('[data-testid=search-page] h1');
  assert.equal(await page.textContent('[data-testid=search-page] h1'), 'Search');
  await page.close();
  assert.deepEqual(problems, [], problems.join('\n'));
});
