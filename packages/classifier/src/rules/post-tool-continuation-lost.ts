import { ATTR_ITEM_ID, VERDICT_POST_TOOL_CONTINUATION_LOST } from '@stall-why/conventions';
import type { PhaseView, ToolView, TurnScene } from '../model/turn-scene.js';
import type { Finding } from './finding.js';
import { LazyFinding } from './lazy-finding.js';
import { agoText, sinceText, toolText } from './phase-text.js';

/**
 * post_tool_continuation_lost: every tool call returned, and after the last result no continuation
 * request, upstream attempt, model output or compaction followed. A source that cannot see model
 * requests (a rollout, an app-server observer without the upstream proxy) keeps the verdict and
 * says what it could not see.
 */
/**
 * The call's own item (the model's request for the tool, which is model output) is no continuation:
 * a command that runs within the clock's millisecond starts its item at the moment it returns.
 */
const isCallItself = (o: PhaseView, call: ToolView): boolean =>
  o.span === call.span || (call.callId !== undefined && o.span.attributes[ATTR_ITEM_ID] === call.callId);

export function postToolContinuationLost(scene: TurnScene): Finding | undefined {
  if (scene.tools.some((t) => t.end === undefined && !t.background)) return undefined;
  // A hook's end hands nothing back to the model: only tool results call for a continuation (a call
  // running on in the background was handed back, and the model went on).
  const results = scene.tools.filter((t) => !t.hook && !t.background);
  if (results.length === 0) return undefined;
  const last = results.reduce((a, b) => ((b.end ?? 0) > (a.end ?? 0) ? b : a));
  const returned = last.end!;
  const followed =
    scene.continuations.some((c) => c.start >= returned) ||
    scene.attempts.some((a) => a.start >= returned || a.end === undefined) ||
    scene.outputs.some((o) => o.start >= returned && !isCallItself(o, last)) ||
    scene.compactions.some((c) => c.start >= returned);
  if (followed) return undefined;
  const evidence = (): string[] => {
    const lines = [
      `tool call ${toolText(last)} returned its result ${agoText(returned, scene)}; no continuation request, upstream attempt or model output ${scene.replay ? sinceText(returned, scene) : 'since'}`,
    ];
    if (scene.rolloutOnly) {
      lines.push('a rollout does not record model requests: whether the continuation was requested cannot be seen (a silent continuation would look the same)');
    } else if (!scene.seesUpstream) {
      lines.push('no upstream attempt spans: whether the continuation was requested cannot be seen (a silent continuation would look the same)');
    }
    return lines;
  };
  const confidence = scene.rolloutOnly || !scene.seesUpstream ? 0.6 : 0.85;
  // Seen from the upstream side, a continuation not sent is a stall at once (it follows the result
  // within milliseconds); from a source blind to requests, the gap may be the model thinking.
  return new LazyFinding(VERDICT_POST_TOOL_CONTINUATION_LOST, confidence, evidence, { atWork: !scene.seesUpstream });
}
