import type { Command } from 'commander';
import { join } from 'node:path';
import type { Demo, DemoSummary, RevenueRow } from '../../demo/demo.js';
import type { Metrics } from '../../observe/metrics.js';
import type { SluiceServer } from '../../server/index.js';
import type { Sluice } from '../../sluice.js';
import { sluiceHome } from '../../redis/managed-server.js';
import { globalOptions, withSluice } from '../context.js';
import { streamName, wholeNumber } from '../options.js';
import { formatCount, note, table, writeJson, writeLine } from '../output.js';
import { ProgressBar } from '../progress.js';
import { watchSignals } from '../signals.js';

interface DemoFlags {
  events: number;
  rate: number;
  producers: number;
  exit?: boolean;
  stream: string;
  database?: string;
  invalidEvery: number;
  webhookFailEvery: number;
  port?: number;
}

/** Rollup rows shown at the end: the latest minutes. */
const REVENUE_ROWS = 12;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the guide end to end: order producers → events:orders → a SQLite writer, a revenue rollup and webhooks')
    .option('--events <n>', 'order events to publish', wholeNumber('--events', 1), 10_000)
    .option('--rate <n>', 'events per second, all producers together; 0 = as fast as Redis takes them', wholeNumber('--rate', 0), 2000)
    .option('--producers <n>', 'producers publishing side by side', wholeNumber('--producers', 1), 4)
    .option('--exit', 'stop once every group has processed every event (else keep running until Ctrl-C)')
    .option('--stream <name>', 'the stream of the orders', streamName, 'events:orders')
    .option('--database <path>', "the demo's SQLite file, recreated each run (default: <sluice home>/demo.db)")
    .option('--invalid-every <n>', 'every n-th order has a malformed amount, which the database writer dead-letters; 0 = none', wholeNumber('--invalid-every', 0), 1000)
    .option('--port <n>', 'serve the dashboard, the HTTP API and /metrics on 127.0.0.1:<n> while the demo runs', wholeNumber('--port', 0))
    .option('--webhook-fail-every <n>', 'the local webhook receiver answers every n-th request with a 503 (retried); 0 = never', wholeNumber('--webhook-fail-every', 0), 25)
    .addHelpText(
      'after',
      `
Three consumer groups read the stream, each a pipeline with retries and a dead-letter stream:
  orders-db         writes each order to the SQLite table \`orders\` (once, even when redelivered)
  orders-analytics  revenue and count per status per minute, in the table \`order_stats\`
  orders-webhook    signed webhooks (HMAC-SHA256) to a local receiver that the demo starts

Examples:
  $ sluice demo --exit
  $ sluice demo --events 1000000 --rate 5000 --port 8080     # then open http://127.0.0.1:8080/
  $ sluice demo --events 100000 --rate 0 --exit --json`,
    )
    .action(async (flags: DemoFlags, command: Command) => {
      const globals = globalOptions(command);
      const stop = watchSignals();
      const abort = new AbortController();
      void stop.signal.then(() => abort.abort());
      try {
        await withSluice(globals, async (sluice) => {
          const { Demo } = await import('../../demo/demo.js');
          const dashboard = flags.port === undefined ? undefined : await startDashboard(sluice, flags.port);
          const demo = new Demo({
            sluice,
            stream: flags.stream,
            events: flags.events,
            rate: flags.rate,
            producers: flags.producers,
            exitWhenDone: flags.exit === true,
            invalidEvery: flags.invalidEvery,
            webhookFailEvery: flags.webhookFailEvery,
            signal: abort.signal,
            ...(dashboard ? { metrics: dashboard.metrics } : {}),
            database: flags.database ?? join(sluiceHome(globals.home), 'demo.db'),
          });
          const where = `Redis ${sluice.url}, stream ${demo.stream}, SQLite ${demo.databasePath}${dashboard ? `, dashboard ${dashboard.server.url}/` : ''}`;
          // With --json, stdout is the summary alone: where things are goes to stderr.
          if (globals.json) note(where);
          else await writeLine(where);
          const bar = new ProgressBar({ done: () => demo.produced, fraction: () => demo.produced / demo.events, detail: () => progressDetail(demo) }, { label: 'demo' });
          bar.start();
          let summary: DemoSummary;
          try {
            summary = await demo.run();
          } finally {
            bar.stop();
            await dashboard?.server.close();
          }
          if (globals.json) await writeJson(summary);
          else await writeLine(renderDemoSummary(summary, (await demo.revenue()).slice(-REVENUE_ROWS), { stream: demo.stream, database: demo.databasePath }));
        });
      } finally {
        stop.dispose();
      }
    });
}

/** The HTTP server with the dashboard, and metrics that count the demo's workers too. */
async function startDashboard(sluice: Sluice, port: number): Promise<{ server: SluiceServer; metrics: Metrics }> {
  const { startServer } = await import('../../server/index.js');
  const { createMetrics, instrumentProducer } = await import('../../observe/metrics.js');
  const metrics = createMetrics();
  instrumentProducer(metrics, sluice);
  const server = await startServer({ sluice, port, metrics });
  return { server, metrics };
}

function progressDetail(demo: Demo): string {
  const processed = Object.entries(demo.processed()).map(([group, n]) => `${group} ${formatCount(n)}`);
  const dead = demo.deadLettered();
  return [...processed, ...(dead > 0 ? [`${formatCount(dead)} dead-lettered`] : [])].join('  ');
}

/** The human summary: counts per group, then the latest rows of the revenue rollup. */
export function renderDemoSummary(summary: DemoSummary, revenue: readonly RevenueRow[], where: { stream: string; database: string }): string {
  const lines = [
    `produced ${formatCount(summary.produced)} order events in ${summary.seconds.toFixed(2)} s`,
    ...Object.entries(summary.processed).map(([group, n]) => `  ${group.padEnd(18)} processed ${formatCount(n)}`),
    `dead-lettered ${formatCount(summary.deadLettered)}, SQLite rows ${formatCount(summary.sqliteRows)}, webhook calls ${formatCount(summary.webhookCalls)}`,
  ];
  if (revenue.length > 0) {
    lines.push('', 'revenue per status per minute (table order_stats):');
    lines.push(table(['minute', 'status', 'orders', 'revenue'], revenue.map((row) => [row.minute, row.status, formatCount(row.orders), row.revenue.toFixed(2)])));
  }
  lines.push(
    '',
    'Look around:',
    `  npx sluice info ${where.stream}       # length, groups, lag`,
    `  npx sluice dlq list ${where.stream}   # the dead-lettered orders, with the reason`,
    `  the SQLite file ${where.database} (tables orders, order_stats)`,
  );
  return lines.join('\n');
}
