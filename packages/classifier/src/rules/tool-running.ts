import { VERDICT_TOOL_RUNNING } from '@stall-why/conventions';
import type { ToolView, TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { TOOL_WORK, LazyFinding } from './lazy-finding.js';
import { openText, outcomeText, toolText } from './phase-text.js';

/** tool_running: a tool call started and has not returned. */
export function toolRunning(scene: TurnScene): Finding | undefined {
  // A call handed back to the model (its process runs on in the background) is not what the turn waits on.
  let last: ToolView | undefined;
  let openCount = 0;
  for (const t of scene.tools) {
    if (t.end !== undefined || t.background) continue;
    last = t;
    openCount++;
  }
  if (!last) return undefined;
  const tool = last;
  const evidence = (): string[] => {
    // Replayed in an ended turn, the result came later, or the call was still open when the turn
    // ended (a rollout closes its open calls at the turn's end): say which.
    const came = outcomeText(tool, scene, ', no result', 'its result came at');
    const lines = [tool.hook ? `hook ${toolText(tool)} ${openText(tool, scene)}, not finished: the turn waits for it` : `tool call ${toolText(tool)} ${openText(tool, scene)}${came}`];
    if (openCount > 1) lines.push(`${openCount} tool calls are open`);
    if (tool.approvalRuledOut) lines.push('its turn\'s approval policy asks no person (never): it does not wait for an approval');
    else if (!scene.seesApprovals) lines.push('the source does not record approval requests: the tool may be waiting for one');
    return lines;
  };
  // A source blind to approval requests leaves the doubt, unless the policy rules an approval out.
  return new LazyFinding(VERDICT_TOOL_RUNNING, !scene.seesApprovals && !tool.approvalRuledOut ? 0.75 : 0.9, evidence, TOOL_WORK);
}
