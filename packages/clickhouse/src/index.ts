/**
 * @stall-why/clickhouse: stall-why on the OpenTelemetry Collector clickhouseexporter's schema.
 * `analyzeClickHouse` judges the turns ClickHouse finds worth judging; `ClickHouseRecordSink`
 * writes what `stall-why collect` receives into the same tables. `chdb:<dir>` runs the same on
 * embedded ClickHouse when the `chdb` package is installed.
 */
export * from './clickhouse-address.js';
export * from './clickhouse-connection.js';
export { createExporterSchema, assertExporterSchema, supportsTextIndexes, TRACES_TABLE, TRACE_ID_TS_TABLE, LOGS_TABLE } from './clickhouse-schema.js';
export { traceRowOf, spanOfTraceRow, logRowOf, logOfLogRow, type TraceRow, type LogRow, type ReadTraceRow, type ReadLogRow } from './exporter-rows.js';
export { exporterValueText, restoredAttributes } from './exporter-attributes.js';
export * from './clickhouse-record-sink.js';
export * from './clickhouse-analysis.js';
export * from './fleet-summary.js';
