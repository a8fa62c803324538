/**
 * Codex's log export without trace context: what Codex writes before it had a trace export, or
 * when only its log exporter is configured. Made from the real captures of test/corpus/codex-otel
 * by emptying every record's trace and span ids (flags 0), and held to the verdicts of the same
 * records with their traces: a person's prompt starts each turn, and the records after it belong to it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-untraced-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ManifestEntry {
  readonly name: string;
  readonly paths: string[];
  readonly now: number;
}
const manifest = JSON.parse(readFileSync(join(repo, 'test/corpus/manifest.json'), 'utf8')) as { entries: ManifestEntry[] };
/** Every capture judged with its logs; the compaction's own trace is a turn only a trace can tell apart (below). */
const captures = manifest.entries.filter((e) => e.name.startsWith('codex-otel/') && e.name.endsWith('.with-logs') && !e.name.includes('compaction'));

function untraced(logsPath: string): string {
  const out = join(dir, logsPath.replaceAll('/', '__'));
  const lines = readFileSync(join(repo, 'test/corpus', logsPath), 'utf8').split('\n').filter(Boolean);
  const stripped = lines.map((line) => {
    const batch = JSON.parse(line) as { resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Array<Record<string, unknown>> }> }> };
    for (const r of batch.resourceLogs ?? []) for (const s of r.scopeLogs ?? []) for (const record of s.logRecords ?? []) Object.assign(record, { traceId: '', spanId: '', flags: 0 });
    return JSON.stringify(batch);
  });
  writeFileSync(out, `${stripped.join('\n')}\n`);
  return out;
}

const judged = async (path: string, now: number) => (await analyzeTraces([path], { now })).report.turns.map((t) => ({ status: t.status, verdict: t.verdict, confidence: t.confidence }));

describe('Codex log records with no trace context', () => {
  it('there are captures to check', () => expect(captures.length).toBeGreaterThanOrEqual(14));

  it.each(captures.map((e) => [e.name, e] as const))('%s: the same turns and verdicts as with their traces', async (_name, entry) => {
    const logs = entry.paths.find((p) => p.includes('.logs.'))!;
    const withTraces = await judged(join(repo, 'test/corpus', logs), entry.now);
    expect(withTraces.length).toBeGreaterThan(0);
    expect(await judged(untraced(logs), entry.now)).toEqual(withTraces);
  });

  it('a compaction between prompts joins the turn open before it (only a trace tells it apart)', async () => {
    const entry = manifest.entries.find((e) => e.name === 'codex-otel/compaction.with-logs')!;
    const logs = entry.paths.find((p) => p.includes('.logs.'))!;
    expect(await judged(untraced(logs), entry.now)).toEqual([{ status: 'in_progress', verdict: 'unknown', confidence: 0.3 }]);
  });
});
