import { APPROVAL_DECISION_APPROVED, APPROVAL_DECISION_DENIED } from '@stall-why/conventions';

/** A decision a client can send for an approval. */
export type ClientDecision = typeof APPROVAL_DECISION_APPROVED | typeof APPROVAL_DECISION_DENIED;

/** Open approval requests of the example app-server, answered by `POST /approvals/:id`. */
export class ApprovalDesk {
  private readonly open = new Map<string, (decision: ClientDecision) => void>();
  private next = 0;

  /** Opens a request; the promise settles with the client's decision. */
  request(): { id: string; decision: Promise<ClientDecision> } {
    const id = `approval-${++this.next}`;
    const decision = new Promise<ClientDecision>((resolve) => this.open.set(id, resolve));
    return { id, decision };
  }

  /** Answers a request; false when there is no such open request. */
  answer(id: string, decision: ClientDecision): boolean {
    const resolve = this.open.get(id);
    if (!resolve) return false;
    this.open.delete(id);
    resolve(decision);
    return true;
  }

  /** Forgets a request that was given up. */
  withdraw(id: string): void {
    this.open.delete(id);
  }
}
