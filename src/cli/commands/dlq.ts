import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import type { DeadLetter } from '../../index.js';
import { META_FIELDS } from '../../stream/event.js';
import { globalOptions, withSluice } from '../context.js';
import { streamIds, streamName, UsageError, wholeNumber } from '../options.js';
import { formatCount, formatTime, table, writeJson, writeLine } from '../output.js';

interface ListFlags {
  count: number;
}

interface RedriveFlags {
  id?: string[];
  all?: boolean;
}

/** Widest error message shown in the `dlq list` table; --json has it whole. */
const ERROR_WIDTH = 40;

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('inspect, redrive and purge the dead-letter queue of a stream ({<stream>}:dlq)')
    .addHelpText(
      'after',
      `
Events land in the dead-letter stream {<stream>}:dlq when their handler failed --max-deliveries
times, threw NonRetryableError or called ctx.deadLetter(), or when their entry was trimmed while
pending. Each dead letter keeps the event's fields, the reason, the error, the original ID, the
group and the delivery count.`,
    );

  dlq
    .command('list')
    .description('print the dead letters of a stream, oldest first')
    .argument('<stream>', 'the stream whose dead letters to list, e.g. events:orders', streamName)
    .option('--count <n>', 'at most N dead letters', wholeNumber('--count', 1), 100)
    .addHelpText(
      'after',
      `
Examples:
  $ sluice dlq list events:orders
  $ sluice dlq list events:orders --json | jq -r '.[] | select(.reason == "max-deliveries") | .id'`,
    )
    .action(async (stream: string, flags: ListFlags, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const queue = sluice.stream(stream).deadLetters();
        const letters = await queue.list({ count: flags.count });
        if (globals.json) await writeJson(letters);
        else await writeLine(letters.length === 0 ? `no dead letters in ${queue.key}` : renderDeadLetters(letters, process.stdout.isTTY ? process.stdout.columns : undefined));
      });
    });

  dlq
    .command('redrive')
    .description('send dead letters back to the stream as new events (with `$redriven` holding the original ID) and remove them from the dead-letter queue')
    .argument('<stream>', 'the stream whose dead letters to redrive, e.g. events:orders', streamName)
    .option('--id <ids...>', 'the dead-letter IDs to redrive (the ID column of `dlq list`)', streamIds('--id'))
    .option('--all', 'redrive every dead letter there is now')
    .addHelpText(
      'after',
      `
Give --id or --all. Each batch is moved atomically: an event is never both back in the stream
and still in the dead-letter queue.

Examples:
  $ sluice dlq redrive events:orders --id 1700000005000-0 1700000005001-0
  $ sluice dlq redrive events:orders --all`,
    )
    .action(async (stream: string, flags: RedriveFlags, command: Command) => {
      const globals = globalOptions(command);
      if (flags.id !== undefined && flags.all === true) throw new UsageError('Expected either `--id ID…` or `--all`, got both');
      if (flags.id === undefined && flags.all !== true) throw new UsageError('Expected `--id ID…` (the dead letters to redrive) or `--all`, got neither');
      const ids = flags.id === undefined ? undefined : [...new Set(flags.id)];
      await withSluice(globals, async (sluice) => {
        const queue = sluice.stream(stream).deadLetters();
        const moved = await queue.redrive(ids === undefined ? { all: true } : { ids });
        const events = [...moved].map(([deadLetterId, id]) => ({ deadLetterId, id }));
        const notFound = ids === undefined ? [] : ids.filter((id) => !moved.has(id));
        if (globals.json) await writeJson({ stream, redriven: events.length, events, notFound });
        else {
          const head = `redriven ${formatCount(events.length)} event${events.length === 1 ? '' : 's'} to ${stream}`;
          await writeLine(events.length === 0 ? head : `${head}:\n${events.map((e) => `${e.deadLetterId} -> ${e.id}`).join('\n')}`);
        }
        if (notFound.length > 0) {
          const list = notFound.length > 5 ? `${notFound.slice(0, 5).join(', ')} and ${notFound.length - 5} more` : notFound.join(', ');
          throw new SluiceError(
            'ERR_DEAD_LETTER_NOT_FOUND',
            `${notFound.length} of the IDs ${notFound.length === 1 ? 'is' : 'are'} not in ${queue.key} (already redriven or purged? see \`sluice dlq list ${stream}\`): ${list}`,
          );
        }
      });
    });

  dlq
    .command('purge')
    .description('delete every dead letter of a stream, and print how many there were')
    .argument('<stream>', 'the stream whose dead letters to delete, e.g. events:orders', streamName)
    .action(async (stream: string, _flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const queue = sluice.stream(stream).deadLetters();
        const removed = await queue.purge();
        if (globals.json) await writeJson({ stream, deadLetters: queue.key, removed });
        else await writeLine(`removed ${formatCount(removed)} dead letter${removed === 1 ? '' : 's'} from ${queue.key}`);
      });
    });
}

/**
 * One row per dead letter. The error is cut to a readable width; on a terminal (`columns`), every
 * row is cut to the screen's width, fields last. `--json` has everything.
 */
export function renderDeadLetters(letters: readonly DeadLetter[], columns?: number): string {
  const text = table(
    ['ID', 'TIME', 'ORIGINAL ID', 'GROUP', 'REASON', 'DELIVERIES', 'ERROR', 'FIELDS'],
    letters.map((l) => [
      l.id,
      formatTime(l.time),
      l.originalId,
      l.group,
      l.reason,
      l.deliveryCount === null ? '?' : formatCount(l.deliveryCount),
      cut(l.error.replace(/\s+/g, ' '), ERROR_WIDTH),
      renderFields(l),
    ]),
  );
  if (columns === undefined || columns <= 0) return text;
  return text
    .split('\n')
    .map((line) => cut(line, columns - 1))
    .join('\n');
}

function renderFields(letter: DeadLetter): string {
  const fields = Object.entries(letter.fields).map(([name, value]) => `${name}=${value}`);
  // Metadata by the field names stored in Redis (`$key`, `$tp`…), as redis-cli shows them.
  const meta = Object.entries(letter.meta ?? {}).map(([name, value]) => `${FIELD_OF_META.get(name) ?? `$${name}`}=${value ?? ''}`);
  return [...fields, ...meta].join(' ').replace(/[\r\n]+/g, ' ');
}

const FIELD_OF_META = new Map(Object.entries(META_FIELDS).map(([field, name]) => [String(name), field]));

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
