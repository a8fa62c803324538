/**
 * The search that runs in ClickHouse: which traces hold a turn worth judging. Open turns are found
 * through pending-span markers whose real span has not arrived; ended turns through a failed span or
 * a wait longer than `slowPhaseMs`. Filters (`service`, `thread`, `turn`) are pushed into the SQL;
 * attribute lookups use `has(SpanAttributeItems, 'k=v')`, which the exporter's text index serves
 * (`SpanAttributes['k'] = 'v'` reads the whole table there). A thread or turn id may be the start of
 * one (`idMatch: 'prefix'`): `startsWith` on the attribute, which no index serves, so it reads the
 * window's attribute maps; the caller tries the whole id first.
 */
import {
  ATTR_PENDING, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, PHASE_TURN, TURN_END_STATUS_FAILED,
} from '@stall-why/conventions';
import { THREAD_PHASES } from '@stall-why/classifier';
import { ERROR_STATUS_TEXTS } from './exporter-rows.js';
import { TRACES_TABLE } from './clickhouse-schema.js';

export interface CandidateSearch {
  readonly database: string;
  /** Ended turns: spans that started at or after this moment (epoch ms). */
  readonly fromMs: number;
  /** Open turns: markers of spans that started at or after this moment (epoch ms), earlier than `fromMs` or equal. */
  readonly openFromMs: number;
  /** The judged moment (epoch ms): nothing later is read. */
  readonly toMs: number;
  /** A non-turn span at least this long is a long wait. */
  readonly longWaitMs: number;
  readonly service?: string;
  readonly thread?: string;
  readonly turn?: string;
  /** `thread` and `turn` are whole ids (index-served, the default) or the start of one. */
  readonly idMatch?: 'exact' | 'prefix';
  /** At most this many traces, open ones first, then the earliest. */
  readonly limit: number;
}

/** One candidate: a trace, whether it holds an open span, and when its first candidate span started. */
export interface CandidateTrace {
  readonly traceId: string;
  readonly open: boolean;
  readonly firstMs: number;
}

/** The SQL and its parameters. */
export interface CandidateQuery {
  readonly query: string;
  readonly params: Record<string, unknown>;
}

/** The exporter's `key=value` item for an attribute. */
const item = (key: string, value: string): string => `${key}=${value}`;

export function candidateQuery(search: CandidateSearch): CandidateQuery {
  const table = `\`${search.database}\`.\`${TRACES_TABLE}\``;
  const params: Record<string, unknown> = {
    from: search.fromMs, openFrom: search.openFromMs, to: search.toMs, limit: search.limit,
    pending: item(ATTR_PENDING, 'true'), failed: item(ATTR_TURN_STATUS, TURN_END_STATUS_FAILED),
    errors: ERROR_STATUS_TEXTS, turnSpan: PHASE_TURN, longWaitNs: Math.round(search.longWaitMs * 1e6),
  };
  const filters: string[] = [];
  if (search.service !== undefined) {
    params.service = search.service;
    filters.push('ServiceName = {service:String}');
  }
  const window = (from: string) => `Timestamp >= fromUnixTimestamp64Milli({${from}:Int64}) AND Timestamp <= fromUnixTimestamp64Milli({to:Int64})`;
  const where = (from: string, ...more: string[]) => [window(from), ...filters, ...more].join(' AND ');
  const isMarker = 'has(SpanAttributeItems, {pending:String})';
  const chosen = chosenTraces(search, params, table, where);
  if (chosen) return { query: `${chosen} ORDER BY open DESC, firstMs ASC LIMIT {limit:UInt32}`, params };
  // A marker stands for an open span until its real span (the marker's parent) arrives. No span has a
  // marker as its parent, so the real spans are looked for among all rows of the markers' traces:
  // testing `NOT marker` on every row of the window would read every attribute map. One pass finds
  // the markers' traces (through the text index), one reads those traces' rows: a trace is open when
  // some marker's parent is not among its span ids.
  const markerTraces = `SELECT TraceId FROM ${table} WHERE ${where('openFrom', isMarker)}`;
  const open = `
    SELECT TraceId, toUnixTimestamp64Milli(minIf(Timestamp, marker)) AS firstMs, 1 AS open FROM (
      SELECT TraceId, SpanId, ParentSpanId, Timestamp, ${isMarker} AS marker FROM ${table}
      WHERE ${window('openFrom')} AND TraceId IN (${markerTraces}))
    GROUP BY TraceId
    HAVING NOT hasAll(groupUniqArrayIf(SpanId, NOT marker), groupUniqArrayIf(ParentSpanId, marker))`;
  // One select per index: an OR over them would be evaluated row by row, reading every attribute map
  // of the window. The status scan reads only StatusCode (LowCardinality); the failed turn is found
  // through the text index, the long wait through the Duration minmax index. Markers never match
  // (zero duration, no status).
  const troubledBy = (condition: string) => `
    SELECT TraceId, toUnixTimestamp64Milli(min(Timestamp)) AS firstMs, 0 AS open FROM ${table} WHERE ${where('from', condition)} GROUP BY TraceId`;
  const troubled = [
    troubledBy('StatusCode IN {errors:Array(String)}'),
    troubledBy('has(SpanAttributeItems, {failed:String})'),
    troubledBy('SpanName != {turnSpan:String} AND Duration >= {longWaitNs:UInt64}'),
  ].join(' UNION ALL ');
  return {
    query: `SELECT TraceId, min(firstMs) AS firstMs, max(open) AS open FROM (${open} UNION ALL ${troubled}) GROUP BY TraceId ORDER BY open DESC, firstMs ASC LIMIT {limit:UInt32}`,
    params,
  };
}

