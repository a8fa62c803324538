import { VERDICT_TOOL_RUNNING } from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { clockTime } from '../time-text.js';
import { openText, toolText } from './phase-text.js';

/** tool_running: a tool call started and has not returned. */
export function toolRunning(scene: TurnScene): Finding | undefined {
  // A call handed back to the model (its process runs on in the background) is not what the turn waits on.
  const open = scene.tools.filter((t) => t.end === undefined && !t.background);
  const tool = open[open.length - 1];
  if (!tool) return undefined;
  // Replayed in an ended turn, the result came later (or the turn ended first): say which.
  const came = scene.replay && tool.span.endTimeMs !== undefined ? `; its result came at ${clockTime(tool.span.endTimeMs)}` : ', no result';
  const evidence = [tool.hook ? `hook ${toolText(tool)} ${openText(tool, scene)}, not finished: the turn waits for it` : `tool call ${toolText(tool)} ${openText(tool, scene)}${came}`];
  if (open.length > 1) evidence.push(`${open.length} tool calls are open`);
  if (!scene.seesApprovals) evidence.push('the source does not record approval requests: the tool may be waiting for one');
  return { verdict: VERDICT_TOOL_RUNNING, confidence: !scene.seesApprovals ? 0.75 : 0.9, evidence, toolWork: true };
}
