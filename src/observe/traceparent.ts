/**
 * The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `<version>-<trace-id>-<parent-id>-<trace-flags>`, e.g.
 * `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. Sluice stores it in an event's `$tp`
 * field. Pure text in, text out: no OpenTelemetry here, so it is tested without a tracer.
 */

/** The parts of a traceparent, as an OpenTelemetry `SpanContext` has them. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The parent span's ID: 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** The trace flags byte; bit 0 is `sampled`. */
  traceFlags: number;
}

/** `00-<trace-id>-<span-id>-<flags>`, the version Sluice writes. */
export function formatTraceparent(parent: TraceParent): string {
  const flags = parent.traceFlags & 0xff;
  return `00-${parent.traceId}-${parent.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/**
 * Reads a traceparent, or returns undefined when it is not one (as the spec asks of a receiver:
 * an invalid header is ignored, and the trace starts afresh). Version `00` must be exactly 55
 * characters; a later version may append `-…` fields, which are ignored; version `ff` is invalid.
 */
export function parseTraceparent(text: string): TraceParent | undefined {
  if (typeof text !== 'string' || text.length < 55) return undefined;
  if (text.charCodeAt(2) !== DASH || text.charCodeAt(35) !== DASH || text.charCodeAt(52) !== DASH) return undefined;
  if (!isHex(text, 0, 2) || !isHex(text, 3, 35) || !isHex(text, 36, 52) || !isHex(text, 53, 55)) return undefined;
  const version = text.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' ? text.length !== 55 : text.length > 55 && text.charCodeAt(55) !== DASH) return undefined;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(text.slice(53, 55), 16) };
}

/** True for a string `parseTraceparent` accepts. */
export function isTraceparent(text: unknown): text is string {
  return typeof text === 'string' && parseTraceparent(text) !== undefined;
}

const DASH = 45;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** Lowercase hex only: the spec forbids uppercase, and a receiver must not accept it. */
function isHex(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * True for text that can be a W3C `tracestate` (https://www.w3.org/TR/trace-context/#tracestate-header)
 * as the spec bounds the header: printable ASCII, at most 512 characters. Its list members are not
 * parsed here: OpenTelemetry does that when the consumer's span starts, dropping those it cannot read.
 */
export function isTracestate(text: unknown): text is string {
  return typeof text === 'string' && text.length > 0 && text.length <= 512 && /^[\x20-\x7e]+$/.test(text);
}
