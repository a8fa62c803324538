// Records ended turns of every wait kind from the example app-server (examples/, built) into the
// scenario corpus: each stall lasts STALL_MS (longer than the default slowPhaseMs, 5 s) and is then
// released as the app does it (the turn completes, fails on the lost continuation, or is interrupted
// when nobody answers the approval), so the corpus judges ended turns with the default thresholds.
// Writes test/corpus/ended/<stall>.otlp.jsonl (ended spans, as a collector has them),
// <stall>.flight/ (the flight recorder: start and end records) and recorded.json (when each run
// ended, epoch ms), which manifest.json refers to.
//
//   npm run build && node test/corpus/ended/record.mjs [stall...]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, '../../../examples/dist/app-server.js');
const STALL_MS = 8000;
// One stall per wait kind; client-gone (renderer_detached) and the healthy runs are in example/.
const STALLS = [
  'backend-silent', 'backend-silent-before-headers', 'dropped-connections', 'slow-compaction', 'slow-history-load',
  'tool-no-continuation', 'unanswered-approval', 'tool-running',
];

async function record(stall) {
  const otlp = join(here, `${stall}.otlp.jsonl`);
  const flight = join(here, `${stall}.flight`);
  rmSync(otlp, { force: true });
  rmSync(flight, { recursive: true, force: true });
  const child = spawn(process.execPath, [APP, '--stall', stall, '--stall-ms', String(STALL_MS), '--otlp-file', otlp, '--record', flight], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`${stall}: app-server exited ${code}: ${err}`);
  const endedAt = Date.now();
  console.log(`${stall}: ${existsSync(otlp) ? readFileSync(otlp).length : 0} bytes of OTLP, ended by ${new Date(endedAt).toISOString()}`);
  return { endedAt };
}

const only = process.argv.slice(2);
const recordedPath = join(here, 'recorded.json');
const recorded = existsSync(recordedPath) ? JSON.parse(readFileSync(recordedPath, 'utf8')) : {};
for (const stall of STALLS) {
  if (only.length && !only.includes(stall)) continue;
  recorded[stall] = await record(stall);
}
writeFileSync(recordedPath, JSON.stringify(recorded, null, 2) + '\n');
