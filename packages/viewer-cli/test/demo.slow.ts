/**
 * `npm run demo` end to end: every switch of the example app-server, recorded by the flight
 * recorder and judged by the built `stall-why` while the stall is on, must get the injected
 * verdict; the merged Chrome trace must keep the format's rules and be read by the DevTools engine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { STALL_NAMES } from '@stall-why/examples';
import { consumeTrace } from './trace-engine-consumer.js';
import { traceEventRuleViolations } from './trace-event-rules.js';

const DEMO = fileURLToPath(new URL('../../../examples/dist/demo.js', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'stall-why-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('prints the injected verdict for every stall and writes a Chrome trace that opens', async () => {
  const r = spawnSync(process.execPath, [DEMO, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const verdictLines = r.stdout.split('\n').filter((l) => STALL_NAMES.includes(l.split(/ +/)[1] as never));
  expect(verdictLines).toHaveLength(STALL_NAMES.length);
  expect(verdictLines.filter((l) => !l.startsWith('matched '))).toEqual([]);
  // ✔ is the CLI's mark for a healthy turn: the demo's lines say "matched the injected stall" in words.
  expect(verdictLines.filter((l) => /[✔✖]/.test(l))).toEqual([]);
  expect(r.stdout).toMatch(/^matched backend-silent +stuck +backend_stall$/m);
  expect(r.stdout).toMatch(/^matched tool-no-continuation +stuck +post_tool_continuation_lost$/m);
  expect(r.stdout).toContain(`Every verdict is the injected one (${STALL_NAMES.length}/${STALL_NAMES.length}).`);
  expect(r.stdout).toMatch(/✖ STUCK [\d.]+s {2}backend_stall/);

  const trace = JSON.parse(readFileSync(join(out, 'demo.trace.json'), 'utf8'));
  expect(traceEventRuleViolations(trace, 1e15)).toEqual([]);
  const consumed = await consumeTrace(trace.traceEvents);
  const processes = [...consumed.processNames.values()];
  for (const stall of STALL_NAMES) expect(processes.some((p) => p.startsWith(`${stall}: `))).toBe(true);
  const tracks = [...consumed.threadNames.values()].flatMap((m) => [...m.values()]);
  expect(tracks.some((t) => t.endsWith('· stuck · awaiting_approval'))).toBe(true);
});
