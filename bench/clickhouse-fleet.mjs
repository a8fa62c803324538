// A fleet's day in ClickHouse, judged by `stall-why chdb:<dir> --json` as a user runs it
// (the whole process): 1 M spans of 100 k turns over 24 h across 50 services (4 hosts each), 500 of
// them stuck (their open spans stored only as pending-span markers), in embedded ClickHouse (chdb)
// with the exporter's schema. Measured, median of interleaved rounds (default 5), each process on its
// own, the load average printed:
//   - stall-why: wall time and peak RSS (/usr/bin/time), and that all the stuck turns are reported stuck;
//   - reference 1, the engine alone: a process that opens the same directory and runs `SELECT 1`
//     (its peak RSS is the engine's own; stall-why's is reported beyond it);
//   - reference 2, a naive search: a process that counts the pending markers by reading every
//     `SpanAttributes` map (`countIf(SpanAttributes['stall_why.pending'] = 'true')`), a full scan;
//   - rows read: chDB has no system.query_log, so ClickHouse's own SelectedRows counter (system.events,
//     process-wide) is read after `analyzeClickHouse` ran in a fresh process: the search stall-why runs,
//     as a fraction of the table's rows, in the default window (1 h) and in a day's (`--since 24h`), and by query.
// The rows are made by the writer's own mapping (`traceRowOf`, what `collect --clickhouse` inserts) from
// two turns recorded in test/corpus (example/healthy-tool: a completed turn, 10 of its spans kept;
// example/backend-silent, live: a turn stuck on a silent backend) with fresh ids, times, threads and
// services. Rows are inserted in the order of time, 10 000 at a time (about 15 minutes of the fleet),
// as a Collector inserts what arrives, so ClickHouse's parts and merges hold time ranges as they do on
// a live store. Generation is not measured; `--store <dir>` keeps the store for the next run.
//
//   npm run build && npm install --no-save chdb@3.4.0
//   node bench/clickhouse-fleet.mjs [--scale 0.1] [--rounds 5] [--store <dir>]
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const CLI = join(root, 'packages', 'viewer-cli', 'bin', 'stall-why.js');
const TABLE = 'otel.otel_traces';
const PENDING_ITEM = 'stall_why.pending';
/** Rows per insert: about 15 minutes of the fleet's day. */
const BATCH_ROWS = 10_000;

// --- child modes: each measured process, and the generator ----------------------------------------
if (process.argv[2] === '--child') {
  const [, , , mode, dir, nowText] = process.argv;
  const { connectClickHouse, parseClickHouseAddress, analyzeClickHouse } = await import('@stall-why/clickhouse');
  const address = parseClickHouseAddress(`chdb:${dir}`);
  const single = async (query) => {
    const c = await connectClickHouse(address);
    const rows = await (await c.client.query({ query, format: 'JSONEachRow' })).json();
    await c.close();
    return rows;
  };
  if (mode === 'generate') await generate(dir, Number(nowText), Number(process.argv[6]));
  else if (mode === 'engine') await single('SELECT 1');
  else if (mode === 'scan') process.stdout.write(JSON.stringify(await single(`SELECT count() AS rows, countIf(SpanAttributes['${PENDING_ITEM}'] = 'true') AS markers FROM ${TABLE}`)) + '\n');
  else if (mode === 'read-rows') {
    const perQuery = await countRowsPerQuery();
    // SelectedRows is process-wide and survives the connection: what the search read, summed over its queries.
    const { report, fleet } = await analyzeClickHouse(address, { now: Number(nowText), sinceMs: Number(process.argv[6]) * 3600_000 });
    const [events] = await single("SELECT sumIf(value, event = 'SelectedRows') AS rows, sumIf(value, event = 'SelectedMarks') AS marks, sumIf(value, event = 'SelectedBytes') AS bytes FROM system.events");
    // Rows are summed over stall-why's queries (net of the counter's own reads); marks and bytes are the process's.
    const rows = perQuery.reduce((sum, q) => sum + q.rows, 0);
    process.stdout.write(JSON.stringify({ ...events, rows, turns: report.turns.length, candidates: fleet.candidateTraces, spansRead: fleet.spansRead, perQuery }) + '\n');
  }
  process.exit(0);
}

/**
 * Wraps the client's `query` to read ClickHouse's SelectedRows before and after each of stall-why's
 * queries (chDB answers a query whole before the client returns it), net of what reading the counter
 * reads itself; returns the list it fills, one { query, rows } per query that read rows.
 */
