import type { RetryReason } from '@stall-why/conventions';

/** Default number of turns whose requests are remembered for retry detection. */
export const DEFAULT_LEDGER_TURNS = 256;

interface TurnRequests {
  /** Logical requests of the turn so far (a retry is not a new one). */
  logical: number;
  /** Attempts made per request body fingerprint, and why the last one failed. */
  byBody: Map<string, BodyAttempts>;
}

interface BodyAttempts {
  attempts: number;
  lastFailure?: RetryReason;
}

/** Where a new request stands within its turn. */
export interface AttemptPlace {
  /** 1-based attempt number of this body within the turn: 2 and more are retries. */
  readonly attempt: number;
  /** 1-based number of the logical request within the turn. */
  readonly logicalRequest: number;
  /** For a retry: how the previous attempt of the same body failed, if it was seen failing. */
  readonly previousFailure?: RetryReason;
}

/**
 * Numbers the model requests of each turn: a body sent again for the same turn (same fingerprint)
 * is a retry of the earlier request, anything else is a new logical request. Only fingerprints are
 * kept, never bodies, and only for the most recent `maxTurns` turns.
 */
export class AttemptLedger {
  private readonly turns = new Map<string, TurnRequests>();

  constructor(private readonly maxTurns = DEFAULT_LEDGER_TURNS) {}

  place(turnKey: string, bodyFingerprint: string): AttemptPlace {
    let turn = this.turns.get(turnKey);
    if (!turn) {
      turn = { logical: 0, byBody: new Map() };
      this.turns.set(turnKey, turn);
      if (this.turns.size > this.maxTurns) this.turns.delete(this.turns.keys().next().value as string);
    }
    let body = turn.byBody.get(bodyFingerprint);
    if (!body) {
      body = { attempts: 0 };
      turn.byBody.set(bodyFingerprint, body);
      turn.logical++;
    }
    const previousFailure = body.lastFailure;
    body.attempts++;
    body.lastFailure = undefined;
    return { attempt: body.attempts, logicalRequest: turn.logical, previousFailure };
  }

  /** Notes how an attempt failed, so that its retry can say why it happened. */
  failed(turnKey: string, bodyFingerprint: string, reason: RetryReason): void {
    const body = this.turns.get(turnKey)?.byBody.get(bodyFingerprint);
    if (body) body.lastFailure = reason;
  }
}
