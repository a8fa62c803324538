// Records the example app-server (examples/, built) into the scenario corpus: for each stall, the
// run's OTLP JSON lines (spans exported as they end: the turn judged after it ended), and a copy of
// its flight-recorder directory taken mid-stall (open spans included: the turn judged live, at the
// moment of the copy). Writes test/corpus/example/* and test/corpus/example/recorded.json (the
// judged moments), which manifest.json refers to.
//
//   npm run build && node test/corpus/record.mjs [stall...]
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, '../../examples/dist/app-server.js');
const OUT = join(here, 'example');
const STALL_MS = 4000;
// Copied this long after the stall is reached: past the flight recorder's 1 s flush, and quiet for
// longer than the corpus's stuck threshold (1 s).
const SNAPSHOT_AFTER_MS = 2500;
const STALLS = [
  'none', 'healthy-tool', 'backend-silent', 'backend-silent-before-headers', 'dropped-connections', 'slow-compaction',
  'slow-history-load', 'client-gone', 'tool-no-continuation', 'unanswered-approval', 'tool-running',
];

async function record(stall) {
  const tmp = mkdtempSync(join(tmpdir(), 'stall-why-corpus-'));
  const otlp = join(OUT, `${stall}.otlp.jsonl`);
  rmSync(otlp, { force: true });
  const recDir = join(tmp, 'rec');
  const child = spawn(process.execPath, [APP, '--stall', stall, '--stall-ms', String(STALL_MS), '--otlp-file', otlp, '--record', recDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let snapshotAt;
  let err = '';
  const snapshot = new Promise((resolve) => {
    child.stderr.on('data', (d) => {
      err += d;
      if (snapshotAt === undefined && err.includes('stall reached')) {
        snapshotAt = 0;
        setTimeout(() => {
          snapshotAt = Date.now();
          const live = join(OUT, `${stall}.live.flight`);
          rmSync(live, { recursive: true, force: true });
          cpSync(recDir, live, { recursive: true });
          resolve(snapshotAt);
        }, SNAPSHOT_AFTER_MS);
      }
    });
  });
  const code = await new Promise((r) => child.on('exit', r));
  const at = snapshotAt === undefined ? undefined : await snapshot;
  rmSync(tmp, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${stall}: app-server exited ${code}: ${err}`);
  console.log(`${stall}: ${existsSync(otlp) ? readFileSync(otlp).length : 0} bytes of OTLP${at ? `, live copy at ${new Date(at).toISOString()}` : ''}`);
  return { otlpEndedAt: Date.now(), liveAt: at };
}

const only = process.argv.slice(2);
const recordedPath = join(OUT, 'recorded.json');
const recorded = existsSync(recordedPath) ? JSON.parse(readFileSync(recordedPath, 'utf8')) : {};
for (const stall of STALLS) {
  if (only.length && !only.includes(stall)) continue;
  recorded[stall] = await record(stall);
}
writeFileSync(recordedPath, JSON.stringify(recorded, null, 2) + '\n');
