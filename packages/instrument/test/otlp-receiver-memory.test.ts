/**
 * Concurrent request bodies are bounded: past `maxInFlightBytes` held at once, a request is answered
 * 503 with Retry-After (the sender keeps its batch), and once the others are answered it is taken.
 * 150 concurrent 31 MiB bodies once held 2.4 GB of memory in collect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver } from '@stall-why/instrument';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'sw-inflight-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function body(i: number, bytes: number): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [{
    traceId: 'a'.repeat(31) + (i % 10), spanId: String(i + 1).padStart(16, '0'), name: `batch-${i}`, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000',
    attributes: Array.from({ length: Math.ceil(bytes / 1000) }, (_, k) => ({ key: `k${k}`, value: { stringValue: 'v '.repeat(480) } })),
  }] }] }] });
}

/** POSTs `text` in two halves, the second only once `release` resolves: the bodies are held at once. */
function postInHalves(url: string, text: string, release: Promise<void>): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', reject);
    const half = Math.floor(text.length / 2);
    req.write(text.slice(0, half));
    void release.then(() => req.end(text.slice(half)));
  });
}

describe('OtlpReceiver under many concurrent bodies', () => {
  it('answers 503 with Retry-After past maxInFlightBytes held at once, and takes the batch when retried', async () => {
    const receiver = new OtlpReceiver({ directory: join(root, 'flight'), port: 0, maxInFlightBytes: 2 * 1024 * 1024 });
    const url = await receiver.listen();
    try {
      const bodies = Array.from({ length: 8 }, (_, i) => body(i, 1024 * 1024));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const pending = bodies.map((b) => postInHalves(url, b, released));
      // Every first half (8 x 0.5 MiB, over the 2 MiB cap) reaches the receiver before any body ends.
      await new Promise((r) => setTimeout(r, 300));
      release();
      const answers = await Promise.all(pending);
      const statuses = answers.map((a) => a.status);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      for (const a of answers.filter((x) => x.status === 503)) expect(a.retryAfter).toBe('1');
      // Retried one at a time, every refused batch is taken.
      for (const [i, a] of answers.entries()) {
        if (a.status === 503) expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] })).status).toBe(200);
      }
      expect(receiver.stats().spans, JSON.stringify({ statuses, stats: receiver.stats() })).toBe(8);
    } finally {
      await receiver.close();
    }
  });
});
