/**
 * Bad input: every case gives one TraceInputError line naming the file and a position, quickly, and
 * never a stack trace or a hang.
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { analyzeTraces, TraceInputError } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'stall-why-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(name: string, content: string | Buffer, format?: 'otlp-json' | 'codex-rollout' | 'chrome-trace'): Promise<TraceInputError> {
  const path = join(dir, name);
  writeFileSync(path, content);
  const error = await analyzeTraces([path], { now: 0, format }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TraceInputError);
  const e = error as TraceInputError;
  expect(e.file).toBe(path);
  expect(e.message.startsWith(`${path}:`)).toBe(true);
  expect(e.message).not.toContain('\n');
  return e;
}

/** Streams a file whose second part is one line of `mb` MiB, then returns its path. */
async function hugeLineFile(name: string, before: string, fill: number, after: string, mb = 500): Promise<string> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  out.write(before);
  const block = Buffer.alloc(8 * 1024 * 1024, fill);
  for (let written = 0; written < mb * 1024 * 1024; written += block.length) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end(after);
  await once(out, 'finish');
  return path;
}

const rolloutLine = (type: string, payload: object, ts = '2026-11-24T15:07:08.369Z'): string =>
  JSON.stringify({ timestamp: ts, ordinal: 0, type, payload });

describe('bad input', () => {
  it('an empty file', async () => {
    const e = await failure('empty.jsonl', '');
    expect(e.position).toBe('1');
    expect(e.message).toMatch(/empty file/);
  });

  it('whitespace only', async () => {
    expect((await failure('blank.json', '\n\n  \n')).message).toMatch(/empty file/);
  });

  it('binary data', async () => {
    const e = await failure('blob.bin', Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47]));
    expect(e.message).toMatch(/binary data/);
  });

  it('a wrong format (JSON, but not a trace)', async () => {
    const e = await failure('package.json', JSON.stringify({ name: 'x', version: '1.0.0' }));
    expect(e.message).toMatch(/not a format stall-why reads/);
  });

  it('truncated OTLP JSON (a pretty-printed document cut short)', async () => {
    const doc = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [] }] }] }, null, 2);
    const e = await failure('cut.otlp.json', doc.slice(0, doc.length - 20));
    expect(e.position).toMatch(/^@\d+$/);
    expect(e.message).toMatch(/truncated/);
  });

  it('truncated OTLP JSON lines (a line cut short)', async () => {
    const line = JSON.stringify({ resourceSpans: [] });
    const e = await failure('cut.otlp.jsonl', `${line}\n${line.slice(0, 10)}\n`);
    expect(e.position).toBe('2');
    expect(e.message).toMatch(/invalid JSON/);
  });

  it('a rollout whose last line is cut short (being appended) is judged up to the line before, with a note', async () => {
    const good = rolloutLine('event_msg', { type: 'task_started', turn_id: 't1' });
    const path = join(dir, 'rollout-cut.jsonl');
    writeFileSync(path, `${good}\n${good.slice(0, 40)}`);
    const { report } = await analyzeTraces([path], { now: Date.parse('2026-11-24T15:08:00Z') });
    expect(report.turns).toMatchObject([{ turnId: 't1', status: 'stuck' }]);
    expect(report.sources[0]!.notes).toEqual(['line 2, the last, is cut short (no newline, not complete JSON: a writer still appending it, or a copy cut short); judged up to line 1']);
  });

  it('a rollout line cut short in the middle is an error naming it', async () => {
    const good = rolloutLine('event_msg', { type: 'task_started', turn_id: 't1' });
    const e = await failure('rollout-cut-mid.jsonl', `${good}\n${good.slice(0, 40)}\n${good}\n`);
    expect(e.position).toBe('2');
  });

  it('OTLP JSON lines whose last line is cut short are judged up to the line before, with a note', async () => {
    const line = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [] }] }] });
    const path = join(dir, 'cut-tail.otlp.jsonl');
    writeFileSync(path, `${line}\n${line.slice(0, 10)}`);
    const { report } = await analyzeTraces([path], { now: 0 });
    expect(report.sources[0]!.notes?.[0]).toMatch(/^line 2, the last, is cut short/);
  });

  it('garbage in the middle of a rollout', async () => {
    const good = rolloutLine('event_msg', { type: 'task_started', turn_id: 't1' });
    const e = await failure('rollout-garbage.jsonl', `${good}\nnot json at all}\n${good}\n`);
    expect(e.position).toBe('2');
  });

  it('a file forced into the wrong format', async () => {
    const good = rolloutLine('event_msg', { type: 'task_started', turn_id: 't1' });
    const e = await failure('rollout-as-chrome.jsonl', `${good}\n`, 'chrome-trace');
    expect(e.position).toBe('1');
    expect(e.message).toContain('no trace events in this file');
  });

  it('a missing file', async () => {
    const path = join(dir, 'nope.jsonl');
    const e = (await analyzeTraces([path], { now: 0 }).catch((x: unknown) => x)) as TraceInputError;
    expect(e).toBeInstanceOf(TraceInputError);
    expect(e.message).toBe(`${path}: no such file or directory`);
  });

  it('unknown rollout line types are skipped and counted, known ones still read', async () => {
    const path = join(dir, 'rollout-unknown.jsonl');
    writeFileSync(path, [
      rolloutLine('session_meta', { id: 'thread-1' }),
      rolloutLine('event_msg', { type: 'task_started', turn_id: 'turn-1' }),
      rolloutLine('future_line_type', { anything: true }),
      rolloutLine('another_new_type', {}),
      rolloutLine('event_msg', { type: 'task_complete', turn_id: 'turn-1' }, '2026-11-24T15:07:09.000Z'),
    ].join('\n') + '\n');
    const { report } = await analyzeTraces([path], { now: Date.parse('2026-11-24T15:08:00Z') });
    expect(report.sources[0]).toMatchObject({ format: 'codex-rollout', skipped: 2 });
    expect(report.turns).toHaveLength(1);
    expect(report.turns[0]).toMatchObject({ turnId: 'turn-1', threadId: 'thread-1', status: 'completed' });
  });

  it('a line of 500 MB: an error at that line, quickly, in bounded memory', async () => {
    const path = await hugeLineFile(
      'rollout-huge.jsonl',
      `${rolloutLine('event_msg', { type: 'task_started', turn_id: 't1' })}\n{"timestamp":"2026-11-24T15:07:08.369Z","type":"response_item","payload":{"type":"message","content":"`,
      0x41,
      '"}}\n',
    );
    const rssBefore = process.memoryUsage().rss;
    const e = (await analyzeTraces([path], { now: 0 }).catch((x: unknown) => x)) as TraceInputError;
    expect(e).toBeInstanceOf(TraceInputError);
    expect(e.position).toBe('2');
    expect(e.message).toMatch(/longer than 64 MiB/);
    // The reader holds a bounded head of the line, not the line: well under the line's size.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    rmSync(path);
  }, 60_000);

  it('a single OTLP line of 500 MB: an error, not an out-of-memory', async () => {
    const path = await hugeLineFile(
      'otlp-huge.json',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"stall_why.turn","attributes":[{"key":"blob","value":{"stringValue":"',
      0x42,
      '"}}]}]}]}]}\n',
    );
    const e = (await analyzeTraces([path], { now: 0 }).catch((x: unknown) => x)) as TraceInputError;
    expect(e).toBeInstanceOf(TraceInputError);
    expect(e.position).toMatch(/^@\d+$/);
    expect(e.message).toMatch(/larger than 64 MiB/);
    rmSync(path);
  }, 60_000);
});

describe('odd but readable input', () => {
  // A span's end before its start is a clock or writer fault, not an open span: read as it ended at
  // its start. Before, an approval whose end came before its start kept a completed turn "stuck".
  it('a span that ends before it starts is ended, not open: the completed turn stays healthy', async () => {
    const ns = (ms: number): string => `${BigInt(Date.parse('2026-12-01T10:00:00Z') + ms) * 1_000_000n}`;
    const attrs = (extra: Record<string, string>): object[] =>
      Object.entries({ 'gen_ai.conversation.id': 'th', 'stall_why.turn.id': 'tu', ...extra }).map(([key, v]) => ({ key, value: { stringValue: v } }));
    const span = (id: string, name: string, start: number, end: number, extra: Record<string, string> = {}): object => ({
      traceId: 'a'.repeat(32), spanId: id.padStart(16, '0'), name, startTimeUnixNano: ns(start), endTimeUnixNano: ns(end), attributes: attrs(extra),
    });
    const line = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [
      span('1', 'stall_why.turn', 2_000, 1_999, { 'stall_why.turn.status': 'completed' }),
      span('2', 'stall_why.approval', 1_500, 1_000),
    ] }] }] });
    const path = join(dir, 'end-before-start.otlp.jsonl');
    writeFileSync(path, `${line}\n`);
    const { report } = await analyzeTraces([path], { now: Date.parse('2026-12-01T10:05:00Z') });
    expect(report.turns.map(({ status, verdict }) => ({ status, verdict }))).toEqual([{ status: 'completed', verdict: 'healthy' }]);
  });
});

