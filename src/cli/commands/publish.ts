import type { Command } from 'commander';
import type { CodecName, PublishOptions } from '../../index.js';
import { globalOptions, withSluice } from '../context.js';
import { codecOption, duration, json, nonEmpty, retentionPolicy, streamName, UsageError, wholeNumber, type RetentionFlags } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';
import { publishFile } from '../publish-file.js';

interface PublishFlags extends RetentionFlags {
  file?: string;
  data?: unknown;
  codec: CodecName;
  key?: string;
  type?: string;
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
    .addHelpText(
      'after',
      `
Examples:
  $ sluice publish events:orders order_id=12345 customer_id=67890 amount=99.99 status=pending
  $ sluice publish events:orders --max-len 10000 order_id=12346 status=pending
  $ sluice publish events:orders --file orders.jsonl
  $ gunzip -c orders.jsonl.gz | sluice publish events:orders --file -`,
    )
    .action(async (stream: string, pairs: string[], flags: PublishFlags, command: Command) => {
      const globals = globalOptions(command);
      const sources = [pairs.length > 0, flags.data !== undefined, flags.file !== undefined].filter(Boolean).length;
      if (sources === 0) throw new UsageError('Expected the event as field=value pairs (e.g. order_id=12345), `--data JSON` or `--file PATH`, got none');
      if (sources > 1) throw new UsageError('Expected only one of field=value pairs, `--data` or `--file`, got more than one');
      const retention = retentionPolicy(flags, false);
      const meta: PublishOptions = {};
      if (flags.key !== undefined) meta.key = flags.key;
      if (flags.type !== undefined) meta.type = flags.type;
      const event = flags.file === undefined ? (flags.data ?? fieldsFromPairs(pairs)) : undefined;

      await withSluice(globals, async (sluice) => {
        const target = sluice.stream<unknown, unknown>(stream, { codec: flags.codec, retention });
        if (flags.file === undefined) {
          const id = await target.publish(event, meta);
          await (globals.json ? writeJson({ stream, id }) : writeLine(id));
          return;
        }
        const result = await publishFile(target, { path: flags.file, meta });
        if (globals.json) await writeJson(result);
        else {
          await writeLine(
            `published ${formatCount(result.published)} event${result.published === 1 ? '' : 's'} to ${stream} in ${result.seconds.toFixed(2)} s (${formatCount(result.eventsPerSecond)} events/s)`,
          );
        }
      });
    });
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
