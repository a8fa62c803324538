// Drift check: records every fixture scenario again with the real Codex binary (offline, against a
// fake Responses API on loopback) and checks that the observer turns the fresh sessions into the
// same phases as the committed fixtures. When Codex is upgraded, this says whether the fixtures
// (and the observer's mapping) still describe what the binary does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CodexJsonRpcObserver, observeTranscriptLine, TurnTracer } from '@stall-why/instrument';
import { CODEX } from '../../../test/codex-binary.mjs';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'jsonrpc');
const RECORDER = join(FIXTURES, 'record-fixtures.mjs');
const SCENARIOS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.app-server-transcript.jsonl'))
  .map((f) => f.replace('.app-server-transcript.jsonl', ''))
  .filter((name) => !['healthy_tool', 'interrupt'].includes(name)); // the shared samples were recorded elsewhere

/** Attributes that say what happened, not which ids or when. */
const STABLE_KEYS = [
  'stall_why.item.type', 'stall_why.item.status', 'stall_why.turn.status', 'stall_why.turn.kind', 'stall_why.approval.kind',
  'stall_why.approval.decision', 'stall_why.cancel.result', 'stall_why.retry.reason', 'stall_why.retry.attempt', 'stall_why.retry.max',
  'stall_why.hydration.trigger', 'stall_why.hydration.items', 'gen_ai.tool.name', 'stall_why.tool.kind', 'stall_why.tool.exit_code', 'error.type',
];

/** The phases a transcript gives, as sorted `name < parent {stable attributes} open|ended` rows. */
function phases(file: string): string[] {
  const started: ReadableSpan[] = [];
  const record: SpanProcessor = {
    onStart: (span) => { started.push(span as unknown as ReadableSpan); },
    onEnd: () => {}, forceFlush: async () => {}, shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [record] });
  const observer = new CodexJsonRpcObserver({ turnTracer: new TurnTracer({ tracer: provider.getTracer('drift') }) });
  for (const line of readFileSync(file, 'utf8').split('\n')) observeTranscriptLine(observer, line);
  expect(observer.stats.malformed).toBe(0);
  expect(observer.stats.unknownMethods).toBe(0);
  return started.map((span) => {
    const parent = started.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
    const attributes = Object.fromEntries(STABLE_KEYS.filter((k) => span.attributes[k] !== undefined).map((k) => [k, span.attributes[k]]));
    return `${span.name} < ${parent?.name ?? '-'} ${JSON.stringify(attributes)} ${span.ended ? 'ended' : 'open'}`;
  }).sort();
}

describe.skipIf(!existsSync(CODEX))('recorded JSON-RPC fixtures against the real Codex binary', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'stall-why-jsonrpc-drift-'));
    const run = spawnSync(process.execPath, [RECORDER, '--out', out, ...SCENARIOS], { encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
  }, 250_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(SCENARIOS)('%s: a fresh recording gives the same phases as the fixture', (name) => {
    const fresh = phases(join(out, `${name}.app-server-transcript.jsonl`));
    expect(fresh.length).toBeGreaterThan(3);
    expect(fresh).toEqual(phases(join(FIXTURES, `${name}.app-server-transcript.jsonl`)));
  });
});
