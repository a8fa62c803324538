/**
 * Judges the turns stored in the exporter's schema. ClickHouse does the search: one pass over the
 * window finds the candidate turns and returns their spans (window-pass.ts); only what lies outside
 * it is then fetched: the spans of candidate traces that began before the pass (by trace id, through
 * the exporter's trace-id index), older markers of open turns, and the candidates' threads' earlier
 * phases. Rows are streamed into the classifier. Memory is bounded by the number of candidates
 * (`maxTraces`), not by the table.
 */
import { ATTR_HOST_NAME, ATTR_SERVICE_NAME, ATTR_THREAD_ID } from '@stall-why/conventions';
import { CodexTelemetryMapper, DEFAULT_THRESHOLDS, SpanClassifier, type Analysis, type AnalyzeOptions } from '@stall-why/classifier';
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { parseClickHouseAddress, type ClickHouseAddress } from './clickhouse-address.js';
import { clickHouseError, connectClickHouse, type ClickHouseConnection, type ConnectOptions } from './clickhouse-connection.js';
import { assertExporterSchema, LOGS_TABLE, TRACES_TABLE } from './clickhouse-schema.js';
import { candidateOfRow, chosenTracesQuery, threadPhasesQuery, timeRange, type CandidateQuery, type CandidateTrace } from './candidate-turns.js';
import { LOG_ROW_COLUMNS, TRACE_ROW_COLUMNS, logOfLogRow, spanOfTraceRow, type ReadLogRow, type ReadTraceRow } from './exporter-rows.js';
import { candidateOfPassRow, earlierOpenQuery, partsStartQuery, passEstimateQuery, windowPassQuery, type PassCandidate, type WindowPassRow } from './window-pass.js';
import { fleetSummary, type FleetOrigin, type FleetSummary, type WindowPassFacts } from './fleet-summary.js';

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
  /** Trace ids fetched per query. Default 1 000. */
  readonly batchTraces?: number;
  /**
   * The window pass returns the candidates' spans (the window read once) when ClickHouse estimates it
   * reads at most this many rows; above, it returns their ids and the spans are fetched by id (the
   * window's granules read twice), as ClickHouse holds about 1 KB per row of the pass until each trace
   * is decided. Default 100 000.
   */
  readonly onePassRows?: number;
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
/** Default `onePassRows`: 100 000 rows, about 100 MB held by ClickHouse during the pass. */
export const DEFAULT_ONE_PASS_ROWS = 100_000;

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

interface Window {
  /** Ended turns: spans that started at or after this moment (epoch ms). */
  readonly fromMs: number;
  /** Open turns: markers of spans that started at or after this moment (epoch ms), `fromMs` or earlier. */
  readonly openFromMs: number;
  /** The judged moment (epoch ms). */
  readonly toMs: number;
}

async function judgeCandidates(connection: ClickHouseConnection, options: ClickHouseAnalyzeOptions): Promise<ClickHouseAnalysis> {
  const now = options.now ?? Date.now();
  const sinceMs = options.sinceMs ?? DEFAULT_SINCE_MS;
  const abandonedAfterMs = options.thresholds?.abandonedAfterMs ?? DEFAULT_THRESHOLDS.abandonedAfterMs;
  const window: Window = { fromMs: now - sinceMs, openFromMs: now - Math.max(sinceMs, options.openSinceMs ?? abandonedAfterMs), toMs: now };
  const limit = options.maxTraces ?? DEFAULT_MAX_TRACES;
  const classifier = new SpanClassifier({ now, thresholds: options.thresholds, limits: options.limits });
  const reader = new OriginReader(classifier);
  const fetch = new TraceFetch(connection, reader, {
    now, lookbackMs: abandonedAfterMs, batchTraces: options.batchTraces ?? DEFAULT_BATCH_TRACES, hasLogs: await tableExists(connection, LOGS_TABLE),
  });
  const { candidates, windowPass } = options.thread !== undefined || options.turn !== undefined
    ? { candidates: await judgeChosen(connection, fetch, window, limit, options), windowPass: undefined }
    : await judgeWindow(connection, fetch, window, limit, options);
  const { report, spans } = classifier.finish(reader.sources());
  const fleet = fleetSummary(report, reader.origins, {
    source: connection.address.shown,
    windowStartMs: window.fromMs,
    openWindowStartMs: window.openFromMs,
    candidateTraces: candidates,
    candidateLimitReached: candidates >= limit,
    spansRead: reader.spansRead,
    logRecordsRead: reader.logRecordsRead,
    windowPass,
  });
  return { report, spans, fleet };
}

