/**
 * The `--json` report's documented shape (docs/cli.md, issue 4), as a checker: returns what does
 * not match, empty when all does.
 */
import { TURN_STATES, VERDICTS } from '@stall-why/conventions';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function reportShapeProblems(report: unknown): string[] {
  const problems: string[] = [];
  const r = report as { judgedAt?: unknown; turns?: unknown; sources?: unknown };
  if (typeof r?.judgedAt !== 'string' || !ISO.test(r.judgedAt)) problems.push('judgedAt is not ISO-8601');
  if (!Array.isArray(r?.turns)) return [...problems, 'turns is not an array'];
  if (!Array.isArray(r?.sources)) problems.push('sources is not an array');
  const verdicts = new Set<unknown>(VERDICTS.map((v) => v.id));
  const states = new Set<unknown>(TURN_STATES);
  r.turns.forEach((t: Record<string, unknown>, i: number) => {
    const at = `turns[${i}]`;
    for (const key of ['threadId', 'turnId']) if (t[key] !== null && typeof t[key] !== 'string') problems.push(`${at}.${key} is not string|null`);
    if (!states.has(t.status)) problems.push(`${at}.status ${String(t.status)}`);
    if (!verdicts.has(t.verdict)) problems.push(`${at}.verdict ${String(t.verdict)}`);
    if (typeof t.confidence !== 'number' || t.confidence < 0 || t.confidence > 1) problems.push(`${at}.confidence`);
    for (const key of ['startedAt', 'lastActivityAt']) if (typeof t[key] !== 'string' || !ISO.test(t[key] as string)) problems.push(`${at}.${key} is not ISO-8601`);
    if (t.stuckForMs !== null && typeof t.stuckForMs !== 'number') problems.push(`${at}.stuckForMs is not number|null`);
    if (!Array.isArray(t.evidence) || t.evidence.some((e) => typeof e !== 'string')) problems.push(`${at}.evidence is not [string]`);
    if (typeof t.nextStep !== 'string' || t.nextStep === '') problems.push(`${at}.nextStep missing`);
  });
  return problems;
}
