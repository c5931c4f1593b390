import type { Command } from 'commander';
import { InvalidOptionError } from '../../errors.js';
import type { BackpressureOptions } from '../../flow/backpressure.js';
import { BearerAuth } from '../../server/auth.js';
import { parseSize } from '../../server/limits.js';
import type { ServerOptions } from '../../server/server.js';
import { parseDuration } from '../../stream/time.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, groupNames, UsageError, wholeNumber } from '../options.js';
import { note, writeJson, writeLine } from '../output.js';
import { watchSignals } from '../signals.js';

interface ServeFlags {
  port: number;
  host: string;
  token?: string;
  maxBody?: number;
  maxEvents?: number;
  maxFields?: number;
  maxValue?: number;
  maxLag?: number;
  maxLagGroups?: string[];
  maxLen?: number;
  shutdownTimeout: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP server: ingest (POST /streams/:stream/events, JSON or NDJSON), the live dashboard at /, GET /metrics, /health and /ready')
    .option('--port <port>', 'TCP port; 0 picks a free one (the URL printed says which)', port, 8080)
    .option('--host <host>', 'interface to listen on; 0.0.0.0 for every one', '127.0.0.1')
    .option('--token <token>', 'require `Authorization: Bearer <token>` (default: $SLUICE_TOKEN; without either, anyone who can reach the port may publish)')
    .option('--max-body <size>', 'most bytes of a request body, e.g. 512kb, 4mb (default: 1mb)', size('--max-body'))
    .option('--max-events <n>', 'most events per request (default: 10000)', wholeNumber('--max-events', 1))
    .option('--max-fields <n>', 'most fields per event (default: 256)', wholeNumber('--max-fields', 1))
    .option('--max-value <size>', 'most bytes of one field value; with ?codec=json, of the event\'s JSON (default: 64kb)', size('--max-value'))
    .option('--max-lag <n>', 'backpressure: answer 429 while a group lags more than N entries behind the stream', wholeNumber('--max-lag', 0))
    .option('--max-lag-groups <groups>', 'the groups whose lag counts for --max-lag, comma-separated (default: every group)', groupNames('--max-lag-groups'))
    .option('--max-len <n>', 'backpressure: answer 429 while the stream holds N entries or more (nothing is trimmed)', wholeNumber('--max-len', 1))
    .option('--shutdown-timeout <duration>', 'on Ctrl-C or SIGTERM, time requests in flight get to finish', duration('--shutdown-timeout'), '10s')
    .addHelpText(
      'after',
      `
Prints the URL it listens on, then serves until Ctrl-C or SIGTERM: it stops accepting connections,
finishes the requests in flight (each answered once Redis has stored its events), flushes, and
exits with code 0. Routes, status codes and limits: docs/server.md.

Examples:
  $ sluice serve --port 8080 --token "$(openssl rand -hex 24)"
  $ SLUICE_TOKEN=s3cret sluice serve --host 0.0.0.0 --max-lag 100000
  $ curl -X POST http://127.0.0.1:8080/streams/events:orders/events \\
      -H 'Content-Type: application/json' -H 'Authorization: Bearer s3cret' \\
      -d '{"order_id":"12345","customer_id":"67890","amount":"99.99","status":"pending"}'
  {"ids":["1700000000000-0"]}`,
    )
    .action(async (flags: ServeFlags, command: Command) => {
      const globals = globalOptions(command);
      const options = serverOptions(flags);
      // Loaded here: --help and usage errors need not load node:http, pino and the Redis client.
      const { createServer } = await import('../../server/index.js');
      const stop = watchSignals();
      try {
        await withSluice(globals, async (sluice) => {
          const server = createServer({ ...options, sluice });
          await server.listen();
          if (globals.json) await writeJson({ url: server.url });
          else await writeLine(`listening on ${server.url}`);
          if (options.token === undefined && !isLoopback(options.host as string)) {
            note(`sluice: warning: no --token (or SLUICE_TOKEN): anyone who can reach ${server.url} may publish`);
          }
          await stop.signal;
          if (server.inFlight > 0) {
            note(`closing: finishing ${server.inFlight} request${server.inFlight === 1 ? '' : 's'} in flight, up to ${flags.shutdownTimeout} (Ctrl-C again to exit now)`);
          }
          await server.close();
          // Publishes of requests cut by the shutdown timeout still get their answer from Redis.
          await sluice.flush();
        });
      } finally {
        stop.dispose();
      }
    });
}

/** The server's options from the flags; usage errors before anything connects. */
function serverOptions(flags: ServeFlags): Omit<ServerOptions, 'sluice'> {
  const fromEnv = flags.token === undefined && process.env.SLUICE_TOKEN ? process.env.SLUICE_TOKEN : undefined;
  const token = flags.token ?? fromEnv;
  if (token !== undefined) new BearerAuth(token, flags.token !== undefined ? '--token' : 'SLUICE_TOKEN');
  if (flags.maxLagGroups !== undefined && flags.maxLag === undefined) throw new UsageError('Expected `--max-lag-groups` to come with `--max-lag N`');
  const options: Omit<ServerOptions, 'sluice'> = {
    port: flags.port,
    host: flags.host,
    shutdownTimeout: parseDuration(flags.shutdownTimeout, '--shutdown-timeout'),
    limits: { maxBody: flags.maxBody, maxEvents: flags.maxEvents, maxFields: flags.maxFields, maxValue: flags.maxValue },
  };
  if (token !== undefined) options.token = token;
  if (flags.maxLag !== undefined || flags.maxLen !== undefined) {
    // An HTTP client is told to come back later (429 with Retry-After) rather than kept waiting.
    const backpressure: BackpressureOptions = { onLimit: 'reject' };
    if (flags.maxLag !== undefined) backpressure.maxLag = flags.maxLag;
    if (flags.maxLen !== undefined) backpressure.maxLen = flags.maxLen;
    if (flags.maxLagGroups !== undefined) backpressure.groups = flags.maxLagGroups;
    options.stream = { backpressure };
  }
  return options;
}

function port(value: string): number {
  const n = wholeNumber('--port', 0)(value);
  if (n > 65_535) throw new InvalidOptionError('--port', value, 'a port number from 0 to 65535 (0: any free port)');
  return n;
}

function size(option: string): (value: string) => number {
  return (value) => parseSize(value, option);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
