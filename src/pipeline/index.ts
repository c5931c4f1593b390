/**
 * Declarative pipelines: a source, steps (filter, map, route) and sinks, defined in TypeScript
 * (`definePipeline`) or YAML (`loadPipelineFile`), run through a consumer group (`runPipeline`).
 * See docs/pipelines.md.
 */
export type {
  BatchConfig,
  Condition,
  FilterFunction,
  FilterStep,
  MapFunction,
  MapModule,
  MapResult,
  MapStep,
  PipelineConfig,
  PipelineEvent,
  RouteCase,
  RouteDefault,
  RouteStep,
  SinkTarget,
  StepConfig,
} from './config.js';
export { definePipeline, Pipeline, DEFAULT_BATCH_SIZE, DEFAULT_LINGER_MS, type DefinePipelineOptions } from './define-pipeline.js';
export { runPipeline, type PipelineStats, type RunningPipeline, type RunPipelineOptions } from './run-pipeline.js';
export { compileExpression, Expression, InvalidExpressionError } from './expression.js';
export { SinkBatcher, BatchRejection, type SinkBatcherOptions } from './sink-batcher.js';
export { loadPipelineFile, parsePipelineYaml, type LoadPipelinesOptions, type ParsedPipelineYaml, type ParsePipelineYamlOptions } from './load-config.js';
export { PipelineConfigError, type FilePosition } from './config-error.js';
export { substituteEnv } from './env-substitution.js';
