// The Codex rollout importer alone (RolloutImporter over lines held in memory, spans counted and
// dropped): MB/s on the first --mb megabytes of the bench's ordinary rollout (bench/lib/inputs.mjs,
// written into --dir if missing), against another build's importer in the same run (`--before <that
// checkout's root>`, built), as medians of interleaved rounds, with the load average. Usage:
//   npm run build && node bench/rollout-importer.mjs [--mb 100] [--rounds 7] [--dir D] [--before ROOT]
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLines, printSideBySide } from './lib/builds-side-by-side.mjs';
import { ordinaryRolloutFile } from './lib/inputs.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const mb = Number(arg('--mb', 100));
const rounds = Number(arg('--rounds', 7));
const dir = arg('--dir', '/tmp/stall-why-bench');
const before = arg('--before', undefined);
// The name cli-whole-process.mjs gives it: the thread id is read from it.
const file = join(dir, 'rollout-2026-11-24T00-00-00-01a20e18-aeae-7061-9f5c-2b1b8a03f3e7.jsonl');
mkdirSync(dir, { recursive: true });
if (!existsSync(file)) ordinaryRolloutFile(file, 300 * 1024 * 1024);

/** The lines with what the line reader tells of each. */
function withInfo(lines) {
  let offset = 0;
  return lines.map((line, i) => {
    const info = { lineNo: i + 1, offset, length: line.length, truncated: false, lastByte: line.at(-1), atEof: false };
    offset += line.length + 1;
    return { line, info };
  });
}

async function importerOf(checkout) {
  const { RolloutImporter } = await import(`${checkout}/packages/classifier/dist/importers/rollout-importer.js`);
  return (emit) => new RolloutImporter(file, emit);
}

const { lines: raw, bytes } = firstLines(file, mb);
const lines = withInfo(raw);
const importAll = (make) => () => {
  let n = 0;
  const importer = make(() => n++);
  for (const { line, info } of lines) importer.line(line, info);
  importer.finish();
  return n;
};
const builds = { 'this build': importAll(await importerOf(root)), ...(before ? { before: importAll(await importerOf(before)) } : {}) };
printSideBySide(`rollout importer, ${file}`, bytes, builds, rounds);
