// Latency that `stall-why record --upstream` adds to model requests, against a bare Node reverse
// proxy (node:http, keep-alive, pipes only: the floor of any Node proxy) in the same run. A loopback
// upstream answers each POST with a short SSE stream ending in `response.completed`, as a model API
// does; this process sends the same requests, `--connections` at a time on keep-alive connections,
// directly, through the bare proxy and through record, in interleaved rounds. Latency is from the
// request's start to the response's last byte, per request (and the CPU each process used per request, from /proc); "added" is a target's percentile minus
// the direct one of the same round, and the medians over the rounds are printed with the load average.
// Usage: npm run build && node bench/upstream-proxy.mjs [--rounds 5] [--requests 4000] [--connections 4] [--before <repo root>]
//   [--profile <dir>]   (record runs with --cpu-prof, its profile in <dir>)
//   [--offload-probe <µs>]   (two more targets: the bare proxy burning <µs> of CPU per request, once in
//                             its event loop after the response, once in a worker thread: whether moving
//                             record's span work off the proxy's thread would shorten its tail here)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument, loadOptions, median, percentile as pct } from './lib/load-options.mjs';

const CLI = fileURLToPath(new URL('../packages/viewer-cli/bin/stall-why.js', import.meta.url));
const { rounds: ROUNDS, requests: REQUESTS, warmup: WARMUP, connections: CONNECTIONS, before: BEFORE } = loadOptions({ rounds: 5, requests: 4000, warmup: 500, connections: 4 });
// `--profile <dir>`: the record process runs with --cpu-prof, its profile written to <dir>.
const PROFILE = argument('--profile');
const OFFLOAD_US = argument('--offload-probe');
const requestBody = (turn) => JSON.stringify({ model: 'gpt-5-mini', input: [{ role: 'user', content: `Say hello, turn ${turn}` }], stream: true });
let sent = 0;

/** The upstream: a short SSE answer per request, like a model API's stream. */
const UPSTREAM = `
  const events = ['response.created', 'response.output_text.delta', 'response.output_text.delta', 'response.completed']
    .map((type, i) => 'event: ' + type + '\\ndata: {"type":"' + type + '","sequence_number":' + i + '}\\n\\n').join('');
  const server = require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.end(events); });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

/** A bare reverse proxy: what any Node proxy costs, without observing or recording. */
const BARE_PROXY = (upstreamPort) => `
  const http = require('node:http');
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer({ noDelay: true }, (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: ${upstreamPort}, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

/**
 * The bare proxy with `burnUs` of CPU work per request, queued as record queues its span work (one
 * setImmediate per turn of the event loop) and done there (`main`) or posted to a worker thread.
 */
const BURNING_PROXY = (upstreamPort, burnUs, where) => `
  const http = require('node:http');
  const { Worker } = require('node:worker_threads');
  const burn = (us) => { const t = process.hrtime.bigint(); while (Number(process.hrtime.bigint() - t) < us * 1000); };
  const worker = '${where}' === 'worker'
    ? new Worker('const burn = ' + burn + '; require("node:worker_threads").parentPort.on("message", (us) => burn(us));', { eval: true })
    : undefined;
  let queued = 0;
  const burnQueued = () => { const us = queued * ${burnUs}; queued = 0; if (worker) worker.postMessage(us); else burn(us); };
  const later = () => { if (queued++ === 0) setImmediate(burnQueued); };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer({ noDelay: true }, (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: ${upstreamPort}, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
      upRes.once('end', later);
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

/** Starts a process that prints the port it listens on as its first line (or on stderr, as record does). */
function startListening(args, portLine) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const port = portLine(text);
      if (port) resolve({ child, port });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ').slice(0, 80)} exited ${code}: ${text}`)));
  });
}

const firstLinePort = (text) => (text.includes('\n') ? Number(text.split('\n')[0]) : undefined);

async function startRecord(cli, upstreamPort, dirs) {
  const out = mkdtempSync(join(tmpdir(), 'sw-bench-up-'));
  dirs.push(out);
  // Port 0: record prints the port it picked on stderr. The server it wraps is `cat`, idle on its stdin.
  const profile = PROFILE && cli === CLI ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : [];
  return startListening([...profile, cli, 'record', '--out', out, '--upstream', `127.0.0.1:0=http://127.0.0.1:${upstreamPort}`, '--', 'cat'],
    (text) => Number(/127\.0\.0\.1:(\d+)/.exec(text.split('\n').find((l) => l.includes('proxying')) ?? '')?.[1]) || undefined);
}

