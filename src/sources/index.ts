/**
 * Where pipelines get their events: a stream (read through the pipeline's group), or HTTP ingest,
 * stdin, a JSON Lines file or a generator, which publish into the pipeline's input stream.
 */
export {
  SOURCE_TYPES,
  SourceError,
  type FileSourceConfig,
  type GeneratorSourceConfig,
  type HttpSourceConfig,
  type Source,
  type SourceConfig,
  type SourceContext,
  type SourceType,
  type StdinSourceConfig,
  type StreamSourceConfig,
} from './source.js';
export { createSource, type CreateSourceOptions } from './create-source.js';
export { StreamSource } from './stream.js';
export { HttpSource } from './http.js';
export { JsonlSource, type JsonlSourceOptions } from './jsonl.js';
export { GeneratorSource, orderEvent, compileFieldTemplate, type OrderEvent, type OrderStatus } from './generator.js';
