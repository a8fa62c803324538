/**
 * A turn waiting for its sub-agents (`TurnReport.waitingOnSubAgents`: Codex's `wait_agent` open) is
 * told what they are doing. A sub-agent writes a rollout of its own whose turns name the thread that
 * spawned it (`parentThreadId`); given with the parent's (a sessions directory), each of its threads
 * is named in the parent's evidence with its latest turn: the parent waits on a tool, and the tool
 * waits on them. Verdicts are left as judged.
 */
import type { TurnReport } from './report.js';
import { clockTime, duration } from './time-text.js';

/** The reports, the turns waiting for sub-agents with a line per sub-agent thread after their first. */
export function withSubAgents(turns: TurnReport[]): TurnReport[] {
  if (!turns.some((t) => t.waitingOnSubAgents)) return turns;
  // Parent thread → sub-agent thread → its latest turn.
  const latest = new Map<string, Map<string, TurnReport>>();
  for (const t of turns) {
    if (t.parentThreadId === undefined || t.threadId === null) continue;
    let children = latest.get(t.parentThreadId);
    if (!children) latest.set(t.parentThreadId, (children = new Map()));
    const known = children.get(t.threadId);
    if (!known || known.startedAt < t.startedAt) children.set(t.threadId, t);
  }
  return turns.map((t) => {
    if (!t.waitingOnSubAgents || t.threadId === null) return t;
    const [first, ...rest] = t.evidence;
    return { ...t, evidence: [...(first === undefined ? [] : [first]), ...subAgentLines(latest.get(t.threadId)), ...rest] };
  });
}

function subAgentLines(children: ReadonlyMap<string, TurnReport> | undefined): string[] {
  if (!children || children.size === 0) {
    return ["its sub-agents' own rollouts are not among the inputs: give them too (the sessions directory) to see what they wait on"];
  }
  return [...children.values()].map((c) => `sub-agent ${c.agentName ?? c.threadId} (thread ${c.threadId}): ${stateOf(c)}`);
}

function stateOf(c: TurnReport): string {
  if (c.endedAt !== null) return `its latest turn ${c.status} at ${clockTime(Date.parse(c.endedAt))}`;
  const quiet = c.stuckForMs !== null && c.stuckForMs > 0 ? ` ${duration(c.stuckForMs)}` : '';
  return `${c.status}${quiet}, ${c.verdict} (${c.confidence})${c.evidence[0] ? `: ${c.evidence[0]}` : ''}`;
}
