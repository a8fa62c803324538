/**
 * Judges the turns stored in the exporter's schema. ClickHouse does the search (candidate turns in
 * the window, see candidate-turns.ts); only the candidates' traces are then fetched, a batch of
 * trace ids at a time (through the exporter's trace-id index), streamed row
 * by row into the classifier. Memory is bounded by the number of candidates (`maxTraces`), not by
 * the table.
 */
import { ATTR_HOST_NAME, ATTR_SERVICE_NAME, ATTR_THREAD_ID } from '@stall-why/conventions';
import { CodexTelemetryMapper, DEFAULT_THRESHOLDS, SpanClassifier, type Analysis, type AnalyzeOptions } from '@stall-why/classifier';
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { parseClickHouseAddress, type ClickHouseAddress } from './clickhouse-address.js';
import { clickHouseError, connectClickHouse, type ClickHouseConnection, type ConnectOptions } from './clickhouse-connection.js';
import { assertExporterSchema, LOGS_TABLE, TRACES_TABLE } from './clickhouse-schema.js';
import { candidateOfRow, candidateQuery, threadPhasesQuery, type CandidateTrace } from './candidate-turns.js';
import { LOG_ROW_COLUMNS, TRACE_ROW_COLUMNS, logOfLogRow, spanOfTraceRow, type ReadLogRow, type ReadTraceRow } from './exporter-rows.js';
import { fleetSummary, type FleetOrigin, type FleetSummary } from './fleet-summary.js';

export interface ClickHouseAnalyzeOptions extends Pick<AnalyzeOptions, 'now' | 'thresholds' | 'limits'>, ConnectOptions {
  /** Ended turns are searched among spans that started this long before `now`. Default 1 h. */
  readonly sinceMs?: number;
  /**
   * Open turns are searched among markers of spans that started this long before `now` (a stuck
   * turn's marker carries its start, however long ago). Default: the larger of `sinceMs` and the
   * `abandonedAfterMs` threshold (6 h): an open turn older than that is judged abandoned anyway.
   */
  readonly openSinceMs?: number;
  /** Only this `service.name` (the exporter's `ServiceName`). */
  readonly service?: string;
  /** Only this thread (`gen_ai.conversation.id`): its id, or the start of it (then the window's attributes are scanned). */
  readonly thread?: string;
  /** Only this turn (`stall_why.turn.id`): its id, or the start of it. */
  readonly turn?: string;
  /** At most this many candidate traces are judged (open ones first, then the earliest). Default 1 000. */
  readonly maxTraces?: number;
  /** Trace ids fetched per query. Default 200. */
  readonly batchTraces?: number;
}

export interface ClickHouseAnalysis extends Analysis {
  readonly fleet: FleetSummary;
}

/** Default `sinceMs`: 1 h. */
export const DEFAULT_SINCE_MS = 3_600_000;
/** Default `maxTraces`: 1 000 candidate traces. */
export const DEFAULT_MAX_TRACES = 1_000;
/** Default `batchTraces`: 1 000 trace ids per fetch (a batch's rows are streamed, not held). */
export const DEFAULT_BATCH_TRACES = 1_000;

/** Finds the turns worth judging in ClickHouse and judges them at `now`. */
export async function analyzeClickHouse(source: string | ClickHouseAddress, options: ClickHouseAnalyzeOptions = {}): Promise<ClickHouseAnalysis> {
  const opened = await ClickHouseSource.open(source, options);
  try {
    return await opened.analyze(options);
  } finally {
    await opened.close();
  }
}

/**
 * A ClickHouse source opened once and judged again and again (`stall-why watch`): one connection,
 * and for `chdb:` one engine start (about a second), not one per judgement.
 */
export class ClickHouseSource {
  private constructor(private readonly connection: ClickHouseConnection) {}