/** The traces of a thread or turn asked for, whole: their spans, then their threads' phases. Returns the number of candidates. */
async function judgeChosen(connection: ClickHouseConnection, fetch: TraceFetch, window: Window, limit: number, options: ClickHouseAnalyzeOptions): Promise<number> {
  const find = async (idMatch: 'exact' | 'prefix'): Promise<CandidateTrace[]> => {
    const { query, params } = chosenTracesQuery({
      database: connection.database, openFromMs: window.openFromMs, toMs: window.toMs, limit, service: options.service, thread: options.thread, turn: options.turn, idMatch,
    });
    return (await queryRows<{ TraceId: string; firstMs: string; open: string }>(connection, query, params)).map(candidateOfRow);
  };
  const exact = await find('exact');
  // An id the index does not hold may be the start of one (a prefix copied from the report): then it is scanned for.
  const candidates = exact.length > 0 ? exact : await find('prefix');
  await fetch.traces(candidates, { spans: true, end: 'through' });
  await fetch.threadPhases(fetch.threads(), { fromMs: window.openFromMs, toMs: window.toMs, end: 'through' });
  return candidates.length;
}

/**
 * The fleet's turns worth judging: one pass over the window (window-pass.ts), then what lies before it.
 * The pass starts earlier than the window when that reads no more rows (see `passRange`), so that
 * what is looked up before it (older markers, earlier spans, earlier phases) skips the parts the pass
 * read instead of reading them again. Returns the number of candidates and how the pass read the window.
 */
async function judgeWindow(connection: ClickHouseConnection, fetch: TraceFetch, window: Window, limit: number, options: ClickHouseAnalyzeOptions): Promise<{ candidates: number; windowPass: WindowPassFacts }> {
  const { database } = connection;
  const { service } = options;
  const pass = await passRange(connection, window, service);
  const earlier = pass.fromMs > window.openFromMs
    ? (await queryRows<{ TraceId: string; firstMs: string; open: string }>(connection, ...queryOf(earlierOpenQuery({ database, openFromMs: window.openFromMs, passFromMs: pass.fromMs, service, limit })))).map(candidateOfRow)
    : [];
  const withSpans = pass.rows <= (options.onePassRows ?? DEFAULT_ONE_PASS_ROWS);
  const { query, params } = windowPassQuery({
    database, fromMs: window.fromMs, passFromMs: pass.fromMs, toMs: window.toMs, service, limit, withSpans,
    longWaitMs: options.thresholds?.slowPhaseMs ?? DEFAULT_THRESHOLDS.slowPhaseMs, earlierOpen: earlier.map((c) => c.traceId),
  });
  // The pass reads one service; a thread's phases may lie in another (a renderer's service): then they are all looked up after it.
  const phasesFromPass = service === undefined;
  const found = new Map<string, PassCandidate>();
  await forEachRow<WindowPassRow>(connection, query, params, (row) => {
    if (Number(row.candidate) === 0) return phasesFromPass ? fetch.phaseOfOtherTrace(row as WindowPassRow & ReadTraceRow) : undefined;
    if (!found.has(row.TraceId)) found.set(row.TraceId, candidateOfPassRow(row));
    if (withSpans) fetch.spanOfCandidate(row as WindowPassRow & ReadTraceRow);
  });
  // An open turn whose markers are older than the pass, and which the pass saw nothing of, is judged from what lies before it.
  for (const c of earlier) if (!found.has(c.traceId) && found.size < limit) found.set(c.traceId, { ...c, unrooted: true });
  const earlierById = new Map(earlier.map((c) => [c.traceId, c]));
  const candidates = [...found.values()].map((c) => (earlierById.has(c.traceId) ? { ...c, firstMs: earlierById.get(c.traceId)!.firstMs, unrooted: true } : c));
  const threadsOfPass = new Set(fetch.threads());
  if (withSpans) {
    await fetch.traces(candidates.filter((c) => c.unrooted), { spans: true, end: 'before', beforeMs: pass.fromMs });
    await fetch.traces(candidates, { spans: false, end: 'through' });
    // The pass returned the phases from its start on, of the threads it saw; a thread seen first before it is looked up whole.
    await fetch.threadPhases([...threadsOfPass], phasesFromPass ? { fromMs: window.openFromMs, toMs: pass.fromMs, end: 'before' } : { fromMs: window.openFromMs, toMs: window.toMs, end: 'through' });
    await fetch.threadPhases(fetch.threads().filter((t) => !threadsOfPass.has(t)), { fromMs: window.openFromMs, toMs: window.toMs, end: 'through' });
  } else {
    await fetch.traces(candidates, { spans: true, end: 'through' });
    await fetch.threadPhases(fetch.threads(), { fromMs: window.openFromMs, toMs: window.toMs, end: 'through' });
  }
  return { candidates: candidates.length, windowPass: { estimatedRows: Number.isFinite(pass.rows) ? pass.rows : null, returnedSpans: withSpans } };
}

