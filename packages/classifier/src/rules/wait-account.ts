/**
 * Where an ended turn's time went. The turn is cut at every phase boundary into quiet stretches; each
 * stretch is replayed (the scene just before the boundary that ended it) and its time is booked to the
 * wait the rules see then. So any wait the rules know (a person, a tool, a compaction, a history load,
 * retries, a silent request, a lost continuation) can be what dominated the turn, measured the same
 * way. A wait that may be the model at work (`Finding.atWork`) is booked only from stretches that
 * reached `stuckAfterMs`: shorter, it is the turn working, as it is for a live turn.
 */
import { VERDICT_BACKEND_STALL, VERDICT_TRANSPORT_RETRY, VERDICT_UNKNOWN, type Verdict } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { currentChain, failureText } from './request-chain.js';
import { waitFinding } from './wait-finding.js';

/**
 * Most stretches replayed per turn: each replay rebuilds the turn's scene. A turn cut into more (a
 * tool running while thousands of items come and go) has its neighbouring stretches merged into this
 * many windows, each booked to the wait seen at its end.
 */
export const MAX_REPLAYED_STRETCHES = 256;

export interface QuietStretch {
  readonly from: number;
  readonly to: number;
}

/** Time booked to one wait. */
export interface WaitShare {
  readonly verdict: Verdict;
  readonly spentMs: number;
  readonly stretches: number;
  readonly firstMs: number;
  /** The longest stretch booked to it, and what the rules said then. */
  readonly longest: QuietStretch & { readonly finding: Finding };
}

export interface WaitAccount {
  /** Waits by time booked, most first; the model at work and unknown stretches are not waits. */
  readonly waits: readonly WaitShare[];
  readonly totalMs: number;
  /** The longest stretch of the turn, whatever it waited on. */
  readonly longestStretch: QuietStretch;
}

/** The stretches of [start, end] between phase boundaries (and history-load boundaries), in time order. */
export function quietStretches(scene: TurnScene): QuietStretch[] {
  const end = scene.endMs ?? scene.at;
  const marks = [scene.startMs, end];
  for (const p of scene.phases) marks.push(p.start, ...(p.end !== undefined ? [p.end] : []));
  for (const h of scene.hydrations) marks.push(h.start, ...(h.end !== undefined ? [h.end] : []));
  const sorted = [...new Set(marks.filter((m) => m >= scene.startMs && m <= end))].sort((a, b) => a - b);
  const out: QuietStretch[] = [];
  for (let i = 1; i < sorted.length; i++) out.push({ from: sorted[i - 1]!, to: sorted[i]! });
  return out;
}

function mergedStretches(stretches: readonly QuietStretch[]): QuietStretch[] {
  if (stretches.length <= MAX_REPLAYED_STRETCHES) return [...stretches];
  const per = Math.ceil(stretches.length / MAX_REPLAYED_STRETCHES);
  const out: QuietStretch[] = [];
  for (let i = 0; i < stretches.length; i += per) out.push({ from: stretches[i]!.from, to: stretches[Math.min(i + per, stretches.length) - 1]!.to });
  return out;
}

/** The scene just before `at`: phases that ended at `at` are still open in it. */
export const JUST_BEFORE_MS = 0.001;

/** Books the ended turn's stretches to the waits the rules see in them. */
export function accountWaits(scene: TurnScene, sceneAt: (at: number) => TurnScene): WaitAccount {
  const stretches = quietStretches(scene);
  const totalMs = (scene.endMs ?? scene.at) - scene.startMs;
  const longestStretch = stretches.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a), { from: scene.startMs, to: scene.startMs });
  const replayed = mergedStretches(stretches).sort((a, b) => b.to - b.from - (a.to - a.from));
  const booked = new Map<Verdict, { spentMs: number; stretches: number; firstMs: number; longest: WaitShare['longest'] }>();
  for (const stretch of replayed) {
    const length = stretch.to - stretch.from;
    const then = sceneAt(stretch.to - JUST_BEFORE_MS);
    const finding = inHindsight(waitFinding(then), then, scene);
    if (finding.verdict === VERDICT_UNKNOWN) continue;
    if (finding.atWork && length < scene.thresholds.stuckAfterMs) continue;
    const entry = booked.get(finding.verdict);
    if (!entry) {
      booked.set(finding.verdict, { spentMs: length, stretches: 1, firstMs: stretch.from, longest: { ...stretch, finding } });
      continue;
    }
    entry.spentMs += length;
    entry.stretches++;
    entry.firstMs = Math.min(entry.firstMs, stretch.from);
  }
  const waits = [...booked.entries()].map(([verdict, e]) => ({ verdict, ...e })).sort((a, b) => b.spentMs - a.spentMs);
  return { waits, totalMs, longestStretch };
}

/**
 * A silent attempt is a backend stall while it lasts; once the turn has ended, an attempt that
 * went on to fail (an HTTP error after a long wait for headers, a stream that broke) was time spent
 * in a failed attempt: transport_retry, as the verdict is defined.
 */
function inHindsight(finding: Finding, then: TurnScene, whole: TurnScene): Finding {
  if (finding.verdict !== VERDICT_BACKEND_STALL) return finding;
  const open = currentChain(then).open;
  const final = open && whole.attempts.find((a) => a.span === open.span);
  if (!final?.failed) return finding;
  return { verdict: VERDICT_TRANSPORT_RETRY, confidence: finding.confidence, evidence: [failureText(final)], atWork: false };
}
