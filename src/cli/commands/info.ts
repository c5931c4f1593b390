import type { Command } from 'commander';
import type { StreamInfo } from '../../index.js';
import type { RedisConnection } from '../../redis/connection.js';
import { readStreamInfo } from '../../stream/stream-info.js';
import { globalOptions, withSluice } from '../context.js';
import { streamKey } from '../options.js';
import { formatBytes, formatCount, formatDuration, formatTime, keyValues, table, writeJson, writeLine } from '../output.js';

/** Streams described at once when listing a server: enough to be quick, bounded for big servers. */
const CONCURRENCY = 16;

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe one stream (groups, consumers, pending, lag), or list every stream on the server')
    .argument('[stream]', 'stream name, e.g. events:orders (default: every stream)', streamKey)
    .addHelpText(
      'after',
      `
Examples:
  $ sluice info
  $ sluice info events:orders
  $ sluice info events:orders --json | jq '.groups[].lag'`,
    )
    .action(async (stream: string | undefined, _flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        if (stream !== undefined) {
          // readStreamInfo rather than sluice.stream(): helper streams like `{events:orders}:dlq`
          // are streams too, but not names a Stream can be built with.
          const info = await readStreamInfo(sluice.connection, stream);
          await (globals.json ? writeJson(info) : writeLine(describeStream(info)));
          return;
        }
        const infos = await describeAll(sluice.connection, await sluice.streams());
        if (globals.json) await writeJson(infos);
        else await writeLine(infos.length === 0 ? 'no streams on this server' : listStreams(infos));
      });
    });
}

async function describeAll(conn: RedisConnection, names: readonly string[]): Promise<StreamInfo[]> {
  const infos: StreamInfo[] = new Array<StreamInfo>(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const at = next++;
      infos[at] = await readStreamInfo(conn, names[at] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  // A stream deleted between the SCAN and its XINFO is no longer one.
  return infos.filter((info) => info.exists);
}

/** One row per stream. */
export function listStreams(infos: readonly StreamInfo[]): string {
  return table(
    ['STREAM', 'LENGTH', 'FIRST', 'LAST', 'MEMORY', 'GROUPS'],
    infos.map((info) => [info.stream, formatCount(info.length), formatTime(info.firstTime), formatTime(info.lastTime), formatBytes(info.memoryBytes), String(info.groups.length)]),
  );
}

/** A stream's details, then its groups and their consumers. */
export function describeStream(info: StreamInfo): string {
  if (!info.exists) return `stream ${info.stream} does not exist`;
  const idAndTime = (id: string | null, time: number | null) => (id === null ? '-' : `${id}  (${formatTime(time)})`);
  const parts = [
    keyValues([
      ['stream', info.stream],
      ['length', formatCount(info.length)],
      ['first', idAndTime(info.firstId, info.firstTime)],
      ['last', idAndTime(info.lastId, info.lastTime)],
      ['last generated id', info.lastGeneratedId ?? '-'],
      ['memory', formatBytes(info.memoryBytes)],
      ['groups', String(info.groups.length)],
    ]),
  ];
  if (info.groups.length > 0) {
    parts.push(
      table(
        ['GROUP', 'CONSUMERS', 'PENDING', 'LAG', 'LAST DELIVERED', 'ENTRIES READ'],
        info.groups.map((g) => [
          g.name,
          String(g.consumers.length),
          formatCount(g.pending),
          // Redis cannot always tell the lag (after deletions): shown as `?`, null in JSON.
          g.lag === null ? '?' : formatCount(g.lag),
          g.lastDeliveredId,
          g.entriesRead === null ? '?' : formatCount(g.entriesRead),
        ]),
      ),
    );
    const consumers = info.groups.flatMap((g) =>
      g.consumers.map((c) => [g.name, c.name, formatCount(c.pending), formatDuration(c.idleMs), c.inactiveMs === undefined ? '?' : formatDuration(c.inactiveMs)]),
    );
    if (consumers.length > 0) parts.push(table(['GROUP', 'CONSUMER', 'PENDING', 'IDLE', 'INACTIVE'], consumers));
  }
  return parts.join('\n\n');
}
