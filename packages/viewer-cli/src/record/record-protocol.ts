/**
 * The JSON-RPC protocols `stall-why record` can follow. A module of its own, without imports, so
 * that the command's options are defined without loading the OpenTelemetry SDK that the detector's
 * observers need (the CLI's start-up, issue 14).
 */
export type RecordProtocol = 'acp' | 'codex-app-server';
export const RECORD_PROTOCOLS: readonly RecordProtocol[] = ['acp', 'codex-app-server'];
