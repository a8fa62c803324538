import type { StallGate } from './stall-gate.js';

/** What the fake tool returns: a word count, standing in for any local command. */
export interface ToolResult {
  readonly output: string;
  readonly exitCode: number;
}

/**
 * The example's only tool: counts the words of the arguments it was given (the example never
 * touches the file system). With a gate it hangs first, as a command waiting on I/O would.
 */
export async function runFakeTool(argumentsJson: string, hangOn?: StallGate): Promise<ToolResult> {
  if (hangOn) await hangOn.hold();
  let words = 0;
  try {
    words = JSON.stringify(JSON.parse(argumentsJson)).split(/\W+/).filter(Boolean).length;
  } catch {
    return { output: 'invalid arguments', exitCode: 2 };
  }
  return { output: `${words} words`, exitCode: 0 };
}
