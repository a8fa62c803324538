// Judges labelled real sessions and prints each turn the tool got wrong, then how many were right:
// the command behind the numbers the docs give for a batch (test/integration/wild-corpus.test.ts
// holds the same labels to precision and recall). `--classifier` judges with another build, e.g. a
// git worktree of an earlier commit, to say how a batch fared before the changes made for it.
//
//   node test/corpus/wild/judge.mjs [labels.json...] [--classifier <path to classifier dist/index.js>]
//
// Needs a build (npm run build). Defaults: every batch (wild/ and each folder in it with a labels.json), this checkout's classifier.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = import.meta.dirname;
const { values, positionals } = parseArgs({ options: { classifier: { type: 'string' } }, allowPositionals: true });
const classifier = resolve(values.classifier ?? join(here, '../../../packages/classifier/dist/index.js'));
const { analyzeTraces } = await import(pathToFileURL(classifier).href);
const batches = ['.', ...readdirSync(here, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)].sort();
const labelFiles = positionals.length > 0 ? positionals : batches.map((d) => join(here, d, 'labels.json')).filter((p) => existsSync(p));

let right = 0;
let total = 0;
for (const labels of labelFiles) {
  for (const f of JSON.parse(readFileSync(labels, 'utf8')).files) {
    const { report } = await analyzeTraces([join(dirname(labels), f.file)], { now: Date.parse(f.now) });
    for (const want of f.turns) {
      const got = report.turns[want.ordinal - 1];
      total++;
      if (got && got.status === want.status && got.verdict === want.verdict) right++;
      else console.log(`${f.file} #${want.ordinal}: labelled ${want.status}/${want.verdict}, judged ${got ? `${got.status}/${got.verdict}` : 'no turn'}`);
    }
  }
}
console.log(`${right} of ${total} turns right`);
