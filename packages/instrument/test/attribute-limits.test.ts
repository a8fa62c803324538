import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PHASE_TOOL_CALL } from '@stall-why/conventions';
import { DEFAULT_ATTRIBUTE_LIMITS, TurnTracer, isSecretName, limitAttributes, limitString } from '@stall-why/instrument';
import { captureSpans } from './span-capture.js';

const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

describe('bounded attribute values', () => {
  it('caps long strings at 1 KiB by default and names the full length', () => {
    expect(DEFAULT_ATTRIBUTE_LIMITS.maxValueLength).toBe(1024);
    const long = 'word '.repeat(1000);
    const capped = limitString(long);
    expect(capped.startsWith(long.slice(0, 1024))).toBe(true);
    expect(capped.slice(1024)).toBe('…[truncated len=5000]');
    expect(limitString('short')).toBe('short');
  });

  it('takes a configured cap through the TurnTracer and applies it to every phase', () => {
    const capture = captureSpans();
    const turns = new TurnTracer({ tracer: capture.provider.getTracer('t'), limits: { maxValueLength: 16 } });
    const turn = turns.startTurn({ turnId: 'a-turn-id-longer-than-sixteen' });
    turn.startPhase(PHASE_TOOL_CALL, { attributes: { 'gen_ai.tool.name': 'x'.repeat(40) } }).end();
    const tool = capture.one(PHASE_TOOL_CALL);
    expect(tool.attributes['gen_ai.tool.name']).toBe(`${'x'.repeat(16)}…[truncated len=40]`);
    expect(tool.attributes['stall_why.turn.id']).toBe('a-turn-id-longer…[truncated len=29]');
  });

  it('replaces data: URIs and base64 blobs with a placeholder of length and hash', () => {
    const image = `data:image/png;base64,${Buffer.alloc(3000, 7).toString('base64')}`;
    expect(limitString(image)).toBe(`[data:image/png;base64 len=${image.length} sha256=${sha16(image)}]`);
    const blob = Buffer.alloc(600, 1).toString('base64');
    expect(limitString(blob)).toBe(`[base64 len=${blob.length} sha256=${sha16(blob)}]`);
    // A short base64-looking word is an ordinary value, not a blob.
    expect(limitString('abcDEF123')).toBe('abcDEF123');
    const out = limitAttributes({ images: [image, 'ok'] });
    expect(out.images).toEqual([`[data:image/png;base64 len=${image.length} sha256=${sha16(image)}]`, 'ok']);
  });

  it('never records credentials, whatever the limits', () => {
    const secrets = {
      'http.request.header.authorization': 'Bearer sk-live-123',
      Authorization: 'Bearer sk-live-123',
      cookie: 'session=1',
      'http.response.header.set-cookie': 'session=1',
      'x-api-key': 'k',
      'openai-api-key': 'k',
      api_key: 'k',
      'http.request.header.proxy-authorization': 'Basic x',
    };
    const out = limitAttributes({ ...secrets, 'http.request.method': 'POST' }, { ...DEFAULT_ATTRIBUTE_LIMITS, maxValueLength: 1 << 20 });
    expect(out).toEqual({ 'http.request.method': 'POST' });
    for (const name of Object.keys(secrets)) expect(isSecretName(name), name).toBe(true);
    expect(isSecretName('http.request.method')).toBe(false);
    const capture = captureSpans();
    new TurnTracer({ tracer: capture.provider.getTracer('t') }).startTurn({ attributes: secrets }).endTurn('completed');
    const attributes = capture.finished()[0].attributes;
    expect(JSON.stringify(attributes)).not.toContain('sk-live');
    expect(JSON.stringify(attributes)).not.toContain('session=1');
  });

  it('caps arrays at 64 items by default and drops null and undefined', () => {
    const out = limitAttributes({ many: Array.from({ length: 100 }, (_, i) => i), none: undefined, nil: null });
    expect((out.many as number[]).length).toBe(64);
    expect(Object.keys(out)).toEqual(['many']);
  });
});