describe('spans after the judged moment', () => {
  it('are said in a note on their source, not silently left out', async () => {
    const t0 = Date.parse('2026-12-01T10:00:00Z');
    const ns = (ms: number): string => `${BigInt(t0 + ms) * 1_000_000n}`;
    const attrs = [{ key: 'gen_ai.conversation.id', value: { stringValue: 'th' } }, { key: 'stall_why.turn.id', value: { stringValue: 'tu' } }];
    const line = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [
      { traceId: 'b'.repeat(32), spanId: '1'.padStart(16, '0'), name: 'stall_why.turn.accepted', startTimeUnixNano: ns(0), endTimeUnixNano: ns(0), attributes: attrs },
      { traceId: 'b'.repeat(32), spanId: '2'.padStart(16, '0'), name: 'stall_why.tool.call', startTimeUnixNano: ns(300_000), endTimeUnixNano: ns(301_000), attributes: attrs },
    ] }] }] });
    const path = join(dir, 'after-now.otlp.jsonl');
    writeFileSync(path, `${line}\n`);
    const { report } = await analyzeTraces([path], { now: t0 + 10_000 });
    expect(report.sources[0]!.notes?.join('\n')).toMatch(/^1 span of judged turns lies after the judged moment \(2026-12-01T10:00:10\.000Z\): not looked at/m);
  });
});
