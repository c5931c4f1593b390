import { randomUUID } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import { keyAt, optionError } from '../pipeline/key-path.js';
import type { CodecName } from '../stream/codec.js';
import type { Stream } from '../stream/stream.js';
import { SourceError, type GeneratorSourceConfig, type Source, type SourceContext } from './source.js';
import { readSourceBase } from './source-options.js';

/** The status of an order event, as the Redis guide's orders go through them. */
export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'cancelled';

/**
 * The Redis guide's order event: four string fields, exactly as `XADD events:orders * order_id
 * 12345 …` writes them. A type (not an interface), so it is a `FieldsInput` as it is.
 */
export type OrderEvent = {
  order_id: string;
  customer_id: string;
  /** Two decimals, from `1.00` to `500.99`. */
  amount: string;
  status: OrderStatus;
};

/** Statuses with their share of the events: most orders are pending or paid, a few are cancelled. */
const STATUS_WEIGHTS: ReadonlyArray<readonly [OrderStatus, number]> = [
  ['pending', 0.4],
  ['paid', 0.3],
  ['shipped', 0.2],
  ['cancelled', 0.1],
];

/**
 * The order event number `sequence`: `order_id` is the sequence, `customer_id` one of 90 000
 * five-digit customers, `amount` from 1.00 to 500.99, `status` pending (40%), paid (30%), shipped
 * (20%) or cancelled (10%). Pure: the same `random` (values in [0, 1)) gives the same event.
 *
 * @example orderEvent(12345) // { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' }
 */
export function orderEvent(sequence: number, random: () => number = Math.random): OrderEvent {
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new InvalidOptionError('sequence', sequence, 'a whole number ≥ 0');
  const customer = 10_000 + Math.floor(random() * 90_000);
  const cents = 100 + Math.floor(random() * 50_000);
  const pick = random();
  let status: OrderStatus = 'cancelled';
  let bound = 0;
  for (const [name, weight] of STATUS_WEIGHTS) {
    bound += weight;
    if (pick < bound) {
      status = name;
      break;
    }
  }
  return {
    order_id: String(sequence),
    customer_id: String(customer),
    amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    status,
  };
}

/** Builds one field's value for event number `sequence`. */
type FieldMaker = (sequence: number) => string;

const PLACEHOLDER = /\{\{\s*([a-z]+)((?:\s+[^\s}]+)*)\s*\}\}/g;

/**
 * Compiles a field template (`order-{{seq}}`, `{{decimal 1 500}}`, `{{pick a,b,c}}`) into a
 * function, checking every placeholder now. `at` names the field in errors.
 */
export function compileFieldTemplate(template: string, at: string): FieldMaker {
  const parts: Array<string | FieldMaker> = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(template.slice(last, match.index));
    parts.push(placeholder(match[1] as string, (match[2] ?? '').trim().split(/\s+/).filter(Boolean), match[0], at));
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  const rest = parts.filter((p): p is string => typeof p === 'string').join('');
  if (rest.includes('{{')) throw optionError(at, `Expected \`${at}\` to use placeholders like {{seq}}, {{int 1 100}}, {{decimal 1 500}}, {{pick a,b,c}}, {{uuid}} or {{now}}, got \`${template}\``, template);
  if (parts.length === 1 && typeof parts[0] === 'function') return parts[0];
  if (parts.every((p) => typeof p === 'string')) return () => template;
  return (sequence) => {
    let text = '';
    for (const part of parts) text += typeof part === 'string' ? part : part(sequence);
    return text;
  };
}

function placeholder(name: string, args: string[], text: string, at: string): FieldMaker {
  const bad = (expected: string) => optionError(at, `Expected \`${at}\`: \`${text}\` to be ${expected}`, text);
  const range = (): [number, number] => {
    const [low, high] = args.map(Number);
    if (args.length !== 2 || !Number.isFinite(low) || !Number.isFinite(high) || (low as number) > (high as number)) throw bad(`\`{{${name} MIN MAX}}\` with two numbers, MIN ≤ MAX`);
    return [low as number, high as number];
  };
  switch (name) {
    case 'seq':
      if (args.length > 0) throw bad('`{{seq}}`, without arguments');
      return (sequence) => String(sequence);
    case 'int': {
      const [low, high] = range();
      if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) throw bad('`{{int MIN MAX}}` with whole numbers');
      return () => String(low + Math.floor(Math.random() * (high - low + 1)));
    }
    case 'decimal': {
      const [low, high] = range();
      return () => (low + Math.random() * (high - low)).toFixed(2);
    }
    case 'pick': {
      const choices = args.join(' ').split(',').filter((c) => c.length > 0);
      if (choices.length === 0) throw bad('`{{pick a,b,c}}` with at least one choice');
      return () => choices[Math.floor(Math.random() * choices.length)] as string;
    }
    case 'uuid':
      return () => randomUUID();
    case 'now':
      return () => new Date().toISOString();
    default:
      throw bad('one of {{seq}}, {{int MIN MAX}}, {{decimal MIN MAX}}, {{pick a,b,c}}, {{uuid}}, {{now}}');
  }
}

