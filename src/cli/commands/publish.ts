import { Option, type Command } from 'commander';
import type { BackpressureOptions } from '../../flow/backpressure.js';
import type { Durability } from '../../flow/durability.js';
import type { CodecName, PublishOptions, StreamOptions } from '../../index.js';
import { globalOptions, withSluice } from '../context.js';
import { codecOption, durable, duration, groupNames, json, nonEmpty, retentionPolicy, streamName, UsageError, wholeNumber, type RetentionFlags } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';
import { idempotencyKeyOf, publishFile } from '../publish-file.js';

interface PublishFlags extends RetentionFlags {
  file?: string;
  data?: unknown;
  codec: CodecName;
  key?: string;
  type?: string;
  idempotencyKey?: string;
  idempotencyField?: string;
  durable?: Durability;
  maxLag?: number;
  maxLagGroups?: string[];
  onLimit?: 'block' | 'reject';
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description('append events to a stream: one from field=value pairs or --data, or many from a JSON Lines file')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .argument('[fields...]', 'the event as field=value pairs, e.g. order_id=12345 status=pending')
    .option('--file <path>', 'publish every line of a JSON Lines file (one JSON object per line); `-` reads stdin')
    .option('--data <json>', 'the event as one JSON object (instead of field=value pairs)', json('--data'))
    .addOption(codecOption())
    .option('--key <key>', 'ordering key, stored as the `$key` field', nonEmpty('--key'))
    .option('--type <type>', 'event type, stored as the `$type` field', nonEmpty('--type'))
    .option('--max-len <n>', 'retention: keep about N entries (XADD MAXLEN ~ N)', wholeNumber('--max-len', 0))
    .option('--max-age <duration>', 'retention: drop entries older than this, e.g. 7d (XTRIM MINID)', duration('--max-age'))
    .option('--exact', 'trim exactly (=) instead of approximately (~)')
    .option('--idempotency-key <key>', 'publish at most once per key within the stream\'s window (1h): a repeat prints the first ID and writes nothing; stored as `$idk`', nonEmpty('--idempotency-key'))
    .option('--idempotency-field <name>', 'take each event\'s idempotency key from this field of the event (the way to dedupe with --file)', nonEmpty('--idempotency-field'))
    .option('--durable <level>', '`fsync` (on the AOF\'s disk), `replicas:N` (acknowledged by N replicas) or `none` (default): succeed only once the event is that durable', durable)
    .option('--max-lag <n>', 'backpressure: wait (or refuse, with --on-limit reject) while a group lags more than N entries behind', wholeNumber('--max-lag', 0))
    .option('--max-lag-groups <groups>', 'the groups whose lag counts for --max-lag, comma-separated (default: every group)', groupNames('--max-lag-groups'))
    .addOption(new Option('--on-limit <mode>', 'over --max-lag: `block` (wait for the consumers, up to --timeout) or `reject` (fail at once)').choices(['block', 'reject']))
    .addHelpText(
      'after',
      `
A publish refused by --max-lag or not made as durable as --durable asks fails with exit code 1.

Examples:
  $ sluice publish events:orders order_id=12345 customer_id=67890 amount=99.99 status=pending
  $ sluice publish events:orders --max-len 10000 order_id=12346 status=pending
  $ sluice publish events:orders --idempotency-key order-12345-created --durable fsync order_id=12345 status=pending
  $ sluice publish events:orders --max-lag 10000 --max-lag-groups billing --on-limit reject order_id=12347
  $ sluice publish events:orders --file orders.jsonl --idempotency-field order_id
  $ gunzip -c orders.jsonl.gz | sluice publish events:orders --file -`,
    )
    .action(async (stream: string, pairs: string[], flags: PublishFlags, command: Command) => {
      const globals = globalOptions(command);
      const sources = [pairs.length > 0, flags.data !== undefined, flags.file !== undefined].filter(Boolean).length;
      if (sources === 0) throw new UsageError('Expected the event as field=value pairs (e.g. order_id=12345), `--data JSON` or `--file PATH`, got none');
      if (sources > 1) throw new UsageError('Expected only one of field=value pairs, `--data` or `--file`, got more than one');
      const options = streamOptions(flags);
      const meta: PublishOptions = {};
      if (flags.key !== undefined) meta.key = flags.key;
      if (flags.type !== undefined) meta.type = flags.type;
      const event = flags.file === undefined ? (flags.data ?? fieldsFromPairs(pairs)) : undefined;
      if (event !== undefined) {
        const key = flags.idempotencyField === undefined ? flags.idempotencyKey : idempotencyKeyOf(event, flags.idempotencyField, 'The event');
        if (key !== undefined) meta.idempotencyKey = key;
      }

      await withSluice(globals, async (sluice) => {
        const target = sluice.stream<unknown, unknown>(stream, options);
        if (flags.file === undefined) {
          const id = await target.publish(event, meta);
          await (globals.json ? writeJson({ stream, id }) : writeLine(id));
          return;
        }
        const result = await publishFile(target, { path: flags.file, meta, idempotencyField: flags.idempotencyField });
        if (globals.json) await writeJson(result);
        else {
          await writeLine(
            `published ${formatCount(result.published)} event${result.published === 1 ? '' : 's'} to ${stream} in ${result.seconds.toFixed(2)} s (${formatCount(result.eventsPerSecond)} events/s)`,
          );
        }
      });
    });
}

/** The stream's options from the flags: codec, retention, durability and backpressure; usage errors first. */
function streamOptions(flags: PublishFlags): StreamOptions {
  if (flags.idempotencyKey !== undefined && flags.idempotencyField !== undefined) {
    throw new UsageError('Expected either `--idempotency-key KEY` or `--idempotency-field NAME`, got both');
  }
  if (flags.idempotencyKey !== undefined && flags.file !== undefined) {
    throw new UsageError(
      'Expected `--idempotency-field NAME` with `--file` (each line is an event of its own: one key for all of them would publish only the first), got `--idempotency-key`',
    );
  }
  if (flags.maxLag === undefined) {
    if (flags.maxLagGroups !== undefined) throw new UsageError('Expected `--max-lag-groups` to come with `--max-lag N`');
    if (flags.onLimit !== undefined) throw new UsageError('Expected `--on-limit` to come with `--max-lag N`');
  }
  const options: StreamOptions = { codec: flags.codec };
  const retention = retentionPolicy(flags, false);
  if (retention !== undefined) options.retention = retention;
  if (flags.durable !== undefined) options.durability = flags.durable;
  if (flags.maxLag !== undefined) {
    const backpressure: BackpressureOptions = { maxLag: flags.maxLag, onLimit: flags.onLimit ?? 'block' };
    if (flags.maxLagGroups !== undefined) backpressure.groups = flags.maxLagGroups;
    options.backpressure = backpressure;
  }
  return options;
}

/** `order_id=12345` pairs as an event; the value may contain `=` (only the first one splits). */
export function fieldsFromPairs(pairs: readonly string[]): Record<string, string> {
  // No prototype: a field may be called `__proto__` or `constructor`.
  const fields = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`Expected a field=value pair like order_id=12345, got \`${pair}\``);
    const name = pair.slice(0, at);
    if (Object.hasOwn(fields, name)) throw new UsageError(`Expected each field once, got \`${name}\` twice`);
    fields[name] = pair.slice(at + 1);
  }
  return fields;
}
