import { NonRetryableError } from '../../consumer/worker.js';
import { show } from '../../errors.js';
import type { PipelineEvent } from '../config.js';
import { describeEvaluationError, type Expression } from '../expression.js';

/**
 * What a step makes of an event: the event to pass on, `null` to drop it (acknowledged, counted
 * as filtered), or a promise of either. A step throws to fail the event (see `stepError`).
 */
export type StepResult = PipelineEvent | null | Promise<PipelineEvent | null>;

/** One compiled step of a pipeline. Built once, when the pipeline is defined. */
export interface Processor {
  /** Where the step is configured (`steps[1]`), for error messages. */
  readonly at: string;
  process(event: PipelineEvent): StepResult;
}

/**
 * The error an event fails with when a step cannot handle it. An expression that fails on an
 * event (a missing field, `double("n/a")`) will fail again on every retry, so the event is
 * dead-lettered at once with the expression and the reason. A function's error is treated the
 * same, unless it says `retryable: true` (a lookup that timed out): then it is retried.
 */
export function stepError(error: unknown, at: string, what: string): Error {
  if ((error as { retryable?: unknown } | null)?.retryable === true) return error as Error;
  const reason = describeEvaluationError(error);
  return new NonRetryableError(`${at} ${what} failed: ${reason}`, { cause: error });
}

/** How an expression is named in errors: its path and its text. */
export function describeExpression(expression: Expression): string {
  return `\`${expression.source}\``;
}

/** The error for a condition that gave something else than true or false. */
export function notBoolean(at: string, what: string, value: unknown): NonRetryableError {
  const shown = typeof value === 'bigint' ? `${value}` : show(value);
  return new NonRetryableError(`${at} ${what} gave ${shown}, expected true or false`);
}

/** True for a promise or any thenable a user function may return. */
export function isPromiseLike<T>(value: unknown): value is Promise<T> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
