/**
 * The window pass: one read of the judged window that both finds the candidate traces and returns
 * their spans. ClickHouse reads whole granules of 8 192 rows, and the exporter sorts by service and
 * span name before time, so a granule of a busy store holds minutes to hours of many services: a
 * query over the last hour reads every granule of the parts that hold it, and any second query over
 * the same rows (markers, statuses, the candidates' traces by id) reads them again. Here they are read
 * once: grouped by trace, each trace's markers, statuses and long waits decide whether it is a
 * candidate, and a candidate's spans come back in the same result.
 *
 * Memory: ClickHouse holds the spans of every trace in the pass until the trace is decided (the
 * GROUP BY), about 1 KB a row (measured on the benchmark's store), so the pass returns spans only when
 * the estimate of the rows it reads is at most `onePassRows`; above it the same pass returns the
 * candidates' ids alone and their spans are fetched by id (see clickhouse-analysis.ts). Node holds
 * nothing of it: the result is streamed, candidates first, and is bounded by the candidate limit.
 */
import { ATTR_PENDING, ATTR_PENDING_PARENT_SPAN_ID, ATTR_THREAD_ID, ATTR_TURN_STATUS, PHASE_TURN, TURN_END_STATUS_FAILED } from '@stall-why/conventions';
import { THREAD_PHASES } from '@stall-why/classifier';
import { exporterValueText } from './exporter-attributes.js';
import { ERROR_STATUS_TEXTS, TRACE_ROW_FIELDS, type ReadTraceRow } from './exporter-rows.js';
import { filterService, item, tableOf, timeRange, type CandidateQuery, type CandidateTrace } from './candidate-turns.js';

export interface WindowPass {
  readonly database: string;
  /** Ended turns: a failed span or a long wait that started at or after this moment (epoch ms). */
  readonly fromMs: number;
  /** The pass reads from this moment (epoch ms), at most `fromMs`, at least the open window's start: markers in it are open turns. */
  readonly passFromMs: number;
  /** The judged moment (epoch ms): nothing later is read. */
  readonly toMs: number;
  /** A non-turn span at least this long is a long wait. */
  readonly longWaitMs: number;
  readonly service?: string;
  /** Traces already found open by markers older than the pass (`earlierOpenQuery`): candidates whatever the pass sees of them. */
  readonly earlierOpen: readonly string[];
  /** At most this many candidate traces, open ones first, then the earliest. */
  readonly limit: number;
  /** Whether the candidates' spans are returned (one read), or their ids alone (spans fetched by id). */
  readonly withSpans: boolean;
}

/**
 * A row of the pass: a span of a candidate trace (`candidate` 1), or a thread-level phase span of
 * another trace (`candidate` 0), which the caller keeps when its thread is a candidate's; without
 * spans, one row per candidate trace.
 */
export type WindowPassRow = Partial<ReadTraceRow> & {
  readonly TraceId: string;
  readonly candidate: number | string;
  readonly open: number | string;
  readonly firstMs: number | string;
  readonly unrooted: number | string;
};

/** A candidate as the pass sees it: `unrooted` when some span's parent lies before the pass (its earlier spans are to be fetched). */
export interface PassCandidate extends CandidateTrace {
  readonly unrooted: boolean;
}

export function candidateOfPassRow(row: WindowPassRow): PassCandidate {
  return { traceId: row.TraceId, open: Number(row.open) === 1, firstMs: Number(row.firstMs), unrooted: Number(row.unrooted) === 1 };
}

