// Overhead of `stall-why record`'s stdio proxy against a direct pipe, measured in the same run:
//  1. latency: one JSON-RPC line at a time through an echo server (`cat`), round trip, direct vs
//     wrapped by record (a round trip crosses the proxy twice, so per message = half the difference);
//     a bare Node relay (pipes only, no observation) is measured too: the floor of any Node proxy,
//     so what remains above it is the cost of observing and recording;
//  2. throughput: a server that floods stdout with `item/agentMessage/delta` notifications, read
//     directly vs through record.
// Usage: node bench/proxy.mjs [--scale 0.1]   (needs `npm run build` first)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'packages', 'viewer-cli', 'bin', 'stall-why.js');
const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const ROUND_TRIPS = Math.max(500, Math.round(10_000 * scale));
const FLOOD_MB = Math.max(16, Math.round(256 * scale));
const ROUNDS = 3;
const dirs = [];

function wrapped(command) {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-bench-'));
  dirs.push(dir);
  return [process.execPath, [CLI, 'record', '--out', dir, '--', ...command]];
}

/** A Node process that only relays stdio to and from its child: what any Node proxy costs. */
const bareRelay = (command) => [process.execPath, ['-e', `
  const { spawn } = require('node:child_process'); const net = require('node:net');
  const out = new net.Socket({ fd: 1, readable: false, writable: true });
  const c = spawn(${JSON.stringify(command[0])}, ${JSON.stringify(command.slice(1))}, { stdio: ['pipe', 'pipe', 'inherit'] });
  process.stdin.on('data', (b) => c.stdin.write(b)); process.stdin.on('end', () => c.stdin.end());
  c.stdout.on('data', (b) => out.write(b)); c.on('close', () => out.end());`]];

function start([file, args]) {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return child;
}

const delta = (i) => `{"method":"item/agentMessage/delta","params":{"threadId":"01a20e18-aeae-7061-9f5c-2b1b8a03f3e6","turnId":"01a20e18-aecb-7f13-841a-bcbf3d5726a0","itemId":"msg_2","delta":"token ${i} of a streamed answer "},"emittedAtMs":${1795532828763 + i}}\n`;

/** Round-trip times (µs) of `count` lines sent one at a time through the command's stdio. */
async function roundTrips(command, count) {
  const child = start(command);
  const times = [];
  let waiting = null;
  let buffered = '';
  child.stdout.on('data', (c) => {
    buffered += c;
    if (buffered.endsWith('\n') && waiting) {
      buffered = '';
      const w = waiting;
      waiting = null;
      w();
    }
  });
  // Warm up the pipes and the JIT before timing.
  for (let i = 0; i < count + 200; i++) {
    const line = delta(i);
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => {
      waiting = resolve;
      child.stdin.write(line);
    });
    if (i >= 200) times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  child.stdin.end();
  await new Promise((r) => child.once('close', r));
  return times.sort((a, b) => a - b);
}

/** MB/s of delta notifications read from a server that writes `mb` MB of them as fast as it can. */
async function flood(command, mb) {
  const child = start(command);
  let bytes = 0;
  let t0;
  // Timed from the first byte: process start-up (node, the CLI's modules) is not per-message cost.
  child.stdout.on('data', (c) => {
    t0 ??= process.hrtime.bigint();
    bytes += c.length;
  });
  await new Promise((r) => child.once('close', r));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes < mb * 1024 * 1024) throw new Error(`flood: read ${bytes} bytes, expected ${mb} MB`);
  return bytes / 1024 / 1024 / seconds;
}

const floodServer = (mb) => [process.execPath, '-e', `
  const lines = []; for (let i = 0; i < 4096; i++) lines.push(${JSON.stringify(delta(0)).replace(/0 of/, "' + i + ' of")});
  const block = Buffer.from(lines.join(''));
  const target = ${mb} * 1024 * 1024; let sent = 0;
  const more = () => { while (sent < target) { sent += block.length; if (!process.stdout.write(block)) return process.stdout.once('drain', more); } };
  more();`];

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n) => n.toFixed(1);

const lat = { direct: [], bare: [], wrapped: [] };
const tput = { direct: [], wrapped: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved, so that load from elsewhere on the machine falls on both sides alike.
  lat.direct.push(await roundTrips(['cat', []], ROUND_TRIPS));
  lat.bare.push(await roundTrips(bareRelay(['cat']), ROUND_TRIPS));
  lat.wrapped.push(await roundTrips(wrapped(['cat']), ROUND_TRIPS));
  const server = floodServer(FLOOD_MB);
  tput.direct.push(await flood([server[0], server.slice(1)], FLOOD_MB));
  tput.wrapped.push(await flood(wrapped(server), FLOOD_MB));
}
for (const d of dirs) rmSync(d, { recursive: true, force: true });

const merged = (runs) => runs.flat().sort((a, b) => a - b);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const d = merged(lat.direct);
const w = merged(lat.wrapped);
const b = merged(lat.bare);
console.log(`stdio round trip of one ${delta(0).length}-byte delta line, ${ROUNDS} x ${ROUND_TRIPS} samples (µs):`);
console.log(`  direct pipe (cat)         p50 ${fmt(pct(d, 50))}  p99 ${fmt(pct(d, 99))}`);
console.log(`  bare Node relay           p50 ${fmt(pct(b, 50))}  p99 ${fmt(pct(b, 99))}`);
console.log(`  through stall-why record  p50 ${fmt(pct(w, 50))}  p99 ${fmt(pct(w, 99))}`);
const addedP99 = (pct(w, 99) - pct(d, 99)) / 2;
const addedP50 = (pct(w, 50) - pct(d, 50)) / 2;
console.log(`  added per message vs direct (one crossing = half the round-trip difference): p50 ${fmt(addedP50)} µs, p99 ${fmt(addedP99)} µs (goal < 100 µs)  ratio p99 ${fmt(pct(w, 99) / pct(d, 99))}x`);
console.log(`  of which observing + recording (vs the bare Node relay): p50 ${fmt((pct(w, 50) - pct(b, 50)) / 2)} µs, p99 ${fmt((pct(w, 99) - pct(b, 99)) / 2)} µs`);
const td = median(tput.direct);
const tw = median(tput.wrapped);
console.log(`delta notifications, ${FLOOD_MB} MB per run, median of ${ROUNDS} (MB/s):`);
console.log(`  direct pipe               ${fmt(td)}`);
console.log(`  through stall-why record  ${fmt(tw)}  (goal >= 100)  ratio ${fmt(tw / td)}x`);
process.exitCode = addedP99 < 100 && tw >= 100 ? 0 : 1;
