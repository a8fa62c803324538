/**
 * A recording the reader cannot trust is said to be so: a directory every user can write, or segments
 * another user wrote there, may hold turns planted by someone else (the recorder refuses to write in
 * such a directory; a reader still reads it, and says why to doubt it).
 */
import { chmodSync, chownSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '../../../test/corpus/example/backend-silent.live.flight');
const root = mkdtempSync(join(tmpdir(), 'sw-untrusted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function copy(name: string): string {
  const dir = join(root, name);
  cpSync(corpus, dir, { recursive: true });
  return dir;
}

describe('a recording another user could have written', () => {
  it('is read, with a note, when every user can write its directory', async () => {
    const dir = copy('shared');
    chmodSync(dir, 0o777);
    const { report } = await analyzeTraces([dir], { now: Date.now() });
    expect(report.sources[0]!.notes?.join('\n')).toMatch(/a directory every user can write: its turns may have been planted/);
  });

  it.runIf(process.getuid?.() === 0)('is read, with a note, when its segments belong to another user', async () => {
    const dir = copy('foreign');
    for (const name of readdirSync(dir)) chownSync(join(dir, name), 65534, 65534);
    const { report } = await analyzeTraces([dir], { now: Date.now() });
    expect(report.sources[0]!.notes?.join('\n')).toMatch(/segments written by another user \(uid 65534\)/);
  });

  it('says nothing of a recording of its own', async () => {
    const { report } = await analyzeTraces([copy('own')], { now: Date.now() });
    expect(report.sources[0]!.notes ?? []).toEqual([]);
  });
});
