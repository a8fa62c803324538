import type { PhaseView, TurnScene } from '../model/turn-scene.js';

/** Time covered by the phases within [from, to], overlaps counted once. */
export function overlapMs(phases: readonly PhaseView[], from: number, to: number): number {
  const ranges = phases
    .map((p) => [Math.max(from, p.start), Math.min(to, p.end ?? to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cursor = from;
  for (const [a, b] of ranges) {
    const start = Math.max(a, cursor);
    if (b > start) total += b - start;
    cursor = Math.max(cursor, b);
  }
  return total;
}

/** Whether `spentMs` dominated the turn: at least `slowPhaseMs` and `dominantShare` of its duration. */
export function dominates(scene: TurnScene, spentMs: number): boolean {
  const total = (scene.endMs ?? scene.at) - scene.startMs;
  const { slowPhaseMs, dominantShare } = scene.thresholds;
  return spentMs > 0 && spentMs >= slowPhaseMs && spentMs >= dominantShare * total;
}
