// Self time per function in the CPU profiles of a directory (`node --cpu-prof --cpu-prof-dir=D …`
// writes one per thread: the CLI's main thread and its judging worker), as shares of the profiles'
// time, largest first: what the README's profile shares are read from. With --inclusive, the time of
// each function with everything it called (a sample counts once per function on its stack): the
// share of a whole stage, e.g. `accountWaits`, the replay of ended turns. Usage:
//   node bench/lib/profile-top.mjs <dir> [--top 30] [--thread 1] [--inclusive]   (--thread: only profiles whose name holds `.<n>.0`; the worker is usually 1)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir] = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
if (!dir) {
  console.error('usage: node bench/lib/profile-top.mjs <dir> [--top 30] [--thread N] [--inclusive]');
  process.exit(2);
}
const top = Number(arg('--top', 30));
const thread = arg('--thread', undefined);
const inclusive = process.argv.includes('--inclusive');
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && (thread === undefined || new RegExp(`\\.${thread}\\.0\\d*\\.cpuprofile$`).test(f)));
const selfTime = new Map();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id])));
  const keyOf = (id) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    // Self time: the sampled frame; inclusive: every distinct function on its stack.
    const keys = inclusive ? new Set(stackOf(id, parent).map(keyOf)) : [keyOf(id)];
    for (const key of keys) selfTime.set(key, (selfTime.get(key) ?? 0) + dt);
    total += dt;
  });
}
console.log(`${files.length} profile(s), ${(total / 1e6).toFixed(1)} s sampled`);
for (const [key, t] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${key}`);

/** The node ids from a sampled node up to the root. */
function stackOf(id, parent) {
  const stack = [];
  for (let x = id; x !== undefined; x = parent.get(x)) stack.push(x);
  return stack;
}
