import { startExampleAppServer, type ExampleAppServer, type ExampleAppServerOptions } from './example-app-server.js';
import { runExampleTurn, type ExampleTurnResult } from './example-client.js';
import { scenarioShape, type StallName } from './stalls.js';

export interface StallScenarioOptions extends ExampleAppServerOptions {
  readonly stall: StallName;
  /** Default `thread-1`. */
  readonly threadId?: string;
  /** Default: chosen by the server. */
  readonly turnId?: string;
  /** Called once when the scenario reaches its stall, with the server (e.g. to snapshot open spans, then `releaseStall()`). */
  readonly onStallReached?: (server: ExampleAppServer) => void | Promise<void>;
}

/**
 * Runs one stall end to end: starts the example app-server, drives one turn with the client
 * behaviour the stall needs (leaving early, ignoring approvals), waits until the backend is idle
 * (it may outlive its client), and closes everything (flushing a provider made from `spanProcessors`).
 */
export async function runStallScenario(options: StallScenarioOptions): Promise<ExampleTurnResult> {
  const server = await startExampleAppServer(options);
  try {
    const shape = scenarioShape(options.stall);
    let onStall: Promise<void> = Promise.resolve();
    if (options.onStallReached) {
      const callback = options.onStallReached;
      onStall = Promise.race([server.stallReached.then(() => callback(server)), server.idle().then(() => undefined)]);
    }
    const result = await runExampleTurn(server.url, {
      threadId: options.threadId,
      turnId: options.turnId,
      approvals: shape.clientAnswersApprovals ? 'approve' : 'ignore',
      leaveAfterFirstDelta: shape.clientLeaves,
    });
    await server.idle();
    await onStall;
    return result;
  } finally {
    await server.close();
  }
}
