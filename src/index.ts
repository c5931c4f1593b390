/**
 * Sluice: event pipelines on Redis Streams.
 *
 * ```ts
 * import { connect } from 'sluice';
 * const sluice = await connect();
 * const orders = sluice.stream('events:orders', { retention: { maxLen: 10_000 } });
 * await orders.publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' });
 * ```
 */
export { connect, Sluice, type ConnectOptions } from './sluice.js';
export { Stream, type JsonStream, type StreamOptions, type PublishOptions, type PublishOnceResult, type PublishManyOptions, type RangeOptions } from './stream/stream.js';
export type { ReadOptions, ReadFrom } from './stream/reader.js';
export type { StreamInfo, GroupInfo, ConsumerInfo } from './stream/stream-info.js';
export type { RetentionPolicy } from './stream/xadd-args.js';
export type { PublisherOptions } from './stream/publisher.js';
export type { ProducerEvents, BackpressureLimit } from './stream/producer-events.js';
export type { Logger } from './observe/logger.js';
export type { EventEnvelope, EventMeta, FieldsEvent, FieldsInput, FieldValue, JsonEvent, PublishMeta } from './stream/event.js';
export type { CodecName } from './stream/codec.js';
export type { StandardSchemaV1 } from './stream/schema.js';
export { compareIds, idTime, isStreamId } from './stream/stream-id.js';
export { parseDuration, parseTime } from './stream/time.js';
export type { Capabilities } from './redis/capabilities.js';
export { auditServer, type AuditFinding } from './redis/server-audit.js';
export {
  managedRedisStatus,
  startManagedRedis,
  stopManagedRedis,
  type ManagedRedisOptions,
  type ManagedRedisStatus,
} from './redis/managed-server.js';
export { Worker, NonRetryableError, type Handler, type HandlerContext, type CloseOptions } from './consumer/worker.js';
export type { ConsumerOptions } from './consumer/options.js';
export type { RateLimitOptions } from './consumer/rate-limit.js';
export type { BackoffOptions } from './consumer/backoff.js';
export type { WorkerEvents, DeadLetterReason } from './consumer/worker-events.js';
export { DeadLetterQueue, type DeadLetter } from './consumer/dead-letter-queue.js';
export type { CreateGroupResult, DeleteGroupOptions, DeleteGroupResult, GroupPosition, ResetGroupResult } from './consumer/group-admin.js';
export { readGroupReports, type GroupReport, type GroupsReport, type GroupReportOptions, type PendingEntryInfo } from './consumer/group-report.js';
export { alertFindings, checkAlerts, snapshotFindings, takeSnapshot, DEFAULT_MAX_LENGTH, type AlertFinding, type AlertKind, type AlertThresholds, type CheckAlertsOptions, type GroupSnapshot, type StreamSnapshot } from './flow/alerts.js';
export { createServer, startServer, SluiceServer, HttpError, type ServerOptions, type IngestLimits, type Route, type RouteHandler, type RequestContext } from './server/index.js';
export * from './sinks/index.js';
export type { HeldBack, TrimReport } from './flow/retention.js';
export type { BackpressureOptions } from './flow/backpressure.js';
export type { Durability } from './flow/durability.js';
export type { IdempotencyOptions } from './flow/producer-flow.js';
export { groupLags, type GroupLag } from './flow/lag.js';
export { OverviewReader, type Overview, type OverviewStream, type OverviewGroup, type OverviewConsumer, type OverviewOptions } from './observe/overview.js';
export { createMetrics, instrumentProducer, instrumentWorker, Metrics, type MetricsOptions, type MetricBuckets } from './observe/metrics.js';
export { serveMetrics, type MetricsEndpoint, type MetricsEndpointOptions } from './observe/metrics-endpoint.js';
// Pipelines: definePipeline / runPipeline, YAML loading, expressions, sources.
export * from './pipeline/index.js';
export * from './sources/index.js';
export * from './errors.js';
