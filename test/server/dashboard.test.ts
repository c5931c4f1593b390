import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { NonRetryableError } from '../../src/index.js';
import { repoRoot } from '../cli/cli.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { beforeInOrder, useFixture, useRedis } from '../helpers/fixtures.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { startTestServer, type TestServer } from './helpers.js';

/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * a real server and redis-server. Screenshots go to test-artifacts/.
 */

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token';
const ARTIFACTS = join(repoRoot, 'test-artifacts');
/** Generous: the browser shares two cores with the test and the servers. */
const UI_TIMEOUT = 20_000;

const redis = useRedis();
const browser = useFixture(
  'Chromium',
  () =>
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking'],
    }),
  (b) => b.close(),
);

beforeInOrder(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
});

/** A page that fails the test on a script error or a CSP violation (both show in the console). */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.value.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(UI_TIMEOUT);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A 401 answered before the token is given is expected; anything else is a problem.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return { page, problems };
}

/** Opens the dashboard, gives the token when asked, and waits for the stream's row. */
async function signIn(page: Page, url: string, stream: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', TOKEN);
  await page.click('#token-dialog button[type="submit"]');
  await page.locator(`#streams tr[data-stream="${stream}"]`).waitFor();
}

describe('the dashboard in Chromium', () => {
  let server: TestServer;
  let name: string;

  before(async () => {
    server = await startTestServer(redis.server, { token: TOKEN });
    name = `${uniquePrefix('ui')}orders`;
    const stream = server.sluice.stream(name);
    // Two dead letters: a group whose worker refuses events marked bad (then closed).
    const worker = stream.consume({ group: 'audit', block: 50 }, (event) => {
      if (event.fields.status === 'bad') throw new NonRetryableError(`order ${event.fields.order_id} is malformed`);
    });
    await worker.ready;
    for (let i = 1; i <= 5; i++) await stream.publish({ order_id: String(i), status: i <= 2 ? 'bad' : 'pending' });
    await waitFor(async () => (await cliLength(redis.server, `{${name}}:dlq`)) === 2, { message: 'two dead letters' });
    await worker.close();
    // A group that reads nothing: its lag is what the page shows.
    await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0');
  });

  after(async () => {
    await server?.close();
  });

  test('loads behind the token, lists the stream and its groups; the lag follows publishing; a screenshot is kept', async () => {
    const { page, problems } = await openPage();
    try {
      await signIn(page, server.url, name);
      const row = page.locator(`#streams tr[data-stream="${name}"]`);
      assert.equal(await row.locator('.c-length').textContent(), '5');
      assert.equal(await row.locator('.c-dlq').textContent(), '2');
      await row.click();
      const billing = page.locator('#groups tr[data-group="billing"]');
      await billing.waitFor();
      await page.locator('#groups tr[data-group="audit"]').waitFor();
      await waitFor(async () => (await billing.locator('.c-lag').textContent()) === '5', { timeout: UI_TIMEOUT, message: 'billing lag 5' });
      // billing has read nothing: it is as far behind as the stream's first event is old; audit is caught up.
      assert.match((await billing.locator('.c-behind').textContent()) ?? '', /^\d+(ms|\.\d+s|m\d\ds)$/);
      assert.equal(await page.locator('#groups tr[data-group="audit"] .c-behind').textContent(), '–');

      const stream = server.sluice.stream(name);
      for (let i = 6; i <= 12; i++) await stream.publish({ order_id: String(i), status: 'pending' });
      await waitFor(async () => (await billing.locator('.c-lag').textContent()) === '12', { timeout: UI_TIMEOUT, message: 'billing lag 12 after seven more events' });
      assert.equal(await page.locator('#status').textContent(), 'live');
      // The charts were drawn (uPlot canvases), the page kept the selection in its address.
      await page.locator('#chart-rates canvas').waitFor();
      await page.locator('#chart-lag canvas').waitFor();
      assert.equal(new URL(page.url()).hash, `#stream=${encodeURIComponent(name)}`);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('a dead letter redriven from the page reaches the stream again; purge asks first', async () => {
    const { page, problems } = await openPage();
    try {
      await signIn(page, server.url, name);
      await page.click(`#streams tr[data-stream="${name}"]`);
      await page.click('.tabs [data-tab="dlq"]');
      const rows = page.locator('#dead-letters tbody tr');
      await waitFor(async () => (await rows.count()) === 2, { timeout: UI_TIMEOUT, message: 'two dead letters listed' });
      const letterId = (await rows.first().getAttribute('data-id')) as string;
      const originalId = (await rows.first().locator('td').nth(2).textContent()) as string;

      await rows.first().locator('input[type="checkbox"]').check();
      await page.click('#dlq-redrive-selected');
      const dialog = page.locator('#confirm-dialog');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await page.locator('#confirm-message').textContent()) ?? '', new RegExp(`Send 1 dead letter back to ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await page.click('#confirm-ok');
      await page.locator('#dlq-message', { hasText: 'Redriven 1 dead letter' }).waitFor();
      await waitFor(async () => (await rows.count()) === 1, { timeout: UI_TIMEOUT, message: 'one dead letter left listed' });
      assert.notEqual(await rows.first().getAttribute('data-id'), letterId);

      // In the stream again, as a new event carrying the original ID.
      const entries = await cliRange(redis.server, name);
      const redriven = entries.filter(([, fields]) => fields.includes('$redriven'));
      assert.equal(redriven.length, 1);
      const fields = redriven[0]![1];
      assert.equal(fields[fields.indexOf('$redriven') + 1], originalId);
      assert.deepEqual(fields.slice(0, 4), ['order_id', fields[1], 'status', 'bad']);
      assert.equal(await cliLength(redis.server, `{${name}}:dlq`), 1);

      // Purge: cancelled, nothing happens; confirmed, the dead letters are gone.
      await page.click('#dlq-purge');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await page.locator('#confirm-message').textContent()) ?? '', /Delete all 1 dead letters .* cannot be undone/);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-purge-confirm.png') });
      await page.click('#confirm-cancel');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await cliLength(redis.server, `{${name}}:dlq`), 1, 'a cancelled purge deletes nothing');
      assert.equal(await rows.count(), 1);

      await page.click('#dlq-purge');
      await dialog.waitFor({ state: 'visible' });
      await page.click('#confirm-ok');
      await page.locator('#dlq-message', { hasText: 'Purged 1 dead letter' }).waitFor();
      await page.locator('#dlq-empty').waitFor({ state: 'visible' });
      assert.equal(await cliLength(redis.server, `{${name}}:dlq`), 0);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('the live tail shows only the events matching its field filter', async () => {
    const { page, problems } = await openPage();
    try {
      await signIn(page, server.url, name);
      await page.click(`#streams tr[data-stream="${name}"]`);
      await page.click('.tabs [data-tab="tail"]');
      await page.fill('#tail-field', 'status');
      await page.fill('#tail-value', 'paid');
      await page.click('#tail-toggle');
      await page.locator('#tail-status', { hasText: 'listening for status = paid' }).waitFor();

      const stream = server.sluice.stream(name);
      await stream.publish({ order_id: 'p1', status: 'pending' });
      const paid = await stream.publish({ order_id: 'p2', status: 'paid' });
      await stream.publish({ order_id: 'p3', status: 'pending' });
      const last = await stream.publish({ order_id: 'p4', status: 'paid' });
      const items = page.locator('#tail-events li');
      await waitFor(async () => (await items.count()) === 2, { timeout: UI_TIMEOUT, message: 'two events tailed' });
      // Newest first.
      assert.deepEqual(await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id'))), [last, paid]);
      assert.match((await items.first().textContent()) ?? '', /order_id=p4.*status=paid/);
      await page.click('#tail-toggle');
      await page.locator('#tail-status', { hasText: 'stopped after 2 events' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});

test('the live tail goes on after the server restarts: the events published meanwhile shown once, none missed', async () => {
  let server = await startTestServer(redis.server, { token: TOKEN });
  const port = new URL(server.url).port;
  const name = `${uniquePrefix('resume')}orders`;
  const stream = server.sluice.stream(name);
  await stream.publish({ order_id: 'before' });
  const { page, problems } = await openPage();
  try {
    await signIn(page, server.url, name);
    await page.click(`#streams tr[data-stream="${name}"]`);
    await page.click('.tabs [data-tab="tail"]');
    await page.click('#tail-toggle');
    await page.locator('#tail-status', { hasText: 'listening' }).waitFor();
    const ids = [await stream.publish({ order_id: 'a1' }), await stream.publish({ order_id: 'a2' })];
    await page.locator('#tail-status', { hasText: /^2 events$/ }).waitFor();

    // The server goes away (its event streams end) and comes back on the same port; what is
    // published meanwhile reaches the page after it reconnects, after the last event it showed.
    await server.close();
    await page.locator('#tail-status', { hasText: 'reconnecting' }).waitFor();
    ids.push(await redis.server.cli('XADD', name, '*', 'order_id', 'b1'), await redis.server.cli('XADD', name, '*', 'order_id', 'b2'));
    server = await startTestServer(redis.server, { token: TOKEN, port: Number(port) });
    await page.locator('#tail-status', { hasText: /^4 events$/ }).waitFor();
    ids.push(await server.sluice.stream(name).publish({ order_id: 'c1' }));
    await page.locator('#tail-status', { hasText: /^5 events$/ }).waitFor();

    const shown = await page.locator('#tail-events li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id')));
    assert.deepEqual(shown, [...ids].reverse(), 'every event once, newest first');
    // While the server was away the browser logged its refused requests, and the 503s it answered
    // while shutting down; nothing else went wrong.
    assert.deepEqual(problems.filter((p) => !/net::ERR_|status of 503/.test(p)), []);
  } finally {
    await page.close();
    await server.close();
  }
});

test('move a group back to replay its events, and delete a group: confirmed in a dialog, refused with the reason while a consumer runs', async () => {
  const server = await startTestServer(redis.server, { token: TOKEN });
  const name = `${uniquePrefix('groupui')}orders`;
  const stream = server.sluice.stream(name);
  for (let i = 1; i <= 3; i++) await stream.publish({ order_id: String(i) });
  await stream.createGroup('replayer');
  await stream.createGroup('stale');
  const { page, problems } = await openPage();
  try {
    await signIn(page, server.url, name);
    await page.click(`#streams tr[data-stream="${name}"]`);
    await page.locator('#group-form').waitFor();
    await page.selectOption('#group-select', 'replayer');
    await page.fill('#group-to', '0');
    await page.click('#group-reset');
    await page.locator('#confirm-message', { hasText: 'Group replayer of' }).waitFor();
    await page.click('#confirm-ok');
    await page.locator('#group-message', { hasText: 'Moved replayer from' }).waitFor();
    assert.match((await page.locator('#group-message').textContent()) ?? '', /to 0-0: 3 events to deliver\.$/);
    await page.locator('#groups tr[data-group="replayer"] .c-lag', { hasText: '3' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-group-moved.png') });

    await page.selectOption('#group-select', 'stale');
    await page.click('#group-delete');
    await page.click('#confirm-ok');
    await page.locator('#group-message', { hasText: 'Deleted group stale.' }).waitFor();
    await page.locator('#groups tr[data-group="stale"]').waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('#group-select option').allTextContents(), ['replayer']);

    // A consumer that just read: the delete is refused, and the page says why.
    await redis.server.cli('XREADGROUP', 'GROUP', 'replayer', 'worker-1', 'COUNT', '1', 'STREAMS', name, '>');
    await page.click('#group-delete');
    await page.click('#confirm-ok');
    await page.locator('#group-message.error', { hasText: 'Could not delete replayer' }).waitFor();
    assert.match((await page.locator('#group-message').textContent()) ?? '', /running consumer, `worker-1`/);
    assert.equal(await redis.server.cli('XINFO', 'CONSUMERS', name, 'replayer').then((r) => r.split('\n')[1]), 'worker-1');
    // The refusal is a 409 the browser logs; nothing else went wrong.
    assert.deepEqual(problems.filter((p) => !/status of 409/.test(p)), []);
  } finally {
    await page.close();
    await server.close();
  }
});

test('1,000 streams with a group each: paged, searchable, refreshed live', async () => {
  // A server of its own: exactly these 1,000 streams, none left by the other tests.
  const own = await startRedisServer();
  const server = await startTestServer(own);
  const { page, problems } = await openPage();
  try {
    const prefix = uniquePrefix('many');
    const commands: string[][] = [];
    for (let i = 0; i < 1000; i++) {
      const key = `${prefix}s${String(i).padStart(4, '0')}`;
      commands.push(['XADD', key, '*', 'n', String(i)], ['XGROUP', 'CREATE', key, 'readers', '0']);
    }
    await server.sluice.connection.pipeline(commands);
    const target = `${prefix}s0777`;

    const started = Date.now();
    await page.goto(`${server.url}/`);
    await page.locator('#streams tbody tr').first().waitFor();
    const loadMs = Date.now() - started;
    assert.equal(await page.locator('#streams tbody tr').count(), 50, 'one page of rows, whatever the number of streams');
    assert.equal(await page.locator('#stream-count').textContent(), '(1,000)');
    assert.equal(await page.locator('#page-info').textContent(), '1–50 of 1,000');
    assert.equal(await page.locator('#truncated').isVisible(), false);
    await page.click('#next-page');
    assert.equal(await page.locator('#streams tbody tr').first().getAttribute('data-stream'), `${prefix}s0050`);

    await page.fill('#search', 's0777');
    await waitFor(async () => (await page.locator('#streams tbody tr').count()) === 1, { timeout: UI_TIMEOUT, message: 'the search narrows to one row' });
    assert.equal(await page.locator('#streams tbody tr').first().getAttribute('data-stream'), target);
    await page.click(`#streams tr[data-stream="${target}"]`);
    await page.locator('#groups tr[data-group="readers"] .c-lag', { hasText: '1' }).waitFor();

    // Still refreshing: a new event shows within a few refreshes.
    await server.sluice.stream(target).publish({ n: 'more' });
    await page.locator(`#streams tr[data-stream="${target}"] .c-length`, { hasText: '2' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1000-streams.png') });
    assert.ok(loadMs < UI_TIMEOUT, `first rows after ${loadMs} ms`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await server.close();
    await own.close();
  }
});