export function windowPassQuery(pass: WindowPass): CandidateQuery {
  const params: Record<string, unknown> = {
    passFrom: pass.passFromMs, from: pass.fromMs, to: pass.toMs, limit: pass.limit, earlierOpen: pass.earlierOpen,
    pendingKey: ATTR_PENDING, pendingValue: exporterValueText(true), pendingParentKey: ATTR_PENDING_PARENT_SPAN_ID,
    statusKey: ATTR_TURN_STATUS, failed: TURN_END_STATUS_FAILED, errors: ERROR_STATUS_TEXTS, turnSpan: PHASE_TURN,
    longWaitNs: Math.round(pass.longWaitMs * 1e6), threadKey: ATTR_THREAD_ID, phases: [...THREAD_PHASES],
  };
  const filters = [timeRange('passFrom', 'to')];
  filterService(filters, params, pass.service);
  // Map lookups, not the text index: every row of the pass is read anyway, and `has(SpanAttributeItems, …)`
  // would build every row's item array to test one of them.
  const marker = 'SpanAttributes[{pendingKey:String}] = {pendingValue:String}';
  const troubled = `Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND (StatusCode IN {errors:Array(String)}
    OR SpanAttributes[{statusKey:String}] = {failed:String} OR (SpanName != {turnSpan:String} AND Duration >= {longWaitNs:UInt64}))`;
  // A marker's real span (its ParentSpanId) starts when the marker does, so it lies in the pass when the marker does.
  // A span whose parent is neither a span of the pass nor an open one marked in it began before the pass.
  const parent = `if(${marker}, SpanAttributes[{pendingParentKey:String}], ParentSpanId)`;
  // Span ids are compared by their 64-bit hashes: the sets of every trace of the pass are held until
  // it is decided, and a hash takes 8 bytes where an id's text takes 16 and its own allocation.
  const decided = `
      groupUniqArrayIf(sipHash64(SpanId), NOT (${marker})) AS ended,
      groupUniqArrayIf(sipHash64(ParentSpanId), ${marker}) AS marked,
      NOT hasAll(ended, marked) OR has({earlierOpen:Array(String)}, TraceId) AS open,
      open OR max(${troubled}) AS candidate,
      toUnixTimestamp64Milli(minIf(Timestamp, ${marker} OR (${troubled}))) AS firstMs`;
  const unrooted = `NOT hasAll(arrayConcat(ended, marked), groupUniqArrayIf(sipHash64(${parent}), ${parent} != '')) AS unrooted`;
  const table = tableOf(pass.database);
  if (!pass.withSpans) {
    return {
      query: `SELECT TraceId, ${decided}, 1 AS unrooted FROM ${table} WHERE ${filters.join(' AND ')}
        GROUP BY TraceId HAVING candidate ORDER BY open DESC, firstMs ASC LIMIT {limit:UInt32}`,
      params,
    };
  }
  const span = `tuple(${TRACE_ROW_FIELDS.map(([expression]) => expression).join(', ')})`;
  const columns = TRACE_ROW_FIELDS.map(([, name], i) => `span.${i + 1} AS \`${name}\``).join(', ');
  // A trace that is no candidate returns its thread-level phase spans alone (renderer, hydration: they
  // judge the candidates' threads); the rank limits the candidates, not those.
  return {
    query: `SELECT ${columns}, candidate, open, firstMs, unrooted FROM (
      SELECT TraceId, candidate, open, firstMs, unrooted, spans, row_number() OVER (PARTITION BY candidate ORDER BY open DESC, firstMs ASC) AS rank FROM (
        SELECT TraceId, ${decided}, ${unrooted},
          if(candidate, groupArray(${span}), groupArrayIf(${span}, SpanName IN {phases:Array(String)} AND SpanAttributes[{threadKey:String}] != '')) AS spans
        FROM ${table} WHERE ${filters.join(' AND ')}
        GROUP BY TraceId HAVING notEmpty(spans)))
    ARRAY JOIN spans AS span
    WHERE NOT candidate OR rank <= {limit:UInt32}
    ORDER BY candidate DESC, TimestampNs`,
    params,
  };
}

/**
 * Open turns whose markers started in the open window before the pass (a turn stuck for hours): the
 * markers through the text index, then their traces' rows of the same stretch by id (a marker's real
 * span starts when it does). Both read only the granules that hold a marker or one of those traces.
 */
export function earlierOpenQuery(search: { database: string; openFromMs: number; passFromMs: number; service?: string; limit: number }): CandidateQuery {
  const params: Record<string, unknown> = { openFrom: search.openFromMs, passFrom: search.passFromMs, limit: search.limit, pending: item(ATTR_PENDING, exporterValueText(true)) };
  const where = [timeRange('openFrom', 'passFrom', 'before')];
  filterService(where, params, search.service);
  const table = tableOf(search.database);
  const isMarker = 'has(SpanAttributeItems, {pending:String})';
  const markerTraces = `SELECT TraceId FROM ${table} WHERE ${[...where, isMarker].join(' AND ')}`;
  return {
    query: `SELECT TraceId, toUnixTimestamp64Milli(minIf(Timestamp, marker)) AS firstMs, 1 AS open FROM (
        SELECT TraceId, SpanId, ParentSpanId, Timestamp, ${isMarker} AS marker FROM ${table}
        WHERE ${where.join(' AND ')} AND TraceId IN (${markerTraces}))
      GROUP BY TraceId
      HAVING NOT hasAll(groupUniqArrayIf(SpanId, NOT marker), groupUniqArrayIf(ParentSpanId, marker))
      ORDER BY firstMs ASC LIMIT {limit:UInt32}`,
    params,
  };
}

/**
 * The earliest start of the parts that hold spans of the window (epoch ms), from the parts' own
 * minimum and maximum (the minmax index ClickHouse keeps for the partition key's column): nothing is
 * read, and `max_rows_to_read = 1` makes a server that would read rows for it refuse instead.
 */
export function partsStartQuery(database: string, fromMs: number): CandidateQuery {
  return {
    query: `SELECT toUnixTimestamp64Milli(min(lo)) AS startMs FROM (
        SELECT min(Timestamp) AS lo, max(Timestamp) AS hi FROM ${tableOf(database)} GROUP BY _part)
      WHERE hi >= fromUnixTimestamp64Milli({from:Int64})
      SETTINGS max_rows_to_read = 1, read_overflow_mode = 'throw'`,
    params: { from: fromMs },
  };
}

/** ClickHouse's estimate of the rows a pass from `fromMs` would read (`EXPLAIN ESTIMATE`: its index analysis, no row read). */
export function passEstimateQuery(search: { database: string; fromMs: number; toMs: number; service?: string }): CandidateQuery {
  const params: Record<string, unknown> = { from: search.fromMs, to: search.toMs };
  const where = [timeRange('from', 'to')];
  filterService(where, params, search.service);
  return { query: `EXPLAIN ESTIMATE SELECT TraceId FROM ${tableOf(search.database)} WHERE ${where.join(' AND ')}`, params };
}
