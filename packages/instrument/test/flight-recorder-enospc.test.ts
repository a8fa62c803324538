// Disk full: a tiny tmpfs (the test mounts one when it runs as root; elsewhere it injects ENOSPC
// into the writer's file-system calls instead, and says so).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { newFlightReadStats, readFlightRecords } from '@stall-why/flight-record';
import { FlightRecorderProcessor, type RingBufferFileSystem } from '@stall-why/instrument';

const mountPoint = fs.mkdtempSync(join(tmpdir(), 'sw-enospc-'));
let mounted = false;
/** Set while the injected file system (fallback only) should report a full disk. */
let injectFull = false;

beforeAll(() => {
  try {
    if (process.env.STALL_WHY_TEST_NO_MOUNT) throw new Error('asked not to mount');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  } catch {
    console.log('ENOSPC test: cannot mount a tmpfs here; injecting ENOSPC into the writer instead');
  }
});
afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

const injected: RingBufferFileSystem = {
  ...fs,
  writeSync: ((...args: Parameters<typeof fs.writeSync>) => {
    if (injectFull) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync,
};

/** Writes `path` until the file system is full. */
function fillDisk(path: string): void {
  const fd = fs.openSync(path, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}

describe('flight recorder on a full disk', () => {
  // A disk filled by something else: the recorder gives up its own oldest segments, as its budget
  // would, and keeps the newest spans. It needs a real small file system (root mounts a tmpfs).
  it.runIf(process.getuid?.() === 0 && !process.env.STALL_WHY_TEST_NO_MOUNT)('gives up its oldest segments first and keeps the newest spans, dropping none', async () => {
    const directory = join(mountPoint, 'evicting');
    const filler = join(mountPoint, 'filler-evicting');
    fs.writeFileSync(filler, Buffer.alloc(352 * 1024));
    const recorder = new FlightRecorderProcessor({ directory, maxBytes: 8 * 1024 * 1024, segmentBytes: 64 * 1024 });
    const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
    const tracer = provider.getTracer('enospc');
    try {
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 50; i++) tracer.startSpan('phase', { attributes: { seq: round * 50 + i, pad: 'z'.repeat(500) } }).end();
        await recorder.forceFlush();
      }
      expect(recorder.stats().segmentsEvicted).toBeGreaterThan(0);
      expect(recorder.stats().recordsDropped).toBe(0);
      const seqs: number[] = [];
      for await (const r of readFlightRecords(directory)) seqs.push(r.span.attributes.seq as number);
      expect(seqs.slice(-50)).toEqual([...Array(50).keys()].map((k) => 1950 + k));
      await provider.shutdown();
    } finally {
      fs.rmSync(filler, { force: true });
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keeps the host running, drops and counts, warns once, and resumes when space returns', async () => {
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    const directory = join(mountPoint, 'flight');
    const filler = join(mountPoint, 'filler');
    const recorder = new FlightRecorderProcessor({ directory, maxBytes: 8 * 1024 * 1024, segmentBytes: 64 * 1024, fileSystem: mounted ? undefined : injected });
    const provider = new BasicTracerProvider({ spanProcessors: [recorder] });
    const tracer = provider.getTracer('enospc');
    let seq = 0;
    const record = async (n: number) => {
      for (let i = 0; i < n; i++) tracer.startSpan('phase', { attributes: { seq: seq++, pad: 'z'.repeat(500) } }).end();
      await recorder.forceFlush();
    };
    try {
      await record(50);
      expect(recorder.stats().degraded).toBe(false);
      // Fill the disk to the last byte: with no older segment of its own to give up, the recorder drops.
      // The host's own calls never throw.
      if (mounted) fillDisk(filler);
      injectFull = !mounted;
      for (let round = 0; round < 60 && !recorder.stats().degraded; round++) await record(50);
      expect(recorder.stats().degraded).toBe(true);
      await record(50);
      await record(50);
      expect(recorder.stats().recordsDropped).toBeGreaterThan(0);
      expect(recorder.stats().faults).toBeGreaterThanOrEqual(1);
      expect(warnings.filter((w) => w.includes('ENOSPC'))).toHaveLength(1);
      const lastBeforeFull = seq;

      // Space returns.
      if (mounted) fs.rmSync(filler);
      injectFull = false;
      await new Promise((r) => setTimeout(r, 1100)); // the writer retries after faultRetryMs (1 s)
      await record(20);
      expect(recorder.stats().degraded).toBe(false);
      const stats = newFlightReadStats();
      const seqs: number[] = [];
      for await (const r of readFlightRecords(directory, { stats })) seqs.push(r.span.attributes.seq as number);
      // What was written before the disk filled is intact (the partial batch was cut off), and recording resumed.
      expect(stats.corruptRecords).toBe(0);
      expect(seqs.slice(-20)).toEqual([...Array(20).keys()].map((k) => lastBeforeFull + k));
      expect(seqs.length).toBeGreaterThan(20);
      await provider.shutdown();
    } finally {
      injectFull = false;
      diag.disable();
    }
  });
});
