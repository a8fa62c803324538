/**
 * `EndedTurnVerdicts` (what `stall-why watch` keeps between refreshes) must never change a report:
 * on every entry of the scenario corpus and every e2e recording of the real Codex app-server, the
 * reports judged with kept verdicts, at the recorded moment and again 10 minutes and a day later, and
 * on the input grown from its first half to the whole, equal the reports judged afresh; and the
 * reuse happens (the test would pass vacuously if nothing were ever kept).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeTraces, classifySpans, EndedTurnVerdicts } from '@stall-why/classifier';
import type { RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../../test');
const manifest = JSON.parse(readFileSync(join(root, 'corpus/manifest.json'), 'utf8')) as { entries: Array<{ name: string; paths: string[]; now: number }> };
const recordings = readdirSync(join(root, 'e2e/recordings'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, 'e2e/recordings', e.name, 'judged.json')))
  .map((e) => ({
    name: `e2e/${e.name}`,
    paths: [join(root, 'e2e/recordings', e.name, 'recording')],
    now: (JSON.parse(readFileSync(join(root, 'e2e/recordings', e.name, 'judged.json'), 'utf8')) as { nowMs: number }).nowMs,
  }));
const inputs = [...manifest.entries.map((e) => ({ name: e.name, paths: e.paths.map((p) => join(root, 'corpus', p)), now: e.now })), ...recordings];

const LATER = [0, 10 * 60_000, 24 * 3600_000];

describe('ended turns whose reports are kept between judgements', () => {
  let reused = 0;

  it.each(inputs)('$name: the same reports as judged afresh', async ({ paths, now }) => {
    const { spans } = await analyzeTraces(paths, { now: now + LATER.at(-1)! });
    const kept = new EndedTurnVerdicts();
    const judgeBoth = (input: readonly RecordedSpan[], at: number): void => {
      expect(classifySpans(input, { now: at, endedTurns: kept })).toEqual(classifySpans(input, { now: at }));
    };
    judgeBoth(spans.slice(0, Math.ceil(spans.length / 2)), now);
    for (const later of LATER) judgeBoth(spans, now + later);
    // Back in time: nothing kept may be given for an earlier moment.
    judgeBoth(spans, now - 60_000);
    reused += kept.reusedReports;
  });

  // 90 when written: turns with renderer points, open spans or spans after the moment are always judged afresh.
  it('gives kept reports again', () => {
    expect(reused).toBeGreaterThan(50);
  });
});
