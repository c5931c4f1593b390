import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type ContextManager,
  type Exception,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/**
 * A tracer that records every span in memory, written against @opentelemetry/api's interfaces
 * alone (no SDK dependency): what a real SDK does for parentage (a child takes its parent's trace
 * ID and records its span ID), nothing else.
 */
export class RecordedSpan implements Span {
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;
  readonly exceptions: Exception[] = [];

  constructor(
    public name: string,
    readonly kind: SpanKind,
    readonly attributes: Attributes,
    /** The parent's span context, undefined for a root span. */
    readonly parent: SpanContext | undefined,
    readonly context: SpanContext,
  ) {}

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(name: string): this {
    this.name = name;
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: Exception): void {
    this.exceptions.push(exception);
  }
}

export class RecordingTracer implements Tracer {
  readonly spans: RecordedSpan[] = [];

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): RecordedSpan {
    const parentContext = options.root ? undefined : trace.getSpanContext(ctx);
    const parent = parentContext && isSpanContextValid(parentContext) ? parentContext : undefined;
    const spanContext: SpanContext = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    };
    const span = new RecordedSpan(name, options.kind ?? SpanKind.INTERNAL, { ...options.attributes }, parent, spanContext);
    this.spans.push(span);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, arg2?: SpanOptions | F, arg3?: Context | F, arg4?: F): ReturnType<F> {
    const fn = (arg4 ?? (typeof arg3 === 'function' ? arg3 : arg2)) as F;
    const options = typeof arg2 === 'object' ? arg2 : {};
    const parent = typeof arg3 === 'object' ? arg3 : context.active();
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

export class RecordingTracerProvider implements TracerProvider {
  readonly tracer = new RecordingTracer();

  getTracer(): Tracer {
    return this.tracer;
  }
}

/** The context manager an SDK registers for Node: the active context follows async calls. */
export class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(ctx, fn, undefined, ...args)) as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

/** Registers a recording tracer and an async context manager globally; `unregister` undoes it. */
export function registerRecordingTracer(): { tracer: RecordingTracer; unregister: () => void } {
  const provider = new RecordingTracerProvider();
  const manager = new AsyncLocalContextManager();
  if (!context.setGlobalContextManager(manager)) throw new Error('a context manager is registered already');
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is registered already');
  return {
    tracer: provider.tracer,
    unregister: () => {
      trace.disable();
      context.disable();
    },
  };
}
