// Server CPU per request of a node:http server with stall-why's middleware (its phase spans and the
// FlightRecorderProcessor writing to a temp directory, wired as the README's "Wrap your own server"
// shows), against the same server with `@opentelemetry/instrumentation-http` registered through the
// NodeSDK with a BatchSpanProcessor (to an exporter that only counts), and against plain node:http,
// all in the same run. Each server is its own process; this process is the load generator
// (autocannon, keep-alive, `--connections` at once) and sends a fixed number of requests to one
// server after another, in interleaved rounds, so that a busy neighbour on the shared machine slows
// each alike. The server reports `process.cpuUsage()` over the measured requests (after a warm-up,
// and including the flush of what its span processor still holds, so queued work is not left out);
// latency is per response, from autocannon's own timer. Medians over the rounds, with the load average.
// `--before <repo root>` adds the middleware of another build (e.g. the commit before a change,
// extracted and built elsewhere) to the same rounds.
// Usage: npm run build && node bench/http-middleware.mjs [--rounds 5] [--requests 20000] [--connections 10] [--before <dir>]
//   [--profile <mode> <dir>]   (that server runs with --cpu-prof, its profiles in <dir>)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { argument, loadOptions, median, percentile as pct } from './lib/load-options.mjs';

const SERVER_FLAG = '--server';
const TURN_PATH = '/turn';
const BODY = '{"ok":true}';

// ---------------------------------------------------------------------------------------------
// The server side: one of the modes below, started by the load generator with `--server <mode>`.

function answer(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(BODY);
}

/** Each mode builds the request handler and says how to flush what its spans left queued. */
const serverModes = {
  async plain() {
    return { handler: answer, flush: async () => undefined, spans: () => 0 };
  },

  async 'instrumentation-http'() {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    const exporter = countingExporter();
    const processor = new BatchSpanProcessor(exporter);
    const sdk = new NodeSDK({
      spanProcessors: [processor],
      instrumentations: [new HttpInstrumentation()],
      resourceDetectors: [],
    });
    sdk.start();
    // Loaded after the SDK started: the instrumentation patches node:http as it is required.
    const http = createRequire(import.meta.url)('node:http');
    return { handler: answer, http, flush: () => processor.forceFlush(), spans: () => exporter.count };
  },

  async 'stall-why'(root) {
    const load = (name) => (root ? import(pathToFileURL(join(root, 'node_modules', ...name.split('/'), ...entryOf(root, name)))) : import(name));
    const { BasicTracerProvider } = await load('@opentelemetry/sdk-trace-base');
    const { FlightRecorderProcessor, instrumentHttpHandler } = root
      ? await import(pathToFileURL(join(root, 'packages', 'instrument', 'dist', 'index.js')))
      : await import('@stall-why/instrument');
    const directory = mkdtempSync(join(tmpdir(), 'sw-bench-mw-'));
    const recorder = new FlightRecorderProcessor({ directory });
    // As README's "Wrap your own server" has it.
    const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
    const handler = instrumentHttpHandler(answer, {
      tracerProvider: provider,
      resolveTurn: (req) => (req.url === TURN_PATH ? { threadId: String(req.headers['x-thread-id'] ?? 'default') } : undefined),
    });
    process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
    return { handler, flush: () => provider.forceFlush(), spans: () => recorder.stats().recordsWritten };
  },
};

function entryOf(root, name) {
  const require = createRequire(join(root, 'package.json'));
  return require.resolve(name).split(join('node_modules', ...name.split('/')))[1].split('/').filter(Boolean);
}

function countingExporter() {
  return {
    count: 0,
    export(spans, done) {
      this.count += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

async function runServer(mode, root) {
  const setup = await serverModes[mode.replace(/ \(before\)$/, '')](root);
  const http = setup.http ?? (await import('node:http'));
  const server = http.createServer(setup.handler);
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  let mark;
  process.on('message', async (message) => {
    if (message === 'start') {
      await setup.flush();
      mark = process.cpuUsage();
      process.send({ started: true });
    } else if (message === 'stop') {
      await setup.flush();
      const used = process.cpuUsage(mark);
      process.send({ cpuMicros: used.user + used.system, spans: setup.spans() });
    } else if (message === 'exit') {
      server.close();
      process.exit(0);
    }
  });
  process.send({ port: server.address().port });
}

// ---------------------------------------------------------------------------------------------
// The load generator.

function startServer(mode, root, execArgv) {
  const args = [SERVER_FLAG, mode, ...(root ? ['--root', root] : [])];
  const child = fork(new URL(import.meta.url).pathname, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const next = () => new Promise((done, fail) => {
    child.once('message', done);
    child.once('exit', (code) => fail(new Error(`${mode} server exited ${code}`)));
  });
  const ask = (message) => {
    const reply = next();
    child.send(message);
    return reply;
  };
  return next().then(({ port }) => ({ port, ask, close: () => child.send('exit') }));
}

/** Sends `amount` requests; resolves with each response's latency in ms (autocannon's timer, unrounded). */
async function load(autocannon, port, amount, connections) {
  const latencies = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${port}${TURN_PATH}`,
    headers: { 'x-thread-id': 'thread-1' },
    connections,
    amount,
  });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return latencies.sort((a, b) => a - b);
}


async function runLoad() {
  const { rounds, requests, warmup, connections, before } = loadOptions({ rounds: 5, requests: 20_000, warmup: 5_000, connections: 10 });
  // `--profile <mode> <dir>`: that mode's server runs with --cpu-prof, its profiles written to <dir>.
  const profiled = argument('--profile');
  const profileArgs = profiled ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.argv[process.argv.indexOf('--profile') + 2])] : [];
  const autocannon = createRequire(import.meta.url)('autocannon');
  const modes = ['plain', 'instrumentation-http', 'stall-why', ...(before ? ['stall-why (before)'] : [])];
  const results = Object.fromEntries(modes.map((m) => [m, { cpu: [], p50: [], p99: [], spans: 0 }]));
  const load0 = loadavg();
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const server = await startServer(mode, mode.endsWith('(before)') ? resolve(before) : undefined, mode === profiled ? profileArgs : []);
      await load(autocannon, server.port, warmup, connections);
      await server.ask('start');
      const latencies = await load(autocannon, server.port, requests, connections);
      const { cpuMicros, spans } = await server.ask('stop');
      server.close();
      const r = results[mode];
      r.cpu.push(cpuMicros / requests);
      r.p50.push(pct(latencies, 50));
      r.p99.push(pct(latencies, 99));
      r.spans = spans;
    }
  }
  const load1 = loadavg();
  const reference = median(results['instrumentation-http'].cpu);
  console.log(`${requests} requests per server per round (after ${warmup} to warm up), ${connections} connections, median of ${rounds} interleaved rounds`);
  console.log(`load average ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${load1.map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  for (const mode of modes) {
    const r = results[mode];
    const cpu = median(r.cpu);
    console.log(`  ${mode.padEnd(22)} server CPU ${cpu.toFixed(1).padStart(6)} µs/request  ${(cpu / reference).toFixed(2)}x instrumentation-http   p50 ${median(r.p50).toFixed(2)} ms  p99 ${median(r.p99).toFixed(2)} ms  (${r.spans} spans or records)`);
  }
  const ratio = median(results['stall-why'].cpu) / reference;
  console.log(`Goal: stall-why <= 1.2x instrumentation-http + BatchSpanProcessor: ${ratio <= 1.2 ? 'met' : 'not met'} (${ratio.toFixed(2)}x).`);
}

if (process.argv.includes(SERVER_FLAG)) await runServer(argument(SERVER_FLAG), argument('--root'));
else await runLoad();
