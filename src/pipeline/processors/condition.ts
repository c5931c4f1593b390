import { InvalidOptionError } from '../../errors.js';
import type { Condition, PipelineEvent } from '../config.js';
import { compileExpression } from '../expression.js';
import { describeExpression, isPromiseLike, notBoolean, stepError } from './processor.js';

/** A compiled condition: true or false for an event (or a promise of it, from an async function). */
export type Test = (event: PipelineEvent) => boolean | Promise<boolean>;

/**
 * Compiles the condition of a filter or a route case: a CEL expression (checked now) or a
 * function. Evaluating it throws the step's error (see `stepError`) when it fails or gives
 * something other than a boolean.
 */
export function compileCondition(condition: Condition, at: string): Test {
  if (typeof condition === 'function') {
    const what = `function ${condition.name || '(anonymous)'}`;
    return (event) => {
      let result: unknown;
      try {
        result = condition(event);
      } catch (error) {
        throw stepError(error, at, what);
      }
      if (isPromiseLike<unknown>(result)) {
        return Promise.resolve(result).then(
          (value) => boolean(value, at, what),
          (error: unknown) => {
            throw stepError(error, at, what);
          },
        );
      }
      return boolean(result, at, what);
    };
  }
  if (typeof condition !== 'string' && typeof condition !== 'boolean') throw new InvalidOptionError(at, condition, 'a CEL expression like `status == "paid"`, or a function (event) => boolean');
  const expression = compileExpression(condition as string | boolean, at);
  const what = describeExpression(expression);
  return (event) => {
    let result: unknown;
    try {
      result = expression.evaluate(event);
    } catch (error) {
      throw stepError(error, at, what);
    }
    return boolean(result, at, what);
  };
}

function boolean(value: unknown, at: string, what: string): boolean {
  if (value === true || value === false) return value;
  throw notBoolean(at, what, value);
}
