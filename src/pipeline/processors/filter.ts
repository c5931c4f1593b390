import type { Condition, PipelineEvent } from '../config.js';
import { compileCondition } from './condition.js';
import type { Processor, StepResult } from './processor.js';

/**
 * `{ filter: condition }`: events for which the condition is true go on; the others are
 * acknowledged and dropped (counted as filtered).
 */
export function filterProcessor(condition: Condition, at: string): Processor {
  const test = compileCondition(condition, `${at}.filter`);
  return {
    at,
    process(event: PipelineEvent): StepResult {
      const kept = test(event);
      if (kept === true) return event;
      if (kept === false) return null;
      return kept.then((value) => (value ? event : null));
    },
  };
}
