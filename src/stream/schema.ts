import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidOptionError, SchemaValidationError } from '../errors.js';

export type { StandardSchemaV1 };

/** Checks at construction that `schema` is a Standard Schema (zod, valibot, arktype…). */
export function assertSchema(schema: unknown): StandardSchemaV1 | undefined {
  if (schema === undefined) return undefined;
  const standard = (schema as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  if (typeof standard?.validate !== 'function') {
    throw new InvalidOptionError('schema', schema, 'a Standard Schema (zod 3.24+, valibot, arktype…)');
  }
  return schema as StandardSchemaV1;
}

/**
 * Validates `value`; returns the schema's output (it may coerce or transform) or throws
 * `SchemaValidationError`. Stays synchronous when the schema is.
 */
export function validate(schema: StandardSchemaV1, value: unknown, eventId?: string): unknown | Promise<unknown> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) return result.then((r) => outcome(r, eventId));
  return outcome(result, eventId);
}

function outcome(result: StandardSchemaV1.Result<unknown>, eventId?: string): unknown {
  if (result.issues) throw new SchemaValidationError(result.issues, eventId);
  return result.value;
}
