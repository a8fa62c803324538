// JSON-RPC observers: protocol messages in, stall-why phases out. One stream core, one module per protocol.
export * from './json-rpc-stream.js';
export * from './codex-json-rpc-observer.js';
export * from './transcript-line.js';
export * from './codex-methods.js';
export { parseReconnecting, readCodexErrorInfo, retryReason, type CodexErrorInfo } from './codex-error.js';
export { approvalDecision, approvalKind } from './approval-request.js';
export * from './acp-observer.js';
export * from './acp-methods.js';
