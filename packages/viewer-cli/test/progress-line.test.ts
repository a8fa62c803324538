import { describe, expect, it } from 'vitest';
import { ProgressLine } from 'stall-why';

/** A stderr stand-in: records writes, says whether it is a TTY. */
function stream(isTTY: boolean): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns: 80, written, write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream & { written: string[] };
}

describe('ProgressLine', () => {
  const update = { path: 'big.rollout.jsonl', bytesRead: 30 * 1_048_576, totalBytes: 120 * 1_048_576 };

  it('stays silent for the first second, then draws one line in place and erases it', () => {
    let now = 0;
    const tty = stream(true);
    const progress = new ProgressLine({ stream: tty, clock: () => now });
    progress.update(update);
    expect(tty.written).toEqual([]);
    now = 1_001;
    progress.update(update);
    expect(tty.written).toEqual(['\r\x1b[Kreading big.rollout.jsonl: 25% of 120.0 MB']);
    now = 1_050;
    progress.update(update);
    expect(tty.written).toHaveLength(1);
    progress.done();
    expect(tty.written.at(-1)).toBe('\r\x1b[K');
  });

  it('never writes when stderr is not a TTY', () => {
    let now = 0;
    const pipe = stream(false);
    const progress = new ProgressLine({ stream: pipe, clock: () => now });
    now = 5_000;
    progress.update(update);
    progress.done();
    expect(pipe.written).toEqual([]);
  });
});