/**
 * Where the window pass starts, and ClickHouse's estimate of the rows it reads. Inside a part, the
 * exporter's order (service and span name before time) leaves every granule of a busy store holding
 * a part's whole stretch of time, so a pass over the window reads its parts whole: starting it at the
 * earliest of those parts (within the open window) reads no more rows, and leaves the lookups before
 * it to older parts. ClickHouse's own estimate decides: where time does prune granules inside a part,
 * or the parts' range is not to be had without reading, the pass starts at the window.
 */
async function passRange(connection: ClickHouseConnection, window: Window, service: string | undefined): Promise<{ fromMs: number; rows: number }> {
  // A server that cannot estimate (before 21.9, or a table engine without index analysis) gets the
  // pass that holds least: ids alone, and the window's own range.
  const estimate = async (fromMs: number): Promise<number> => {
    try {
      const rows = await queryRows<{ rows: string | number }>(connection, ...queryOf(passEstimateQuery({ database: connection.database, fromMs, toMs: window.toMs, service })));
      return rows.reduce((sum, r) => sum + Number(r.rows), 0);
    } catch {
      return Infinity;
    }
  };
  const rows = await estimate(window.fromMs);
  if (rows === Infinity) return { fromMs: window.fromMs, rows };
  if (window.openFromMs >= window.fromMs) return { fromMs: window.fromMs, rows };
  let partsStartMs: number;
  try {
    const [row] = await queryRows<{ startMs: string | number }>(connection, ...queryOf(partsStartQuery(connection.database, window.fromMs)));
    partsStartMs = Number(row?.startMs ?? window.fromMs);
  } catch {
    return { fromMs: window.fromMs, rows };
  }
  const fromMs = Math.min(window.fromMs, Math.max(window.openFromMs, partsStartMs));
  if (fromMs === window.fromMs) return { fromMs, rows };
  const extended = await estimate(fromMs);
  return extended <= rows ? { fromMs, rows: extended } : { fromMs: window.fromMs, rows };
}

const queryOf = (q: CandidateQuery): [string, Record<string, unknown>] => [q.query, q.params];

async function queryRows<Row>(connection: ClickHouseConnection, query: string, params: Record<string, unknown>): Promise<Row[]> {
  const result = await connection.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<Row>();
}

