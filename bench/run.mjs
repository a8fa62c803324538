// Runs every benchmark script in this folder, one after the other, each in its own process so
// that one's heap and RSS don't colour the next. Extra arguments are passed to each script
// (e.g. `npm run bench -- --scale 0.1` for a quick run).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH;
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => !only || f.includes(only))
  .sort();
let failed = 0;
for (const script of scripts) {
  process.stdout.write(`\n== ${script}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
