/**
 * Grouping: a turn span recorded before the server named the turn. The real Codex app-server
 * (0.169.0, JSON-RPC observer and upstream proxy, e2e recording in fixtures/turn-span-named-late)
 * opened its turn span at the `turn/start` request; the flight recorder flushed the start record
 * before `turn/started` named the turn, so the open turn span on disk has no turn id while its
 * children carry it and point at it by parentSpanId.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifySpans } from '@stall-why/classifier';
import { ATTR_TURN_ID, PHASE_TURN } from '@stall-why/conventions';
import { readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, 'fixtures/turn-span-named-late');
const judged = JSON.parse(readFileSync(join(dir, 'judged.json'), 'utf8')) as { nowMs: number; turns: Array<{ turnId: string }> };

async function records(): Promise<RecordedSpan[]> {
  const spans: RecordedSpan[] = [];
  for await (const r of readFlightRecords(dir)) spans.push(r.span);
  return spans;
}

describe('a turn span without a turn id', () => {
  it('is recorded that way in the fixture (the defect is real)', async () => {
    const turnSpans = (await records()).filter((s) => s.name === PHASE_TURN);
    expect(turnSpans).toHaveLength(1);
    expect(turnSpans[0]!.attributes[ATTR_TURN_ID]).toBeUndefined();
  });

  it.each([
    ['in recording order (the turn span first)', (s: RecordedSpan[]) => s],
    ['children first (as ended spans are exported)', (s: RecordedSpan[]) => [...s].reverse()],
  ])('adopts the turn id its children carry, %s', async (_, order) => {
    const spans = await records();
    const turnSpan = spans.find((s) => s.name === PHASE_TURN)!;
    const report = classifySpans(order(spans), { now: judged.nowMs });
    expect(report.turns).toHaveLength(1);
    const turn = report.turns[0]!;
    expect(turn.turnId).toBe(judged.turns[0]!.turnId);
    expect(turn.startedAt).toBe(new Date(turnSpan.startTimeMs).toISOString());
    expect(turn.evidence.join('\n')).not.toMatch(/turn span itself was not recorded/);
    expect(turn.phases.some((p) => p.name === PHASE_TURN)).toBe(true);
    expect(turn).toMatchObject({ status: 'stuck', verdict: 'backend_stall' });
  });
});
