// Why the line reader reads 64 KiB at a time: read(2) of a whole file (in the page cache) into one
// reused buffer, split into lines with Buffer.indexOf as the reader does, for several buffer sizes,
// each in a process of its own (user and system CPU from /proc, as the kernel's copy is system
// time). On glibc, a buffer under the 128 KiB mmap threshold comes from the heap; larger ones are
// mapped, and read(2) fills those about three times slower here, even in 64 KiB reads (the last
// row); with MALLOC_MMAP_THRESHOLD_=33554432 in the environment every size is as fast. Medians of interleaved rounds, with the load average. Usage:
//   node bench/read-chunk.mjs [--file F] [--rounds 5]   (default F: the bench's 300 MB bloated rollout, made by cli-whole-process.mjs)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { argument, median } from './lib/load-options.mjs';

const file = argument('--file', '/tmp/stall-why-bench/rollout-2026-11-24T00-00-00-01a20e18-aeae-7061-9f5c-2b1b8a03f3e6.jsonl');
const rounds = Number(argument('--rounds', 5));
if (!existsSync(file)) {
  console.error(`read-chunk: no ${file}; run node bench/cli-whole-process.mjs --only bloated --rounds 1 first, or pass --file`);
  process.exit(2);
}

// [read size, buffer size] in KiB.
const CASES = [[64, 64], [128, 128], [256, 256], [2048, 2048], [64, 2048]];
const READER = `
  const { openSync, readSync, readFileSync } = require('node:fs');
  const [path, readKb, bufferKb] = process.argv.slice(1);
  const chunk = Buffer.allocUnsafe(bufferKb * 1024).subarray(0, readKb * 1024);
  const fd = openSync(path, 'r');
  let position = 0, lines = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, position);
    if (n === 0) break;
    position += n;
    const view = chunk.subarray(0, n);
    for (let i = view.indexOf(10); i >= 0; i = view.indexOf(10, i + 1)) lines++;
  }
  const [utime, stime] = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ').slice(11, 13).map(Number);
  console.log(JSON.stringify({ lines, userMs: utime * 10, systemMs: stime * 10 }));`;

const results = new Map(CASES.map((c) => [c.join('/'), { user: [], system: [], wall: [] }]));
const load0 = loadavg()[0];
for (let round = 0; round < rounds; round++) {
  for (const [readKb, bufferKb] of CASES) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ['-e', READER, file, String(readKb), String(bufferKb)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const { userMs, systemMs } = JSON.parse(run.stdout);
    const r = results.get(`${readKb}/${bufferKb}`);
    r.user.push(userMs);
    r.system.push(systemMs);
    r.wall.push(wallMs);
  }
}
console.log(`${file}: median of ${rounds} interleaved rounds, whole process; load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);
for (const [key, r] of results) {
  const [readKb, bufferKb] = key.split('/');
  console.log(`  read ${readKb.padStart(4)} KiB into a ${bufferKb.padStart(4)} KiB buffer   wall ${median(r.wall).toFixed(0).padStart(5)} ms   user ${median(r.user).toFixed(0).padStart(4)} ms   system ${median(r.system).toFixed(0).padStart(4)} ms`);
}
