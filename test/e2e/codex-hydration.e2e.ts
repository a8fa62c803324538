import { VERDICT_HYDRATION } from '@stall-why/conventions';
import { afterAll, describe, expect, it } from 'vitest';
import { bloatRollout } from './bloated-rollout.js';
import { CodexUnderRecord, judge, type JudgedTurn } from './codex-under-record.js';
import { FakeResponsesApi, textReply } from './fake-responses-api.js';

// thread/resume of a thread whose rollout grew to hundreds of MB (tool output, inline images):
// Codex reads all of it before it answers, seconds during which the UI shows nothing.

const ROLLOUT_MB = 300;
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('stall-why on the real Codex app-server: hydration', () => {
  it('thread/resume of a bloated thread is named hydration while it loads', async () => {
    const api = new FakeResponsesApi(textReply('ok'));
    const origin = await api.listen();
    cleanups.push(() => api.close());

    const first = new CodexUnderRecord({ apiOrigin: origin });
    cleanups.push(() => first.cleanup());
    await first.start();
    const threadId = await first.startThread();
    const turnId = await first.startTurn(threadId, 'hello');
    await first.waitForNotification('turn/completed', (p) => p.turn.id === turnId);
    await first.stop();

    const rollout = bloatRollout(first.codexHome, threadId, ROLLOUT_MB);
    expect(rollout.bytes).toBeGreaterThan(200 * 1024 * 1024);

    const second = new CodexUnderRecord({ apiOrigin: origin, codexHome: first.codexHome });
    cleanups.push(async () => {
      await second.stop();
      second.cleanup();
    });
    await second.start();
    // The recording is judged readable before the resume is sent: a resume of 300 MB from the page
    // cache answers in about 1.2 s, and the recorder's first segment plus a judgement took about as long.
    await judgeWhenReadable(second.outDir);
    let resumed = false;
    const resumeSentAt = Date.now();
    const resumeId = second.fire('thread/resume', { threadId });
    let resumeMs = 0;
    const answered = second.waitFor((m) => m.id === resumeId && m.method === undefined, 'thread/resume answer', 120_000).then(() => {
      resumed = true;
      resumeMs = Date.now() - resumeSentAt;
    });

    let seenWhileLoading: JudgedTurn | undefined;
    let last = '';
    let judgedAfterMs = 0;
    while (!resumed) {
      let report: Awaited<ReturnType<typeof judge>>;
      try {
        report = await judge(second.outDir);
      } catch (error) {
        // The recorder writes its first segment within a second; until then there is nothing to judge.
        last = String(error);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      last = report.raw;
      seenWhileLoading = report.turns.find((t) => t.threadId === threadId && t.verdict === VERDICT_HYDRATION);
      judgedAfterMs = Date.now() - resumeSentAt;
      if (seenWhileLoading || resumed) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(resumed, `the resume answered after ${Date.now() - resumeSentAt} ms, before stall-why could judge it; make the rollout larger`).toBe(false);
    expect(seenWhileLoading, last.slice(0, 4000)).toBeDefined();
    expect(seenWhileLoading?.turnId ?? null).toBeNull();
    await answered;
    console.info(`hydration: ${(rollout.bytes / 1048576).toFixed(0)} MB rollout, judged after ${judgedAfterMs} ms, resume answered after ${resumeMs} ms`);
  });
});

async function judgeWhenReadable(dir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await judge(dir);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
