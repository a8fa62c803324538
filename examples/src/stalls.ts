/** The switches of the example app-server: one healthy run or one kind of stall each. */
export const STALLS = Object.freeze({
  none: 'Healthy: history, one model request, an answer.',
  'healthy-tool': 'Healthy with everything: compaction, a tool call approved by the client, the post-tool continuation.',
  'backend-silent': 'The model upstream sends response headers, then nothing for stallMs.',
  'backend-silent-before-headers': 'The model upstream accepts the request and sends nothing, not even headers, for stallMs.',
  'dropped-connections': 'The upstream drops the connection before headers once and mid-stream twice; the app retries with backoff.',
  'slow-compaction': 'Context compaction takes stallMs.',
  'slow-history-load': "Loading the thread's history (hydration) takes stallMs.",
  'client-gone': 'The client disconnects after the first delta; the backend goes on for stallMs and finishes the turn.',
  'tool-no-continuation': 'The tool returns and the continuation request is never sent; the app gives up after stallMs.',
  'unanswered-approval': 'The tool needs approval and the client never answers; the app gives up after stallMs.',
  'tool-running': 'The tool hangs for stallMs, then returns and the turn continues.',
} as const);

export type StallName = keyof typeof STALLS;

export const STALL_NAMES = Object.freeze(Object.keys(STALLS) as StallName[]);

export function isStallName(value: string): value is StallName {
  return Object.hasOwn(STALLS, value);
}

/** What the example does in a scenario: derived from the switch in one place so server and client agree. */
export interface ScenarioShape {
  /** The first model reply asks for a tool. */
  readonly tool: boolean;
  /** The tool needs a person's approval first. */
  readonly approval: boolean;
  /** The turn compacts the context before its model request. */
  readonly compaction: boolean;
  /** The example client drops its connection after the first delta. */
  readonly clientLeaves: boolean;
  /** The example client answers approval requests. */
  readonly clientAnswersApprovals: boolean;
}

export function scenarioShape(stall: StallName): ScenarioShape {
  const tool = ['healthy-tool', 'tool-no-continuation', 'unanswered-approval', 'tool-running'].includes(stall);
  return {
    tool,
    approval: stall === 'healthy-tool' || stall === 'unanswered-approval',
    compaction: stall === 'healthy-tool' || stall === 'slow-compaction',
    clientLeaves: stall === 'client-gone',
    clientAnswersApprovals: stall !== 'unanswered-approval',
  };
}