  /** Connects and checks the exporter's tables are there; rejects with a ClickHouseError (one line) otherwise. */
  static async open(source: string | ClickHouseAddress, options: ConnectOptions = {}): Promise<ClickHouseSource> {
    const address = typeof source === 'string' ? parseClickHouseAddress(source) : source;
    const connection = await connectClickHouse(address, options);
    try {
      await assertExporterSchema(connection);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return new ClickHouseSource(connection);
  }

  /** The address as messages print it (no credentials). */
  get shown(): string {
    return this.connection.address.shown;
  }

  /** The turns worth judging, judged at `options.now`; rejects with a ClickHouseError. */
  async analyze(options: Omit<ClickHouseAnalyzeOptions, keyof ConnectOptions> = {}): Promise<ClickHouseAnalysis> {
    try {
      return await judgeCandidates(this.connection, options);
    } catch (error) {
      throw clickHouseError(this.connection.address, error);
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

async function judgeCandidates(connection: ClickHouseConnection, options: ClickHouseAnalyzeOptions): Promise<ClickHouseAnalysis> {
  const now = options.now ?? Date.now();
  const sinceMs = options.sinceMs ?? DEFAULT_SINCE_MS;
  const abandonedAfterMs = options.thresholds?.abandonedAfterMs ?? DEFAULT_THRESHOLDS.abandonedAfterMs;
  const window = { fromMs: now - sinceMs, openFromMs: now - Math.max(sinceMs, options.openSinceMs ?? abandonedAfterMs), toMs: now };
  const limit = options.maxTraces ?? DEFAULT_MAX_TRACES;
  const candidates = await findCandidates(connection, { ...window, limit, options });
  const classifier = new SpanClassifier({ now, thresholds: options.thresholds, limits: options.limits });
  const reader = new OriginReader(classifier);
  const fetch = new TraceFetch(connection, reader, {
    now, lookbackMs: abandonedAfterMs, batchTraces: options.batchTraces ?? DEFAULT_BATCH_TRACES, hasLogs: await tableExists(connection, LOGS_TABLE),
  });
  await fetch.traces(candidates);
  await fetch.threadPhases([...reader.threads], window);
  const { report, spans } = classifier.finish(reader.sources());
  const fleet = fleetSummary(report, reader.origins, {
    source: connection.address.shown,
    windowStartMs: window.fromMs,
    openWindowStartMs: window.openFromMs,
    candidateTraces: candidates.length,
    candidateLimitReached: candidates.length >= limit,
    spansRead: reader.spansRead,
    logRecordsRead: reader.logRecordsRead,
  });
  return { report, spans, fleet };
}

async function findCandidates(
  connection: ClickHouseConnection,
  search: { fromMs: number; openFromMs: number; toMs: number; limit: number; options: ClickHouseAnalyzeOptions },
): Promise<CandidateTrace[]> {
  const { options } = search;
  const slowPhaseMs = options.thresholds?.slowPhaseMs ?? DEFAULT_THRESHOLDS.slowPhaseMs;
  const find = async (idMatch: 'exact' | 'prefix'): Promise<CandidateTrace[]> => {
    const { query, params } = candidateQuery({
      database: connection.database, fromMs: search.fromMs, openFromMs: search.openFromMs, toMs: search.toMs, limit: search.limit,
      longWaitMs: slowPhaseMs, service: options.service, thread: options.thread, turn: options.turn, idMatch,
    });
    const result = await connection.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return (await result.json<{ TraceId: string; firstMs: string; open: string }>()).map(candidateOfRow);
  };
  const exact = await find('exact');
  // An id the index does not hold may be the start of one (a prefix copied from the report): then it is scanned for.
  if (exact.length > 0 || (options.thread === undefined && options.turn === undefined)) return exact;
  return find('prefix');
}

/**
 * Streams traces into the reader, `batchTraces` ids per query, in the order of their first candidate
 * span. A batch's spans are looked for from `lookbackMs` before its earliest candidate span (a turn
 * that started longer before what made it a candidate would be abandoned by then) to the judged
 * moment; within that, the exporter's trace-id index (a text index, or a bloom filter on older
 * servers) skips the parts and granules that hold none of the batch. The exporter's lookup table
 * (`otel_traces_trace_id_ts`) is not read: ordered by trace id, any few hundred ids touch all its
 * granules, so it would be read whole for every judgement, a read that grows with the retention,
 * where the window does not. The exporter's key orders rows by service and span name first: a batch
 * of ids reads every granule holding one of them, so fewer, larger batches read fewer granules twice.
 * Times are compared as DateTime64 from epoch ms: on ClickHouse 26.7 (chDB) `Timestamp <
 * toDateTime(n)` matched no row of the exporter's table (its key holds `toDateTime(Timestamp)`) where
 * `min(Timestamp) < toDateTime(n)` was true.
 */
class TraceFetch {
  readonly fetched = new Set<string>();

  constructor(
    private readonly connection: ClickHouseConnection,
    private readonly reader: OriginReader,
    private readonly options: { now: number; lookbackMs: number; batchTraces: number; hasLogs: boolean },
  ) {}

  async traces(candidates: readonly CandidateTrace[]): Promise<void> {
    const ordered = candidates.filter((c) => !this.fetched.has(c.traceId)).sort((a, b) => a.firstMs - b.firstMs);
    for (const c of ordered) this.fetched.add(c.traceId);
    const { connection, reader, options } = this;
    for (let i = 0; i < ordered.length; i += options.batchTraces) {
      const batch = ordered.slice(i, i + options.batchTraces);
      const params = { ids: batch.map((c) => c.traceId), lo: Math.max(0, batch[0]!.firstMs - options.lookbackMs), to: options.now };
      await forEachRow<ReadTraceRow>(connection, spansQuery(connection.database), params, (row) => reader.span(spanOfTraceRow(row)));
      if (options.hasLogs) await forEachRow<ReadLogRow>(connection, logsQuery(connection.database), params, (row) => reader.log(logOfLogRow(row)));
    }
  }

  /** The thread-level phases of these threads (see threadPhasesQuery); those of fetched traces were read with them. */
  async threadPhases(threads: readonly string[], window: { openFromMs: number; toMs: number }): Promise<void> {
    if (threads.length === 0) return;
    const { query, params } = threadPhasesQuery(this.connection.database, TRACE_ROW_COLUMNS, threads, window);
    await forEachRow<ReadTraceRow>(this.connection, query, params, (row) => {
      if (!this.fetched.has(row.TraceId)) this.reader.span(spanOfTraceRow(row));
    });
  }
}

function spansQuery(database: string): string {
  return `SELECT ${TRACE_ROW_COLUMNS} FROM \`${database}\`.\`${TRACES_TABLE}\`
    WHERE TraceId IN {ids:Array(String)} AND Timestamp >= fromUnixTimestamp64Milli({lo:Int64}) AND Timestamp <= fromUnixTimestamp64Milli({to:Int64})
    ORDER BY TimestampNs`;
}

function logsQuery(database: string): string {
  return `SELECT ${LOG_ROW_COLUMNS} FROM \`${database}\`.\`${LOGS_TABLE}\`
    WHERE TraceId IN {ids:Array(String)} AND Timestamp >= fromUnixTimestamp64Milli({lo:Int64}) AND Timestamp <= fromUnixTimestamp64Milli({to:Int64})
    ORDER BY TimestampNs`;
}

/** Streams the query's rows, one at a time, so a batch's rows are never all in memory. */
async function forEachRow<Row>(connection: ClickHouseConnection, query: string, params: Record<string, unknown>, onRow: (row: Row) => void): Promise<void> {
  const result = await connection.client.query({ query, query_params: params, format: 'JSONEachRow' });
  for await (const rows of result.stream<Row>()) for (const row of rows) onRow(row.json());
}

async function tableExists(connection: ClickHouseConnection, table: string): Promise<boolean> {
  const result = await connection.client.query({
    query: 'SELECT count() AS n FROM system.tables WHERE database = {database:String} AND name = {table:String}',
    query_params: { database: connection.database, table },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0) > 0;
}

/**
 * Feeds rows to the classifier with one source per service and host (`checkout@web-3`), each with
 * its own Codex telemetry mapper, as `analyzeTraces` has one per file.
 */
class OriginReader {
  readonly origins = new Map<string, FleetOrigin>();
  private readonly mappers = new Map<string, CodexTelemetryMapper>();
  private readonly spanCounts = new Map<string, number>();
  /** The threads of the spans read, whose thread-level phases are fetched next. */
  readonly threads = new Set<string>();
  spansRead = 0;
  logRecordsRead = 0;

  constructor(private readonly classifier: SpanClassifier) {}

  span(span: RecordedSpan): void {
    this.spansRead++;
    const thread = span.attributes[ATTR_THREAD_ID];
    if (typeof thread === 'string' && thread !== '') this.threads.add(thread);
    const source = this.sourceOf(span.resource);
    this.spanCounts.set(source, (this.spanCounts.get(source) ?? 0) + 1);
    this.mappers.get(source)!.span(span, (phase) => this.classifier.add(phase, source));
  }

  log(log: RecordedLog): void {
    this.logRecordsRead++;
    const source = this.sourceOf(log.resource);
    this.mappers.get(source)!.log(log, (phase) => this.classifier.add(phase, source));
  }

  sources(): { path: string; format: string; spans: number; skipped: number; corrupt: number }[] {
    return [...this.origins.keys()].map((path) => ({ path, format: 'clickhouse', spans: this.spanCounts.get(path) ?? 0, skipped: 0, corrupt: 0 }));
  }

  private sourceOf(resource: RecordedSpan['resource']): string {
    const service = String(resource?.[ATTR_SERVICE_NAME] ?? '');
    const host = String(resource?.[ATTR_HOST_NAME] ?? '');
    const source = host ? `${service}@${host}` : service;
    if (!this.origins.has(source)) {
      this.origins.set(source, { service, host });
      this.mappers.set(source, new CodexTelemetryMapper());
    }
    return source;
  }
}
