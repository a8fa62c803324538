import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTR_TURN_STATUS, PHASE_COMPACTION, PHASE_TOOL_CALL, PHASE_TURN } from '@stall-why/conventions';
import { readFlightRecords, type FlightRecord } from '@stall-why/flight-record';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'app-server.js');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface OtlpSpan { name: string; attributes: Array<{ key: string; value: { stringValue?: string } }> }
interface OtlpRequest { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }

describe('node examples/dist/app-server.js', () => {
  it('writes the run as OTLP JSON lines and says where on stderr', async () => {
    const file = join(dir, 'slow-compaction.jsonl');
    const { stdout, stderr } = await run(process.execPath, [CLI, '--stall', 'slow-compaction', '--stall-ms', '50', '--otlp-file', file]);
    expect(stdout).toBe('');
    expect(stderr).toContain(`spans go to: OTLP JSON lines in ${file}`);
    expect(stderr).toMatch(/turn turn-\S+: completed for the client/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const spans = lines.flatMap((line) => (JSON.parse(line) as OtlpRequest).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    expect(spans.filter((s) => s.name === PHASE_COMPACTION)).toHaveLength(1);
    const turn = spans.find((s) => s.name === PHASE_TURN)!;
    expect(turn.attributes.find((a) => a.key === ATTR_TURN_STATUS)?.value.stringValue).toBe('completed');
  });

  it('records the open spans of a stalled run with --record, readable while the process still hangs', async () => {
    const recording = join(dir, 'tool-running');
    const child = spawn(process.execPath, [CLI, '--stall', 'tool-running', '--stall-ms', '60000', '--record', recording], { stdio: 'ignore' });
    try {
      let records: FlightRecord[] = [];
      const deadline = Date.now() + 15_000;
      // The recorder writes at least once a second; poll until the hanging tool's start is on disk.
      while (!records.some((r) => r.type === 'start' && r.span.name === PHASE_TOOL_CALL)) {
        if (Date.now() > deadline) throw new Error('no tool.call start recorded');
        await new Promise((r) => setTimeout(r, 200));
        records = [];
        try {
          for await (const record of readFlightRecords(recording)) records.push(record);
        } catch {
          // The directory appears with the first write.
        }
      }
      const ended = new Set(records.filter((r) => r.type === 'end').map((r) => r.span.name));
      expect(ended.has(PHASE_TOOL_CALL)).toBe(false);
      expect(ended.has(PHASE_TURN)).toBe(false);
      expect(records.some((r) => r.type === 'start' && r.span.name === PHASE_TURN)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses an unknown stall with one line and exit code 2', async () => {
    const failure = await run(process.execPath, [CLI, '--stall', 'sideways']).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).toBe(2);
    expect(failure?.stderr.split('\n')[0]).toBe('app-server: unknown stall "sideways"');
    expect(failure?.stderr).not.toContain('    at ');
  });
});
