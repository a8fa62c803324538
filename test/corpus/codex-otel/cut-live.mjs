// Cuts a capture to what the receiver held at a moment: the OTLP requests (one per line of
// <scenario>.{traces,logs}.otlp.jsonl, in the order `otlp.export` events of its timeline list them)
// that had arrived by then, written to live/<scenario>.{traces,logs}.otlp.jsonl. The moment is the
// `now` of the scenario's `.live` entry in test/corpus/manifest.json, so the cut is what a live
// judgement at that moment could read.
//
//   node test/corpus/codex-otel/cut-live.mjs [scenario...]      (all scenarios with a .live entry when none are named)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, '..', 'manifest.json'), 'utf8'));
const live = new Map(manifest.entries.filter((e) => /^codex-otel\/.*\.live$/.test(e.name)).map((e) => [e.name.slice('codex-otel/'.length, -'.live'.length), e.now]));
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : [...live.keys()];
mkdirSync(join(here, 'live'), { recursive: true });
for (const scenario of scenarios) {
  const now = live.get(scenario);
  if (now === undefined) throw new Error(`${scenario}: no codex-otel/${scenario}.live entry in the manifest`);
  const timeline = JSON.parse(readFileSync(join(here, `${scenario}.timeline.json`), 'utf8'));
  for (const signal of ['traces', 'logs']) {
    const file = join(here, `${scenario}.${signal}.otlp.jsonl`);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const arrivals = timeline.events.filter((e) => e.event === 'otlp.export' && e.signal === signal).map((e) => e.atMs);
    if (arrivals.length !== lines.length) throw new Error(`${file}: ${lines.length} requests, ${arrivals.length} exports in the timeline`);
    const kept = lines.filter((_, i) => arrivals[i] <= now);
    writeFileSync(join(here, 'live', `${scenario}.${signal}.otlp.jsonl`), kept.map((l) => `${l}\n`).join(''));
    console.log(`${scenario} ${signal}: ${kept.length} of ${lines.length} requests had arrived at ${new Date(now).toISOString()}`);
  }
}
