// The OTLP JSON-lines fast path alone (OtlpLineDecoder over lines held in memory, spans counted and
// dropped): MB/s on the first --mb megabytes of the bench's OTLP input, against another build's decoder
// in the same run (`--before <that checkout's root>`, built), as medians of interleaved rounds, with
// the load average. Usage:
//   npm run build && node bench/otlp-line-decoder.mjs [--file F] [--mb 100] [--rounds 7] [--before ROOT]
import { fileURLToPath } from 'node:url';
import { firstLines, printSideBySide } from './lib/builds-side-by-side.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const file = arg('--file', '/tmp/stall-why-bench/spans.otlp.jsonl');
const mb = Number(arg('--mb', 100));
const rounds = Number(arg('--rounds', 7));
const before = arg('--before', undefined);

// The span names the CLI reads (analyze-traces' READ_SPAN_NAMES).
async function decoderOf(checkout) {
  const dist = `${checkout}/packages/classifier/dist`;
  const { OtlpLineDecoder } = await import(`${dist}/importers/otlp-line-decoder.js`);
  const { KNOWN_PHASES } = await import(`${dist}/model/phase-groups.js`);
  const { CODEX_SPAN_NAMES } = await import(`${dist}/importers/codex-otel-spans.js`);
  const wanted = new Set([...KNOWN_PHASES, ...CODEX_SPAN_NAMES]);
  return () => new OtlpLineDecoder(wanted);
}

const { lines, bytes } = firstLines(file, mb);
const decode = (make) => () => {
  const decoder = make();
  let n = 0;
  for (const line of lines) if (!decoder.decode(line, () => n++)) throw new Error('a line left to the generic path');
  return n;
};
const builds = { 'this build': decode(await decoderOf(root)), ...(before ? { before: decode(await decoderOf(before)) } : {}) };
printSideBySide(`OTLP line decoder, ${file}`, bytes, builds, rounds);