/** Sends `count` requests over `connections` keep-alive connections; resolves with each latency in µs. */
async function load(port, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies = [];
  let next = 0;
  const one = () => new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // Each request a turn of its own, named as Codex names it, with a body of its own: a first attempt, as most are.
    const turn = ++sent;
    const headers = { 'content-type': 'application/json', 'thread-id': `thread-${turn % 8}`, 'x-codex-turn-metadata': `{"turn_id":"turn-${turn}"}` };
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/responses', agent, headers }, (res) => {
      res.resume();
      res.once('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
        resolve();
      });
    });
    req.once('error', reject);
    req.end(requestBody(turn));
  });
  const worker = async () => {
    while (next++ < count) await one();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return latencies.sort((a, b) => a - b);
}


/** CPU time (user + system, ms) a process has used so far, from /proc: a busy neighbour disturbs it less than latency. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

const dirs = [];
const upstream = await startListening(['-e', UPSTREAM], firstLinePort);
const bare = await startListening(['-e', BARE_PROXY(upstream.port)], firstLinePort);
const recorders = { 'stall-why record': await startRecord(CLI, upstream.port, dirs) };
if (OFFLOAD_US) {
  recorders[`bare + ${OFFLOAD_US} µs in loop`] = await startListening(['-e', BURNING_PROXY(upstream.port, Number(OFFLOAD_US), 'main')], firstLinePort);
  recorders[`bare + ${OFFLOAD_US} µs in worker`] = await startListening(['-e', BURNING_PROXY(upstream.port, Number(OFFLOAD_US), 'worker')], firstLinePort);
}
if (BEFORE) recorders['record (before)'] = await startRecord(join(BEFORE, 'packages', 'viewer-cli', 'bin', 'stall-why.js'), upstream.port, dirs);
const targets = { direct: upstream.port, 'bare Node proxy': bare.port, ...Object.fromEntries(Object.entries(recorders).map(([k, v]) => [k, v.port])) };
const pids = { direct: upstream.child.pid, 'bare Node proxy': bare.child.pid, ...Object.fromEntries(Object.entries(recorders).map(([k, v]) => [k, v.child.pid])) };
const results = Object.fromEntries(Object.keys(targets).map((k) => [k, { p50: [], p99: [], added50: [], added99: [], cpu: [] }]));
for (const port of Object.values(targets)) await load(port, WARMUP);
const load0 = loadavg();
for (let round = 0; round < ROUNDS; round++) {
  let direct;
  for (const [name, port] of Object.entries(targets)) {
    const cpu0 = cpuMs(pids[name]);
    const latencies = await load(port, REQUESTS);
    results[name].cpu.push(((cpuMs(pids[name]) - cpu0) * 1000) / REQUESTS);
    direct ??= latencies;
    const r = results[name];
    r.p50.push(pct(latencies, 50));
    r.p99.push(pct(latencies, 99));
    r.added50.push(pct(latencies, 50) - pct(direct, 50));
    r.added99.push(pct(latencies, 99) - pct(direct, 99));
  }
}
const load1 = loadavg();
// record exits when the server it wraps (`cat`) does: at the end of its stdin.
await Promise.all([upstream, bare, ...Object.values(recorders)].map(({ child }) => new Promise((resolve) => {
  child.once('exit', resolve);
  child.stdin.end();
  setTimeout(() => child.kill(), 5000).unref();
})));
for (const d of dirs) rmSync(d, { recursive: true, force: true });

console.log(`${REQUESTS} POSTs with an SSE answer per target per round (after ${WARMUP} to warm up), ${CONNECTIONS} keep-alive connections, median of ${ROUNDS} interleaved rounds`);
console.log(`load average ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${load1.map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
const ms = (us) => (us / 1000).toFixed(3);
for (const [name, r] of Object.entries(results)) {
  const added = name === 'direct' ? '' : `   added vs direct: p50 +${ms(median(r.added50))} ms  p99 +${ms(median(r.added99))} ms`;
  console.log(`  ${name.padEnd(24)} p50 ${ms(median(r.p50))} ms  p99 ${ms(median(r.p99))} ms${added}   CPU ${median(r.cpu).toFixed(0)} µs/request`);
}
const overBare = median(results['stall-why record'].added99) - median(results['bare Node proxy'].added99);
console.log(`Goal: record's added p99 <= bare proxy's + 0.3 ms: ${overBare <= 300 ? 'met' : 'not met'} (+${ms(overBare)} ms over the bare proxy).`);