async function countRowsPerQuery() {
  // The class createClient instantiates is not the one the package exports: take it from a client (an HTTP one connects to nothing until asked).
  const { createClient } = await import('@clickhouse/client');
  const sample = createClient({ url: 'http://127.0.0.1:1' });
  const prototype = Object.getPrototypeOf(sample);
  await sample.close();
  const query = prototype.query;
  const selected = async (client) => Number((await (await query.call(client, { query: "SELECT value FROM system.events WHERE event = 'SelectedRows'", format: 'JSONEachRow' })).json())[0]?.value ?? 0);
  // stall-why's queries, by what they look for (packages/clickhouse/src).
  const names = [
    [/^EXPLAIN ESTIMATE/, 'estimate'], [/GROUP BY _part/, "parts' time ranges"], [/ARRAY JOIN spans|HAVING candidate/, 'window pass'],
    [/HAVING NOT hasAll/, 'older markers'], [/otel_logs[\s\S]*TraceId IN \{ids/, 'log records by trace id'], [/TraceId IN \{ids/, 'spans by trace id'],
    [/\{threads:Array/, 'thread phases'], [/system\./, 'schema'],
  ];
  const perQuery = [];
  let ownRows;
  prototype.query = async function (params) {
    if (ownRows === undefined) ownRows = -(await selected(this)) + (await selected(this));
    const before = await selected(this);
    const result = await query.call(this, params);
    const rows = (await selected(this)) - before - ownRows;
    if (rows > 0) perQuery.push({ query: names.find(([pattern]) => pattern.test(params.query))?.[1] ?? params.query.slice(0, 40), rows });
    return result;
  };
  return perQuery;
}

/** Fills the directory: the exporter's schema, then the rows, 100 000 at a time through a JSONEachRow file. */
async function generate(dir, now, scale) {
  const { connectClickHouse, createExporterSchema, parseClickHouseAddress, traceRowOf } = await import('@stall-why/clickhouse');
  const { pendingSpanMarker } = await import('@stall-why/flight-record');
  const templates = await turnTemplates();
  const turns = Math.round(100_000 * scale);
  const stuck = Math.round(500 * scale);
  const connection = await connectClickHouse(parseClickHouseAddress(`chdb:${dir}`));
  await createExporterSchema(connection);
  const random = mulberry32(20261124);
  const hex = (digits) => {
    let s = '';
    while (s.length < digits) s += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0');
    return s.slice(0, digits);
  };
  const file = join(dir, '..', `rows-${process.pid}.jsonl`);
  let out = createWriteStream(file);
  let pending = 0;
  let rows = 0;
  const flush = async () => {
    await new Promise((resolve) => out.end(resolve));
    await connection.client.command({ query: `INSERT INTO ${TABLE} SELECT * FROM file('${file}', 'JSONEachRow') SETTINGS date_time_input_format = 'best_effort'` });
    out = createWriteStream(file);
    pending = 0;
  };
  // Stuck turns started 1 to 60 minutes ago (not yet abandoned); the others anywhere in the last 24 h.
  // Rows are inserted in the order of time, a batch at a time, as a Collector inserts what arrives.
  const starts = Array.from({ length: turns }, (_, i) => ({
    i, start: i < stuck ? now - 60_000 - random() * 59 * 60_000 : now - 24 * 3600_000 + 60_000 + random() * (24 * 3600_000 - 180_000),
  })).sort((a, b) => a.start - b.start);
  for (const { i, start } of starts) {
    const isStuck = i < stuck;
    const service = i % 50;
    const resource = { 'service.name': `agent-${String(service).padStart(2, '0')}`, 'host.name': `agent-${String(service).padStart(2, '0')}-${Math.floor(random() * 4)}` };
    const template = isStuck ? templates.stuck : templates.healthy;
    const traceIds = new Map();
    const spanIds = new Map();
    const idOf = (map, id, digits) => (id === undefined ? undefined : map.get(id) ?? map.set(id, hex(digits)).get(id));
    for (const span of template.spans) {
      const attributes = { ...span.attributes, 'gen_ai.conversation.id': `thread-${i}` };
      if ('stall_why.turn.id' in attributes) attributes['stall_why.turn.id'] = `turn-${i}`;
      const copy = {
        ...span,
        traceId: idOf(traceIds, span.traceId, 32),
        spanId: idOf(spanIds, span.spanId, 16),
        parentSpanId: idOf(spanIds, span.parentSpanId, 16),
        startTimeMs: start + (span.startTimeMs - template.startMs),
        endTimeMs: span.endTimeMs === undefined ? undefined : start + (span.endTimeMs - template.startMs),
        attributes,
        resource,
      };
      const row = traceRowOf(copy.endTimeMs === undefined ? pendingSpanMarker(copy, now - 1_000) : copy);
      out.write(`${JSON.stringify(row)}\n`);
      rows++;
      if (++pending === BATCH_ROWS) await flush();
    }
  }
  if (pending > 0) await flush();
  rmSync(file, { force: true });
  await connection.close();
  process.stdout.write(JSON.stringify({ rows, turns, stuck }) + '\n');
}

/** The two recorded turns, their spans as the flight recorder holds them (open ones without an end). */
async function turnTemplates() {
  const { nanosToMs, otlpAttributes, otlpSpanKind, otlpStatusCode, readFlightRecords } = await import('@stall-why/flight-record');
  const corpus = join(root, 'test', 'corpus', 'example');
  const healthyAll = [];
  for (const line of readFileSync(join(corpus, 'healthy-tool.otlp.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
      healthyAll.push({
        traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: otlpSpanKind(s.kind),
        startTimeMs: nanosToMs(s.startTimeUnixNano), endTimeMs: nanosToMs(s.endTimeUnixNano), attributes: otlpAttributes(s.attributes),
        status: s.status?.code ? { code: otlpStatusCode(s.status.code) } : undefined, scope: ss.scope?.name,
      });
    }
  }
  // Ten spans of the completed turn: the turn, its acceptance, the second model attempt with its milestones, the answer.
  const turn = healthyAll.find((s) => s.name === 'stall_why.turn');
  const lastAttempt = healthyAll.filter((s) => s.name === 'stall_why.upstream.attempt').at(-1);
  const answer = healthyAll.filter((s) => s.name === 'stall_why.item').at(-1);
  const healthy = healthyAll.filter((s) => [turn, lastAttempt, answer].includes(s) || s.parentSpanId === lastAttempt.spanId || ['stall_why.turn.accepted', 'stall_why.item.first_assistant'].includes(s.name));
  const stuckBySpan = new Map();
  for await (const record of readFlightRecords(join(corpus, 'backend-silent.live.flight'))) {
    if (record.type === 'log') continue;
    if (record.type === 'end' || !stuckBySpan.has(record.span.spanId)) stuckBySpan.set(record.span.spanId, record.type === 'end' ? record.span : { ...record.span, endTimeMs: undefined });
  }
  const stuck = [...stuckBySpan.values()];
  const startOf = (spans) => Math.min(...spans.map((s) => s.startTimeMs));
  if (healthy.length !== 10) throw new Error(`healthy template: ${healthy.length} spans, expected 10`);
  return { healthy: { spans: healthy, startMs: startOf(healthy) }, stuck: { spans: stuck, startMs: startOf(stuck) } };
}

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- the run ----------------------------------------------------------------------------------------
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const scale = Number(arg('--scale', '1'));
const rounds = Number(arg('--rounds', '5'));
const kept = arg('--store', undefined);
const base = kept ?? mkdtempSync(join(tmpdir(), 'sw-bench-ch-'));
const store = join(base, 'store');
const metaFile = join(base, 'bench-meta.json');
let meta = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, 'utf8')) : undefined;
// A store kept by an earlier version of this script (rows inserted out of time order) is made again.
const LAYOUT = 'time-ordered';
if (meta?.scale !== scale || meta?.layout !== LAYOUT) {
  rmSync(store, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [self, '--child', 'generate', store, String(now), String(scale)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`generation failed (${r.status})`);
  meta = { scale, layout: LAYOUT, now, ...JSON.parse(r.stdout), generatedInS: Math.round((performance.now() - t0) / 1000) };
  writeFileSync(metaFile, JSON.stringify(meta));
}
console.log(`store: ${meta.rows} rows (${meta.turns} turns, ${meta.stuck} stuck) in chdb:${store}; generated in ${meta.generatedInS} s, judged at ${new Date(meta.now).toISOString()}`);

/** One process under /usr/bin/time: wall ms (measured here), peak RSS in MB (the kernel's), its stdout. */
function timed(args) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, rssMb: rssKb / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const runs = { stallWhy: [], engine: [], scan: [] };
const loads = [];
let markers;
for (let round = 0; round < rounds; round++) {
  loads.push(loadavg()[0]);
  // As an operator asks "which turns are stuck now": the default window (1 h).
  const ours = timed([CLI, `chdb:${store}`, '--json', '--now', String(meta.now)]);
  if (ours.status !== 1) throw new Error(`stall-why exited ${ours.status}: ${ours.stderr}`);
  const report = JSON.parse(ours.stdout);
  const stuck = report.turns.filter((t) => t.status === 'stuck');
  if (stuck.length !== meta.stuck) throw new Error(`${stuck.length} turns reported stuck, expected ${meta.stuck}`);
  const byVerdict = new Map();
  for (const t of stuck) byVerdict.set(t.verdict, (byVerdict.get(t.verdict) ?? 0) + 1);
  const verdicts = [...byVerdict].map(([v, n]) => `${v} ${n}`).join(', ');
  runs.stallWhy.push({ ...ours, stuck: stuck.length, verdicts, turns: report.turns.length, fleet: report.fleet });
  runs.engine.push(timed([self, '--child', 'engine', store]));
  const scan = timed([self, '--child', 'scan', store]);
  markers = JSON.parse(scan.stdout)[0];
  runs.scan.push(scan);
}
const readRows = (hours) => JSON.parse(spawnSync(process.execPath, [self, '--child', 'read-rows', store, String(meta.now), String(hours)], { encoding: 'utf8' }).stdout);
const read = readRows(1);
const readDay = readRows(24);
if (!kept) rmSync(base, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (k) => median(runs[k].map((r) => r.ms));
const rss = (k) => median(runs[k].map((r) => r.rssMb));
const last = runs.stallWhy.at(-1);
console.log(`load average ${loads.map((l) => l.toFixed(2)).join(', ')} at the start of each round (now ${loadavg().map((l) => l.toFixed(2)).join(' ')}); median of ${rounds} interleaved rounds`);
console.log(`  stall-why chdb:… --json (1 h window)  ${(ms('stallWhy') / 1000).toFixed(2).padStart(6)} s  peak RSS ${rss('stallWhy').toFixed(0)} MB (${(rss('stallWhy') - rss('engine')).toFixed(0)} MB beyond the engine's)`);
console.log(`      ${last.stuck}/${meta.stuck} stuck turns reported stuck (${last.verdicts}); ${last.turns} turns judged; ${last.fleet.candidateTraces} candidate traces, ${last.fleet.spansRead} spans fetched, ${last.fleet.groups.length} service@host groups`);
console.log(`  reference: open chdb + SELECT 1        ${(ms('engine') / 1000).toFixed(2).padStart(6)} s  peak RSS ${rss('engine').toFixed(0)} MB (the engine's own)`);
console.log(`  reference: naive marker scan (${markers.markers} markers in ${markers.rows} rows) ${(ms('scan') / 1000).toFixed(2)} s  peak RSS ${rss('scan').toFixed(0)} MB`);
const share = (r) => `${Number(r.rows).toLocaleString('en')} of ${Number(markers.rows).toLocaleString('en')} = ${(100 * Number(r.rows) / Number(markers.rows)).toFixed(1)} % (${r.marks} granules, ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB uncompressed)`;
// Queries of system tables (the schema check, the version) read a few dozen rows each: summed as the rest.
const byQuery = (r) => {
  const large = r.perQuery.filter((q) => q.rows >= 1_000);
  const rest = r.perQuery.filter((q) => q.rows < 1_000).reduce((sum, q) => sum + q.rows, 0);
  return [...large.map((q) => `${q.query} ${q.rows.toLocaleString('en')}`), `${r.perQuery.length - large.length} others ${rest.toLocaleString('en')}`].join(', ');
};
console.log(`  rows ClickHouse read for stall-why's queries: ${share(read)}; with --since 24h: ${share(readDay)} (${readDay.turns} turns judged)`);
console.log(`      by query (1 h): ${byQuery(read)}`);
console.log(`      by query (24 h): ${byQuery(readDay)}`);
console.log(`  stall-why beyond the engine: ${((ms('stallWhy') - ms('engine')) / 1000).toFixed(2)} s; the naive scan beyond it: ${((ms('scan') - ms('engine')) / 1000).toFixed(2)} s`);