/** Most events sent per publish round (publishes in one tick go to Redis as one pipelined batch). */
const CHUNK = 500;
/** Most rounds awaiting Redis at once. */
const ROUNDS_IN_FLIGHT = 4;

/**
 * Publishes generated events into the pipeline's input stream, at `rate` events per second (or as
 * fast as Redis takes them), until `count` events (or forever). Pacing uses one timer per wait,
 * never one per event: at each wake-up it publishes every event due by then.
 */
export class GeneratorSource implements Source {
  readonly type = 'generator' as const;
  readonly stream: string;
  readonly codec: CodecName;
  readonly url = undefined;
  readonly finite: boolean;
  readonly rate: number | undefined;
  readonly count: number | undefined;
  readonly finished: Promise<void>;
  readonly #make: (sequence: number) => Record<string, string>;
  #published = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor(config: GeneratorSourceConfig, at = 'source') {
    const { reader, base } = readSourceBase(config, 'a generator source', at, ['rate', 'count', 'preset', 'fields']);
    this.stream = base.stream;
    this.codec = base.codec;
    const rate = reader.raw('rate');
    if (rate !== undefined && (typeof rate !== 'number' || !(rate > 0 && rate <= 10_000_000))) {
      throw new InvalidOptionError(reader.path('rate'), rate, 'a number of events per second, more than 0 (e.g. 0.5, 50 or 10000)');
    }
    this.rate = rate;
    this.count = reader.has('count') ? reader.integer('count', 1, { min: 1 }) : undefined;
    this.finite = this.count !== undefined;
    const fields = reader.record('fields', 'an object of field templates like { user: "u{{int 1 100}}", page: "{{pick home,cart}}" }');
    if (fields !== undefined && reader.has('preset')) {
      throw optionError(reader.path('preset'), `Expected either \`${reader.path('preset')}\` or \`${reader.path('fields')}\`, not both`, config.preset);
    }
    if (fields === undefined) {
      reader.oneOf('preset', ['orders'], 'orders');
      this.#make = (sequence) => orderEvent(sequence);
    } else {
      const makers: Array<[string, FieldMaker]> = [];
      for (const [name, template] of Object.entries(fields)) {
        const path = keyAt(reader.path('fields'), name);
        if (typeof template !== 'string') throw new InvalidOptionError(path, template, 'a text template like "order-{{seq}}"');
        makers.push([name, compileFieldTemplate(template, path)]);
      }
      if (makers.length === 0) throw new InvalidOptionError(reader.path('fields'), fields, 'at least one field template');
      this.#make = (sequence) => {
        const event: Record<string, string> = {};
        for (const [name, make] of makers) event[name] = make(sequence);
        return event;
      };
    }
    this.finished = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.finished.catch(() => undefined);
  }

  get published(): number {
    return this.#published;
  }

  async check(): Promise<void> {}

  async start(context: SourceContext): Promise<void> {
    this.#loop = this.#run(context.stream).then(
      () => {
        if (!this.#stopped) this.#resolve();
      },
      (error: unknown) => {
        context.logger.error({ err: error, source: this.type }, 'the generator stopped');
        this.#reject(error);
      },
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(stream: Stream<unknown, unknown>): Promise<void> {
    const started = performance.now();
    const rounds = new Set<Promise<void>>();
    let sent = 0;
    let failure: unknown;
    while (!this.#stopped && failure === undefined && (this.count === undefined || sent < this.count)) {
      let due = CHUNK;
      if (this.count !== undefined) due = Math.min(due, this.count - sent);
      if (this.rate !== undefined) {
        const allowed = Math.floor(((performance.now() - started) / 1000) * this.rate) + 1 - sent;
        if (allowed <= 0) {
          // Until the next event is due.
          await this.#sleep(((sent + 1) / this.rate) * 1000 - (performance.now() - started));
          continue;
        }
        due = Math.min(due, allowed);
      }
      const events: unknown[] = [];
      for (let i = 0; i < due; i++) events.push(this.#make(++sent));
      const round: Promise<void> = stream.publishMany(events).then(
        () => {
          this.#published += events.length;
          rounds.delete(round);
        },
        (error: unknown) => {
          failure ??= error;
          rounds.delete(round);
        },
      );
      rounds.add(round);
      if (rounds.size >= ROUNDS_IN_FLIGHT) await Promise.race(rounds);
      // Unpaced, let I/O (acks, reads of the pipeline's own worker) through between rounds.
      else if (this.rate === undefined) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(rounds);
    if (failure !== undefined) {
      throw new SourceError(`Publishing generated events to ${this.stream} failed after ${this.#published}: ${(failure as Error)?.message ?? String(failure)}`, { cause: failure });
    }
  }

  /** A wait that stop() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.#wake = done;
    });
  }
}
