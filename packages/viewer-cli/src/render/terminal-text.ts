/**
 * Text from a trace is not trusted on a terminal: a turn id, a tool name, a server's error message
 * or a label can carry escape sequences (a window title, a screen clear, a hyperlink, a fake line
 * after a carriage return) put there by whoever wrote the trace, an MCP server's tool name, or anyone
 * who can post to `collect`. Every such string is made inert before it is printed: control
 * characters (C0, DEL, C1) and bidirectional overrides are shown as `\xNN`/`\u{NNNN}`, and ids and
 * lines are cut to a length a terminal can show. `--json` is not touched: JSON escapes them itself.
 */
import type { Report, TurnReport } from '@stall-why/classifier';
import { redactSecrets } from '@stall-why/flight-record';

/** Longest id (turn, thread) printed whole; a longer one is cut with `…`. */
export const MAX_ID_CHARS = 80;
/** Longest line of evidence, note or label printed whole. */
export const MAX_LINE_CHARS = 2_000;

// C0 controls, DEL, C1 controls, and the bidi embedding/override/isolate characters (Trojan Source).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character shown as an escape, cut to `max` characters. */
export function terminalText(text: string, max = MAX_LINE_CHARS): string {
  // A key in a server's message recorded before redaction existed is not shown either.
  const safe = redactSecrets(text);
  const cut = safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
  return cut.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

function safeTurn(turn: TurnReport): TurnReport {
  return {
    ...turn,
    threadId: turn.threadId === null ? null : terminalText(turn.threadId, MAX_ID_CHARS),
    turnId: turn.turnId === null ? null : terminalText(turn.turnId, MAX_ID_CHARS),
    evidence: turn.evidence.map((line) => terminalText(line)),
    sources: turn.sources.map((s) => terminalText(s)),
    phases: turn.phases.map((p) => ({ ...p, label: terminalText(p.label, 200) })),
  };
}

/** The report with every string that came from a trace made safe to print. */
export function terminalSafeReport(report: Report): Report {
  return {
    ...report,
    turns: report.turns.map(safeTurn),
    sources: report.sources.map((s) => ({ ...s, path: terminalText(s.path), notes: s.notes?.map((n) => terminalText(n)) })),
  };
}
