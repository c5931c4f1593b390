import {
  context,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/**
 * Trace-context propagation through `$tp`, on @opentelemetry/api alone: without an SDK every call
 * here is a no-op that allocates nothing.
 *
 * - Publish: the active span's context becomes the event's `$tp` (W3C traceparent). No producer
 *   span is started per event: the caller's span is the event's parent, which costs nothing per
 *   publish (a span per event would cost an allocation, a timer-free end callback and an export
 *   each, on the hottest path of all).
 * - Consume: the handler runs inside a CONSUMER span `<stream> process`, a child of the `$tp`
 *   context when the event has one (a new trace otherwise), and active while the handler runs, so
 *   spans the handler starts — and events it publishes — continue the trace.
 */

/** What the API hands out while no SDK registered a tracer provider. */
const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

let lastSpanContext: SpanContext | undefined;
let lastTraceparent = '';
let lastTracestate: string | undefined;

/**
 * The traceparent of the span active now, or undefined when there is none (always, without an
 * SDK: the no-op context manager's active context holds no span). Publishes made in one span
 * share its span context object, so its text is formatted once.
 */
export function activeTraceparent(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  if (spanContext === undefined) return undefined;
  if (spanContext === lastSpanContext) return lastTraceparent;
  if (!isSpanContextValid(spanContext)) return undefined;
  lastTraceparent = formatTraceparent(spanContext);
  const tracestate = spanContext.traceState?.serialize();
  lastTracestate = tracestate ? tracestate : undefined;
  lastSpanContext = spanContext;
  return lastTraceparent;
}

/**
 * The trace state of the span whose traceparent `activeTraceparent()` just returned, when it has
 * entries (serialized once per span context, like the traceparent).
 */
export function activeTracestate(): string | undefined {
  return lastTracestate;
}

/**
 * The parent context of an event's handler span: its `$tp` (with the `$ts` trace state, when it
 * has one), or a new trace without a valid traceparent.
 */
export function contextOfTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  const parent = parseTraceparent(traceparent);
  if (!parent) return ROOT_CONTEXT;
  // Remote: the span context came from another process (or another moment) through the stream.
  const spanContext: SpanContext = { ...parent, isRemote: true };
  if (tracestate !== undefined) spanContext.traceState = createTraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * Sluice's tracer from the registered SDK, or undefined when no tracer provider is registered.
 * Undefined is the fast path: the worker then runs handlers without a span, a context or a
 * closure. Checked by the provider behind the global proxy, so an SDK registered later (or
 * replaced, as tests do) is picked up.
 */
export function activeTracer(): Tracer | undefined {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (provider === NOOP_PROVIDER) return undefined;
  if (provider !== cachedProvider) {
    cachedTracer = provider.getTracer('sluice');
    cachedProvider = provider;
  }
  return cachedTracer;
}

/** Where a handler span's attributes come from. */
export interface HandlerSpanTarget {
  readonly stream: string;
  readonly group: string;
}

/** A started handler span and the context to run the handler in (the span active in it). */
export interface HandlerSpan {
  span: Span;
  context: Context;
}

/**
 * Starts the CONSUMER span of one handler run, named and attributed per the OpenTelemetry
 * messaging conventions, as a child of the event's `$tp`. End it with `endHandlerSpan`.
 */
export function startHandlerSpan(tracer: Tracer, target: HandlerSpanTarget, event: { id: string; meta?: { traceparent?: string; tracestate?: string } }): HandlerSpan {
  const parent = contextOfTraceparent(event.meta?.traceparent, event.meta?.tracestate);
  const span = tracer.startSpan(
    `${target.stream} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'redis_streams',
        'messaging.operation.type': 'process',
        'messaging.destination.name': target.stream,
        'messaging.consumer.group.name': target.group,
        'messaging.message.id': event.id,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a handler span whose run succeeded. */
export function endHandlerSpan(span: Span): void {
  span.end();
}

/** Ends a handler span whose run failed: status ERROR, with the exception recorded. */
export function failHandlerSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}

/** Runs `fn(a, b)` with `ctx` active (no closure: the arguments are passed through). */
export function runInContext<A, B, R>(ctx: Context, fn: (a: A, b: B) => R, a: A, b: B): R {
  return context.with(ctx, fn, undefined, a, b);
}
