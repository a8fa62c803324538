// CLI start-up, whole process as a user runs it: `stall-why --version` and `stall-why <a tiny
// rollout> --json`, against `node -e 0` in the same run. Rounds interleave the three commands so
// that a busy neighbour on a shared machine slows each alike; the medians are printed with the
// load average. Also the median CPU time (user + system, from /usr/bin/time), which a busy
// neighbour disturbs less than the wall clock. `--before <bin>` adds another build's bin/stall-why.js
// to the rounds (an earlier commit's, built elsewhere). Usage:
//   npm run build && node bench/cli-start.mjs [--rounds 15] [--before /elsewhere/packages/viewer-cli/bin/stall-why.js]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../packages/viewer-cli/bin/stall-why.js', import.meta.url));
const tiny = fileURLToPath(new URL('../test/corpus/codex/healthy.rollout.jsonl', import.meta.url));
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 15;
const beforeArg = process.argv.indexOf('--before');
const before = beforeArg > 0 ? process.argv[beforeArg + 1] : undefined;
const commands = {
  'node -e 0': ['-e', '0'],
  'stall-why --version': [cli, '--version'],
  'stall-why <tiny rollout> --json': [cli, tiny, '--json', '--now', '1795581819116'],
  ...(before ? { 'before: --version': [before, '--version'], 'before: <tiny rollout> --json': [before, tiny, '--json', '--now', '1795581819116'] } : {}),
};

const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const load = [loadavg()[0]];
for (let r = 0; r < rounds; r++) {
  for (const [name, args] of Object.entries(commands)) {
    const t0 = process.hrtime.bigint();
    const run = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
    const [user, system] = run.stderr.trim().split('\n').pop().split(' ').map(Number);
    cpu[name].push((user + system) * 1000);
    if (run.status !== 0 && !name.includes('<tiny rollout>')) throw new Error(`${name} exited ${run.status}: ${run.stderr}`);
  }
}
load.push(loadavg()[0]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const reference = median(times['node -e 0']);
const cpuReference = median(cpu['node -e 0']);
console.log(`median of ${rounds} interleaved rounds; load average ${load.map((l) => l.toFixed(1)).join(' -> ')}`);
for (const [name, xs] of Object.entries(times)) {
  const c = median(cpu[name]);
  console.log(`  ${name.padEnd(34)} ${median(xs).toFixed(1).padStart(7)} ms  ${(median(xs) / reference).toFixed(2)}x node -e 0   CPU ${c.toFixed(0).padStart(4)} ms  ${(c / cpuReference).toFixed(2)}x`);
}
console.log('Goal: <= 1.5x node -e 0.');