/** With a thread or turn asked for, every trace of it in the window is a candidate, open or not. */
function chosenTraces(search: CandidateSearch, params: Record<string, unknown>, table: string, where: (from: string, ...more: string[]) => string): string | undefined {
  const items: string[] = [];
  const wanted = (name: 'thread' | 'turn', key: string, id: string | undefined): void => {
    if (id === undefined) return;
    if (search.idMatch === 'prefix') {
      Object.assign(params, { [name]: id, [`${name}Key`]: key });
      items.push(`startsWith(SpanAttributes[{${name}Key:String}], {${name}:String})`);
    } else {
      params[name] = item(key, id);
      items.push(`has(SpanAttributeItems, {${name}:String})`);
    }
  };
  wanted('thread', ATTR_THREAD_ID, search.thread);
  wanted('turn', ATTR_TURN_ID, search.turn);
  if (items.length === 0) return undefined;
  // The turn's other spans may not carry the thread or turn id: whole traces are fetched later.
  return `SELECT TraceId, toUnixTimestamp64Milli(min(Timestamp)) AS firstMs, max(has(SpanAttributeItems, {pending:String})) AS open FROM ${table}
    WHERE ${where('openFrom', ...items)} GROUP BY TraceId`;
}

/** A candidate row as JSONEachRow returns it (64-bit integers quoted). */
export function candidateOfRow(row: { TraceId: string; firstMs: string | number; open: string | number }): CandidateTrace {
  return { traceId: row.TraceId, open: Number(row.open) === 1, firstMs: Number(row.firstMs) };
}

/** Thread-level phases (a renderer attaching, a history load): the classifier's own list, so what is searched is what it reads as such. */
const THREAD_CONTEXT_SPANS: readonly string[] = [...THREAD_PHASES];

/**
 * The thread-level phase spans (renderer, hydration) of the candidates' threads in the open window,
 * which judge a thread's turns as the flight recorder judges them. They are recorded in traces of
 * their own or inside another turn's: the spans themselves are read, in one pass (their traces'
 * other spans are no candidates). `hasAny` on the `key=value` items is served by the exporter's text index.
 */
export function threadPhasesQuery(database: string, columns: string, threadIds: readonly string[], window: { openFromMs: number; toMs: number }): CandidateQuery {
  const table = `\`${database}\`.\`${TRACES_TABLE}\``;
  return {
    query: `SELECT ${columns} FROM ${table}
      WHERE Timestamp >= fromUnixTimestamp64Milli({openFrom:Int64}) AND Timestamp <= fromUnixTimestamp64Milli({to:Int64})
        AND SpanName IN {names:Array(String)} AND hasAny(SpanAttributeItems, {threads:Array(String)})
      ORDER BY TimestampNs`,
    params: { openFrom: window.openFromMs, to: window.toMs, names: THREAD_CONTEXT_SPANS, threads: threadIds.map((id) => item(ATTR_THREAD_ID, id)) },
  };
}
