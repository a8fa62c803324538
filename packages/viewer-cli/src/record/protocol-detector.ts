import { ACP_CLIENT_REQUEST_METHODS, type JsonRpcDirection, type TurnHandle } from '@stall-why/instrument';
import type { RecordProtocol } from './record-protocol.js';

export { RECORD_PROTOCOLS, type RecordProtocol } from './record-protocol.js';

/** What record needs of an observer, whichever protocol it follows. */
export interface RecordObserver {
  observeLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs?: number): void;
  noteMalformed(): void;
  rendererDetached(timeMs?: number, reason?: string): void;
  activeTurns(): ReadonlyArray<{ readonly threadId: string; readonly turnId: string; readonly turn: TurnHandle; readonly lastToolCompletedAtMs?: number }>;
}

/** Lines held while the protocol is not known yet; past it the Codex app-server is assumed. */
const MAX_HELD_LINES = 64;
const JSONRPC_MARK = Buffer.from('"jsonrpc"');

/**
 * The protocol of a client's message line: ACP when it carries `"jsonrpc":"2.0"` and is an ACP
 * request (an `initialize` with ACP's `protocolVersion` or `clientCapabilities`, or `session/*`);
 * the Codex app-server when it is a request without `"jsonrpc"` (Codex never sends it). Undefined
 * when the line tells neither (not JSON, a notification, an answer).
 */
export function protocolOfClientLine(line: Buffer): RecordProtocol | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const { jsonrpc, method, params } = message as Record<string, unknown>;
  if (typeof method !== 'string') return undefined;
  if (jsonrpc !== '2.0' || line.indexOf(JSONRPC_MARK) === -1) return 'codex-app-server';
  if (method === 'initialize') {
    const fields = params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : {};
    return 'protocolVersion' in fields || 'clientCapabilities' in fields ? 'acp' : 'codex-app-server';
  }
  return ACP_CLIENT_REQUEST_METHODS.has(method) || method === 'session/cancel' ? 'acp' : 'codex-app-server';
}

/**
 * Stands in for the observer until the client's first message names the protocol (or `--protocol`
 * forced it): lines seen before are held (at most `MAX_HELD_LINES`, copied) and replayed into the
 * observer once it exists. It only ever sees copies of the bytes: the relay has already passed them on.
 */
export class ProtocolDetector implements RecordObserver {
  private observer: RecordObserver | undefined;
  private held: Array<{ direction: JsonRpcDirection; line: Buffer; timeMs?: number }> = [];
  private heldMalformed = 0;
  private detected: RecordProtocol | undefined;

  constructor(
    private readonly create: (protocol: RecordProtocol) => RecordObserver,
    forced?: RecordProtocol,
  ) {
    if (forced) this.choose(forced);
  }

  /** The protocol followed, once known. */
  get protocol(): RecordProtocol | undefined {
    return this.detected;
  }

  observeLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs?: number): void {
    if (this.observer) return this.observer.observeLine(direction, line, timeMs);
    const bytes = Buffer.from(typeof line === 'string' ? Buffer.from(line) : line);
    this.held.push({ direction, line: bytes, timeMs });
    const found = direction === 'client->server' ? protocolOfClientLine(bytes) : undefined;
    if (found !== undefined) this.choose(found);
    else if (this.held.length >= MAX_HELD_LINES) this.choose('codex-app-server');
  }

  noteMalformed(): void {
    if (this.observer) this.observer.noteMalformed();
    else this.heldMalformed++;
  }

  rendererDetached(timeMs?: number, reason?: string): void {
    this.observer?.rendererDetached(timeMs, reason);
  }

  activeTurns(): ReturnType<RecordObserver['activeTurns']> {
    return this.observer?.activeTurns() ?? [];
  }

  private choose(protocol: RecordProtocol): void {
    this.detected = protocol;
    const observer = this.create(protocol);
    this.observer = observer;
    for (const { direction, line, timeMs } of this.held) observer.observeLine(direction, line, timeMs);
    for (let i = 0; i < this.heldMalformed; i++) observer.noteMalformed();
    this.held = [];
  }
}
