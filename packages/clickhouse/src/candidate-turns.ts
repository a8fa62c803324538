/**
 * The searches that run in ClickHouse, beside the window pass (window-pass.ts): the traces of a
 * thread or turn asked for by id, and the thread-level phases of the candidates' threads. Filters
 * (`service`, `thread`, `turn`) are pushed into the SQL; attribute lookups use
 * `has(SpanAttributeItems, 'k=v')`, which the exporter's text index serves (`SpanAttributes['k'] = 'v'`
 * reads every granule there). A thread or turn id may be the start of one (`idMatch: 'prefix'`):
 * `startsWith` on the attribute, which no index serves, so it reads the window's attribute maps; the
 * caller tries the whole id first.
 */
import { ATTR_PENDING, ATTR_THREAD_ID, ATTR_TURN_ID } from '@stall-why/conventions';
import { THREAD_PHASES } from '@stall-why/classifier';
import { TRACES_TABLE } from './clickhouse-schema.js';

export interface CandidateSearch {
  readonly database: string;
  /** Traces with a span of the thread or turn that started at or after this moment (epoch ms). */
  readonly openFromMs: number;
  /** The judged moment (epoch ms): nothing later is read. */
  readonly toMs: number;
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
export const item = (key: string, value: string): string => `${key}=${value}`;

/** The exporter's traces table, quoted. */
export const tableOf = (database: string): string => `\`${database}\`.\`${TRACES_TABLE}\``;

/**
 * Spans that started between two parameters (epoch ms), the end included, or excluded (`before`).
 * Times are compared as DateTime64 from epoch ms: on ClickHouse 26.7 (chDB) `Timestamp <
 * toDateTime(n)` matched no row of the exporter's table (its key holds `toDateTime(Timestamp)`) where
 * `min(Timestamp) < toDateTime(n)` was true.
 */
export function timeRange(from: string, to: string, end: 'through' | 'before' = 'through'): string {
  return `Timestamp >= fromUnixTimestamp64Milli({${from}:Int64}) AND Timestamp ${end === 'before' ? '<' : '<='} fromUnixTimestamp64Milli({${to}:Int64})`;
}

/** The `--service` filter (the exporter's `ServiceName`, the key's first column), when one is asked for. */
export function filterService(where: string[], params: Record<string, unknown>, service: string | undefined): void {
  if (service === undefined) return;
  params.service = service;
  where.push('ServiceName = {service:String}');
}

/** With a thread or turn asked for, every trace of it in the open window is a candidate, open or not. */
export function chosenTracesQuery(search: CandidateSearch): CandidateQuery {
  const params: Record<string, unknown> = { openFrom: search.openFromMs, to: search.toMs, limit: search.limit, pending: item(ATTR_PENDING, 'true') };
  const items: string[] = [timeRange('openFrom', 'to')];
  filterService(items, params, search.service);
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
  // The turn's other spans may not carry the thread or turn id: whole traces are fetched later.
  return {
    query: `SELECT TraceId, toUnixTimestamp64Milli(min(Timestamp)) AS firstMs, max(has(SpanAttributeItems, {pending:String})) AS open FROM ${tableOf(search.database)}
      WHERE ${items.join(' AND ')} GROUP BY TraceId ORDER BY open DESC, firstMs ASC LIMIT {limit:UInt32}`,
    params,
  };
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
export function threadPhasesQuery(database: string, columns: string, threadIds: readonly string[], range: { fromMs: number; toMs: number; end: 'through' | 'before' }): CandidateQuery {
  return {
    query: `SELECT ${columns} FROM ${tableOf(database)}
      WHERE ${timeRange('from', 'to', range.end)} AND SpanName IN {names:Array(String)} AND hasAny(SpanAttributeItems, {threads:Array(String)})
      ORDER BY TimestampNs`,
    params: { from: range.fromMs, to: range.toMs, names: THREAD_CONTEXT_SPANS, threads: threadIds.map((id) => item(ATTR_THREAD_ID, id)) },
  };
}
