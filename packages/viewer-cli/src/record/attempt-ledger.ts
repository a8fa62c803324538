import type { RetryReason } from '@stall-why/conventions';

/** Default number of turns whose requests are remembered for retry detection. */
export const DEFAULT_LEDGER_TURNS = 256;
/** Body fingerprints remembered per turn. */
const FINGERPRINTS_PER_TURN = 64;

interface TurnRequests {
  /** Logical requests of the turn so far (a retry is not a new one). */
  logical: number;
  /** Attempt number of the latest request. */
  attempt: number;
  /** Attempts still in flight. */
  open: number;
  /** How the latest settled attempt failed; undefined when it succeeded. */
  lastFailure?: RetryReason;
  readonly fingerprints: Set<string>;
}

/** Where a new request stands within its turn. */
export interface AttemptPlace {
  /** 1-based attempt number within the logical request: 2 and more are retries. */
  readonly attempt: number;
  /** 1-based number of the logical request within the turn. */
  readonly logicalRequest: number;
  /** For a retry: how the attempt before it failed, when that was seen. */
  readonly previousFailure?: RetryReason;
}

/**
 * Numbers the model requests of each turn. A request is a retry of the one before it when that one
 * failed (broke, errored, answered >= 400), is still in flight (the client gave up on it), or had
 * the very same body; anything else is a new logical request (e.g. the post-tool continuation).
 * Codex 0.169 does not resend the same bytes when it reconnects, so the body alone cannot tell.
 * Only body fingerprints are kept, never bodies, and only for the latest `maxTurns` turns.
 */
export class AttemptLedger {
  private readonly turns = new Map<string, TurnRequests>();

  constructor(private readonly maxTurns = DEFAULT_LEDGER_TURNS) {}

  /** Places a request whose body has been forwarded. Call `settled` when its attempt ends. */
  place(turnKey: string, bodyFingerprint: string): AttemptPlace {
    let turn = this.turns.get(turnKey);
    if (!turn) {
      turn = { logical: 0, attempt: 0, open: 0, fingerprints: new Set() };
      this.turns.set(turnKey, turn);
      if (this.turns.size > this.maxTurns) this.turns.delete(this.turns.keys().next().value as string);
    }
    const retry = turn.logical > 0 && (turn.lastFailure !== undefined || turn.open > 0 || turn.fingerprints.has(bodyFingerprint));
    const previousFailure = retry ? turn.lastFailure : undefined;
    if (retry) {
      turn.attempt++;
    } else {
      turn.attempt = 1;
      turn.logical++;
    }
    turn.open++;
    turn.lastFailure = undefined;
    if (turn.fingerprints.size >= FINGERPRINTS_PER_TURN) turn.fingerprints.clear();
    turn.fingerprints.add(bodyFingerprint);
    return { attempt: turn.attempt, logicalRequest: turn.logical, previousFailure };
  }

  /** An attempt of the turn ended: successfully (`failure` undefined) or not. */
  settled(turnKey: string, failure?: RetryReason): void {
    const turn = this.turns.get(turnKey);
    if (!turn) return;
    turn.open = Math.max(0, turn.open - 1);
    turn.lastFailure = failure;
  }
}
