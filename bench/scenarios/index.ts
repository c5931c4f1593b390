import type { Scenario } from '../lib/scenario.js';
import { consumeMemoryScenario } from './consume-memory.js';
import { consumeScenario } from './consume.js';
import { endToEndScenario } from './end-to-end.js';
import { latencyScenario } from './latency.js';
import { producerRedisDownScenario } from './producer-redis-down.js';
import { publishScenario } from './publish.js';
import { redisMemoryScenario } from './redis-memory.js';

/** Every scenario, in run order. A new one is a file in this folder, added here. */
export const scenarios: readonly Scenario[] = [publishScenario, consumeScenario, consumeMemoryScenario, endToEndScenario, latencyScenario, producerRedisDownScenario, redisMemoryScenario];
