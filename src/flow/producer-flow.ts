import { InvalidOptionError } from '../errors.js';
import type { Capabilities } from '../redis/capabilities.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { Logger } from '../observe/logger.js';
import type { ProducerEmitter } from '../stream/producer-events.js';
import type { FollowUp, SendExtras } from '../stream/publisher.js';
import { helperKey } from '../stream/stream-name.js';
import { parseDuration } from '../stream/time.js';
import type { Retention } from '../stream/xadd-args.js';
import { BackpressureGate, type BackpressureOptions } from './backpressure.js';
import {
  assertDurabilitySupported,
  checkDurabilityReply,
  durabilityCommand,
  parseDurability,
  type Durability,
  type ResolvedDurability,
} from './durability.js';
import { RetentionEnforcer } from './retention.js';

const idempotentPublish = new LuaScript('idempotent-publish-3.lua');

/** The dedupe window of idempotent publishes. */
export interface IdempotencyOptions {
  /** How long a key is remembered. @default '1h' */
  window?: number | string;
  /** Most keys remembered per stream (the oldest are forgotten first). @default 100_000 */
  maxKeys?: number;
}

/** Producer-side guarantees of one stream; absent when a stream uses none (no cost then). */
export interface ProducerFlowOptions {
  durability?: Durability;
  backpressure?: BackpressureOptions;
  idempotency?: IdempotencyOptions;
  retention?: Retention;
}

export interface ProducerFlowContext {
  conn: RedisConnection;
  capabilities: () => Promise<Capabilities>;
  log: Logger;
  timeoutMs: number;
  /** The connection's producer events (backpressure waits and refusals are reported there). */
  events?: ProducerEmitter;
}

/**
 * What a stream's producers do beyond XADD: wait or refuse under backpressure, wait for
 * durability (WAIT / WAITAOF after the batch), publish idempotently (Lua, keys in the stream's
 * slot), and run group-respecting retention every few seconds.
 */
export class ProducerFlow {
  readonly durability: ResolvedDurability;
  readonly gate: BackpressureGate | undefined;
  readonly enforcer: RetentionEnforcer | undefined;
  readonly windowMs: number;
  readonly maxKeys: number;
  readonly #ctx: ProducerFlowContext;
  readonly #stream: string;
  readonly #followUps = new Map<string, Promise<FollowUp | undefined>>();

  constructor(ctx: ProducerFlowContext, stream: string, options: ProducerFlowOptions) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.durability = parseDurability(options.durability, defaultDurabilityTimeout(ctx.timeoutMs));
    this.gate = options.backpressure ? new BackpressureGate(ctx.conn, stream, options.backpressure, { defaultTimeoutMs: ctx.timeoutMs, events: ctx.events, log: ctx.log }) : undefined;
    this.enforcer = options.retention?.respectGroups ? new RetentionEnforcer(ctx.conn, stream, options.retention, ctx.log) : undefined;
    const idempotency = options.idempotency ?? {};
    if (idempotency === null || typeof idempotency !== 'object') throw new InvalidOptionError('idempotency', idempotency, 'an object like { window: "1h" }');
    this.windowMs = parseDuration(idempotency.window ?? '1h', 'idempotency.window');
    if (this.windowMs < 1) throw new InvalidOptionError('idempotency.window', idempotency.window, 'a duration of at least 1 ms');
    this.maxKeys = idempotency.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) throw new InvalidOptionError('idempotency.maxKeys', idempotency.maxKeys, 'a whole number ≥ 1');
  }

  /** True when a stream with these options needs nothing beyond XADD. */
  static isPlain(options: ProducerFlowOptions): boolean {
    return (
      (options.durability === undefined || options.durability === 'none') &&
      options.backpressure === undefined &&
      !options.retention?.respectGroups
    );
  }

  /** Before a publish: retention pass when due, then backpressure (undefined: go on now). */
  admit(): Promise<void> | undefined {
    this.enforcer?.poke();
    return this.gate?.admit();
  }

  /** After a publish that `admit` let through settled (stored or failed). */
  settled(): void {
    this.gate?.settled();
  }

  /** The durability a publish asks for: its own, else the stream's. */
  durabilityOf(requested: Durability | undefined): ResolvedDurability {
    return requested === undefined ? this.durability : parseDurability(requested, defaultDurabilityTimeout(this.#ctx.timeoutMs));
  }

  /** The publisher extras for a durability and (maybe) an idempotent publish. */
  async extras(durability: ResolvedDurability, idempotent: boolean): Promise<SendExtras | undefined> {
    const followUp = durability.level === 'none' ? undefined : await this.#followUp(durability);
    if (!followUp && !idempotent) return undefined;
    const extras: SendExtras = {};
    if (followUp) extras.followUp = followUp;
    if (idempotent) extras.script = idempotentPublish;
    return extras;
  }

  /** EVALSHA of the idempotent-publish script around the XADD arguments after the key. */
  idempotentCommand(idempotencyKey: string, xaddTail: readonly string[]): string[] {
    return [
      'EVALSHA', idempotentPublish.sha, '3',
      this.#stream, helperKey(this.#stream, 'idmp'), helperKey(this.#stream, 'idmp:seen'),
      idempotencyKey, String(this.windowMs), String(this.maxKeys),
      ...xaddTail,
    ];
  }

  /** One FollowUp object per durability, so a batch sends one WAIT for all that share it. */
  #followUp(durability: ResolvedDurability): Promise<FollowUp | undefined> {
    const key = JSON.stringify(durability);
    let followUp = this.#followUps.get(key);
    if (!followUp) {
      followUp = (async () => {
        const caps = await this.#ctx.capabilities();
        await assertDurabilitySupported(this.#ctx.conn, caps, durability);
        const args = durabilityCommand(durability, caps);
        return args ? { args, check: (reply: unknown, eventId: string) => checkDurabilityReply(durability, reply, eventId) } : undefined;
      })();
      // A failed check (e.g. `fsync` refused on this server) is not cached: the setting may change.
      followUp.catch(() => this.#followUps.delete(key));
      this.#followUps.set(key, followUp);
    }
    return followUp;
  }
}

/** WAIT / WAITAOF get half the publish timeout, so their verdict arrives before the deadline. */
function defaultDurabilityTimeout(timeoutMs: number): number {
  return Math.max(1, Math.floor(timeoutMs / 2));
}