/**
 * Streams traces into the reader, `batchTraces` ids per query, in the order of their first candidate
 * span. A batch's spans are looked for from `lookbackMs` before its earliest candidate span (a turn
 * that started longer before what made it a candidate would be abandoned by then) to the judged
 * moment, or to the window pass's start; within that, the exporter's trace-id index (a text index,
 * or a bloom filter on older servers) skips the granules that hold none of the batch. The exporter's
 * lookup table (`otel_traces_trace_id_ts`) is not read: ordered by trace id, any few hundred ids
 * touch all its granules, so it would be read whole for every judgement, a read that grows with the
 * retention, where the window does not.
 */
class TraceFetch {
  /** The candidate traces, whose spans are read whole (a phase span of one is no other trace's). */
  private readonly candidates = new Set<string>();

  constructor(
    private readonly connection: ClickHouseConnection,
    private readonly reader: OriginReader,
    private readonly options: { now: number; lookbackMs: number; batchTraces: number; hasLogs: boolean },
  ) {}

  /** The threads of the spans read so far. */
  threads(): string[] {
    return [...this.reader.threads];
  }

  /** A span of a candidate trace, as the window pass returns it. */
  spanOfCandidate(row: ReadTraceRow): void {
    this.candidates.add(row.TraceId);
    this.reader.span(spanOfTraceRow(row));
  }

  /** A thread-level phase span of another trace: read when its thread is a candidate's (the pass returns candidates first). */
  phaseOfOtherTrace(row: ReadTraceRow): void {
    const thread = row.SpanAttributes[ATTR_THREAD_ID];
    if (thread !== undefined && this.reader.threads.has(thread) && !this.candidates.has(row.TraceId)) this.reader.span(spanOfTraceRow(row));
  }

  /** The candidates' spans (to the judged moment, or before the pass) and log records, by trace id. */
  async traces(candidates: readonly CandidateTrace[], read: { spans: boolean; end: 'through' | 'before'; beforeMs?: number }): Promise<void> {
    const ordered = [...candidates].sort((a, b) => a.firstMs - b.firstMs);
    for (const c of ordered) this.candidates.add(c.traceId);
    const { connection, reader, options } = this;
    if (!read.spans && !options.hasLogs) return;
    for (let i = 0; i < ordered.length; i += options.batchTraces) {
      const batch = ordered.slice(i, i + options.batchTraces);
      const params = { ids: batch.map((c) => c.traceId), lo: Math.max(0, batch[0]!.firstMs - options.lookbackMs), to: read.beforeMs ?? options.now };
      if (read.spans) await forEachRow<ReadTraceRow>(connection, byTraceIdQuery(connection.database, TRACES_TABLE, TRACE_ROW_COLUMNS, read.end), params, (row) => reader.span(spanOfTraceRow(row)));
      if (options.hasLogs && read.end === 'through') await forEachRow<ReadLogRow>(connection, byTraceIdQuery(connection.database, LOGS_TABLE, LOG_ROW_COLUMNS, 'through'), params, (row) => reader.log(logOfLogRow(row)));
    }
  }

  /** The thread-level phases of these threads in the range (see threadPhasesQuery); those of candidate traces were read with them. */
  async threadPhases(threads: readonly string[], range: { fromMs: number; toMs: number; end: 'through' | 'before' }): Promise<void> {
    if (threads.length === 0 || range.fromMs >= range.toMs) return;
    const { query, params } = threadPhasesQuery(this.connection.database, TRACE_ROW_COLUMNS, threads, range);
    await forEachRow<ReadTraceRow>(this.connection, query, params, (row) => {
      if (!this.candidates.has(row.TraceId)) this.reader.span(spanOfTraceRow(row));
    });
  }
}

function byTraceIdQuery(database: string, table: string, columns: string, end: 'through' | 'before'): string {
  return `SELECT ${columns} FROM \`${database}\`.\`${table}\`
    WHERE TraceId IN {ids:Array(String)} AND ${timeRange('lo', 'to', end)}
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
