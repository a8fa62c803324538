/**
 * The OpenTelemetry Collector clickhouseexporter's DDL, verbatim but for the database name: the
 * traces table, the trace-id lookup table with its materialized view, and the logs table, as its Go
 * templates render them (`internal/sqltemplates/*.sql`): text indexes for ClickHouse >= 26.2 (the
 * exporter's `versionFullTextSearch`; traces as in contrib PR #50878), bloom filters before; logs
 * as since v0.151.0. Both run unchanged on chDB 26.7. Applied only when asked (`--create-schema`),
 * as the exporter does with `create_schema: true`; it never ALTERs an existing table, nor does this.
 */

/** The first server version whose DDL uses text indexes (the exporter's `versionFullTextSearch`). */
export const TEXT_INDEX_VERSION: readonly [number, number] = [26, 2];

/** The skip indexes, the only part that differs between the two generations (the exporter's `{{if .HasFullTextSearch}}`). */
interface SchemaIndexes {
  readonly traces: string;
  readonly logs: string;
}

const TEXT_INDEXES: SchemaIndexes = {
  traces: `    INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_items ResourceAttributeItems TYPE text(tokenizer = 'array'),
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_span_attr_items SpanAttributeItems TYPE text(tokenizer = 'array'),`,
  logs: `    INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')`,
};

const BLOOM_FILTER_INDEXES: SchemaIndexes = {
  traces: `    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,`,
  logs: `    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8`,
};

/** The statements for ClickHouse >= 26.2 (text indexes). */
export function textIndexSchema(database: string): string[] {
  return exporterSchema(database, TEXT_INDEXES);
}

/** The statements for servers before 26.2 (bloom filters). */
export function bloomFilterSchema(database: string): string[] {
  return exporterSchema(database, BLOOM_FILTER_INDEXES);
}

function exporterSchema(database: string, indexes: SchemaIndexes): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS \`${database}\`.\`otel_traces\`  (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
${indexes.traces}
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)

SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
    `CREATE TABLE IF NOT EXISTS \`${database}\`.\`otel_traces_trace_id_ts\`  (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree()
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)

SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS \`${database}\`.\`otel_traces_trace_id_ts_mv\` 
TO \`${database}\`.\`otel_traces_trace_id_ts\`
AS SELECT
    TraceId,
    min(toDateTime(Timestamp)) AS Start,
    max(toDateTime(Timestamp)) AS End
FROM \`${database}\`.\`otel_traces\`
WHERE TraceId != ''
GROUP BY TraceId`,
    `CREATE TABLE IF NOT EXISTS \`${database}\`.\`otel_logs\`  (
    \`Timestamp\` DateTime64(9) COMMENT 'Event timestamp with nanosecond precision' CODEC(Delta(8), ZSTD(1)),
    \`TraceId\` String COMMENT 'W3C trace identifier' CODEC(ZSTD(1)),
    \`SpanId\` String COMMENT 'W3C span identifier' CODEC(ZSTD(1)),
    \`TraceFlags\` UInt8 COMMENT 'W3C trace flags',
    \`SeverityText\` LowCardinality(String) COMMENT 'Log severity as text' CODEC(ZSTD(1)),
    \`SeverityNumber\` UInt8 COMMENT 'Log severity as number (1-24)',
    \`ServiceName\` LowCardinality(String) COMMENT 'Service that emitted the log' CODEC(ZSTD(1)),
    \`Body\` String COMMENT 'Log message body' CODEC(ZSTD(1)),
    \`ResourceSchemaUrl\` LowCardinality(String) COMMENT 'Schema URL for the resource' CODEC(ZSTD(1)),
    \`ResourceAttributes\` Map(LowCardinality(String), String) COMMENT 'Resource attributes as key-value pairs' CODEC(ZSTD(1)),
    \`ScopeSchemaUrl\` LowCardinality(String) COMMENT 'Schema URL for the instrumentation scope' CODEC(ZSTD(1)),
    \`ScopeName\` String COMMENT 'Instrumentation scope name' CODEC(ZSTD(1)),
    \`ScopeVersion\` LowCardinality(String) COMMENT 'Instrumentation scope version' CODEC(ZSTD(1)),
    \`ScopeAttributes\` Map(LowCardinality(String), String) COMMENT 'Instrumentation scope attributes' CODEC(ZSTD(1)),
    \`LogAttributes\` Map(LowCardinality(String), String) COMMENT 'Log record attributes' CODEC(ZSTD(1)),
    \`EventName\` String COMMENT 'Event name for log records representing events' CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.cluster.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.cluster.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.container.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.container.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.deployment.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.deployment.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.namespace.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.namespace.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.node.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.node.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.pod.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.pod.uid\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.uid'] CODEC(ZSTD(1)),
    \`__otel_materialized_deployment.environment.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['deployment.environment.name'] CODEC(ZSTD(1)),
${indexes.logs}
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)

SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
  ];
}
