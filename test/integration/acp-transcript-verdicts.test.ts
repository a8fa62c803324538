/**
 * Verdicts on the real ACP transcripts (test/corpus/acp: codex-acp 0.16.0, claude-agent-acp 0.23.1,
 * gemini-cli 0.61.0 --acp, each against a fake model API): each transcript through the ACP observer
 * into a flight recorder, the way `stall-why record` writes it, then judged a minute after its last
 * line. Labels from reading the transcripts: every prompt was answered `end_turn` within 4 s with a
 * message (gemini-edit's file write failed on the client's fs error and the model answered after it),
 * so every turn is completed and healthy, and no quirk line is said.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { analyzeTraces } from '@stall-why/classifier';
import { AcpObserver, FlightRecorderProcessor, observeTranscriptLine, TurnTracer } from '@stall-why/instrument';
import { afterAll, describe, expect, it } from 'vitest';

const CORPUS = join(import.meta.dirname, '..', 'corpus', 'acp');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function recordTranscript(name: string): Promise<{ dir: string; lastMs: number; prompts: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'stall-why-acp-verdicts-'));
  dirs.push(dir);
  const recorder = new FlightRecorderProcessor({ directory: dir, maxBytes: 1 << 20 });
  const observer = new AcpObserver({ turnTracer: new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('acp') }) });
  let lastMs = 0;
  let prompts = 0;
  for (const line of readFileSync(join(CORPUS, name), 'utf8').split('\n')) {
    if (!line) continue;
    const entry = JSON.parse(line) as { t: number; msg: { method?: string } };
    lastMs = entry.t;
    if (entry.msg.method === 'session/prompt') prompts++;
    expect(observeTranscriptLine(observer, line)).toBe(true);
  }
  await recorder.shutdown();
  return { dir, lastMs, prompts };
}

describe('verdicts on real ACP transcripts', () => {
  const transcripts = readdirSync(CORPUS).filter((f) => f.endsWith('.jsonl')).sort();

  it('the corpus holds the nine transcripts of three agents', () => {
    expect(transcripts).toHaveLength(9);
  });

  for (const name of transcripts) {
    it(`${name}: every prompt completed and healthy`, async () => {
      const { dir, lastMs, prompts } = await recordTranscript(name);
      const { report } = await analyzeTraces([dir], { now: lastMs + 60_000 });
      const turns = report.turns.filter((t) => t.turnId !== null);
      expect(turns).toHaveLength(prompts);
      for (const turn of turns) {
        expect(turn, turn.evidence.join('\n')).toMatchObject({ status: 'completed', verdict: 'healthy' });
        expect(turn.evidence.join('\n')).not.toMatch(/with nothing|ACP transcript alone/);
      }
    });
  }
});
