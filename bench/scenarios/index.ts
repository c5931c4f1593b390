import type { Scenario } from '../lib/scenario.js';
import { consumeMemoryScenario } from './consume-memory.js';
import { consumeScenario } from './consume.js';
import { publishScenario } from './publish.js';

/** Every scenario, in run order. A new one is a file in this folder, added here. */
export const scenarios: readonly Scenario[] = [publishScenario, consumeScenario, consumeMemoryScenario];
