/**
 * What a Codex rollout line says, read from its head (the first `ROLLOUT_HEAD_BYTES`) without parsing
 * the line: its header, a field's string value, and the patterns the importer recognises. A line
 * bloated with an image or a long tool output is never turned into objects for these.
 */

/** An escalated call: `with_escalated_permissions` (to 0.6x) or `sandbox_permissions: require_escalated` (0.10x on). */
export const ESCALATION = /"with_escalated_permissions\\?"\s*:\s*true|require_escalated/;
/**
 * A command Codex asks a person about under the on-request policy even unescalated (its
 * `command_might_be_dangerous`): `rm` forced (`-f`, `-rf`, `-fr`, `--force`), also inside a shell
 * script or after `sudo`; read from the call's arguments, as a plain string or an argv array.
 */
export const DANGEROUS_COMMAND = /(?:^|[\s;&|(`'"]|\\")(?:sudo(?:\s+|\\",\\"))?rm(?:\s+|\\",\\")(?:-[A-Za-z]*f[A-Za-z]*|--force)(?=[\s;&|)'"\\]|$)/;
/**
 * The same on Windows (its `is_dangerous_powershell_words`): a PowerShell delete (`Remove-Item` and its
 * aliases `ri`, `del`, `erase`, `rd`, `rmdir`) with `-Force`, in any case.
 */
export const DANGEROUS_POWERSHELL = /(?:^|[\s;&|(`'"]|\\")(?:Remove-Item|ri|del|erase|rd|rmdir)(?=[\s'"\\])[^;|&\n]*?[\s'"]-Force(?![A-Za-z-])/i;
/** The output of a call handed back while its process runs on (`exec_command` past `yield_time_ms`). */
export const BACKGROUND_SESSION = /Process running with session ID (\d+)/;
/** task_complete with no answer. */
export const NO_ANSWER = /"last_agent_message"\s*:\s*null/;
/**
 * The output of a call the person interrupted: its `Wall time` is then the time since the call was
 * asked for, an approval wait included (Codex 0.169, test/corpus/codex-otel/approval_pending), not a run.
 */
export const ABORTED_OUTPUT = /aborted by user|"output"\s*:\s*"aborted"/;
/** The output Codex gives the model when a person rejects a call. */
export const REJECTED = /rejected by user/;
/** The developer message Codex writes when a person approves a command prefix for the session. */
export const APPROVED_PREFIX = /"text"\s*:\s*"Approved command prefix saved/;

/** `codex_error_info` is a bare string (`"other"`) or an object with one key (`{"http_connection_failed":{…}}`). */
export function errorKind(info: unknown): string | undefined {
  if (typeof info === 'string') return info.slice(0, 64);
  if (info !== null && typeof info === 'object' && !Array.isArray(info)) return Object.keys(info)[0]?.slice(0, 64);
  return undefined;
}

/**
 * A user-role message whose first text is context Codex writes, not the person: the union of what its
 * versions treat as such (`is_session_prefix`, `is_contextual_user_message`: a tag, case-insensitive,
 * after leading whitespace: `<environment_context>`, `<user_instructions>`, `<turn_aborted>`,
 * `<user_shell_command>`, `<skill>`, `<context_update>`, `<tool_context>`, `<reasoning_context>`,
 * `<pinned_notes>`, `<subagent_notification>`; the `# AGENTS.md instructions` heading), and "Warning:
 * apply_patch was requested via shell_command" (0.94, with no user_message event).
 */
export const INJECTED_CONTEXT =
  /"content"\s*:\s*\[\s*\{\s*"type"\s*:\s*"input_text"\s*,\s*"text"\s*:\s*"(?:\s|\\[nrt])*(?:<(?:environment_context|user_instructions|turn_aborted|user_shell_command|skill|context_update|tool_context|reasoning_context|pinned_notes|subagent_notification)>|# AGENTS\.md|Warning: apply_patch was requested via )/i;

/** A token_count event without usage (`"info":null`): a rate-limit snapshot for a response stream that did not complete. */
export const TOKEN_COUNT_WITHOUT_USAGE = /"type"\s*:\s*"token_count"\s*,\s*"info"\s*:\s*null/;
/** A token_count's running totals (`"total_token_usage":{…}`): written again unchanged as the next request begins. */
export const TOTAL_TOKEN_USAGE = /"total_token_usage"\s*:\s*\{[^}]*\}/;
/** A line's header as Codex writes it: timestamp, (ordinal,) type and payload type, in this order. */
export const HEADER = /^\{"timestamp":"([^"]+)",(?:"ordinal":(\d+),)?"type":"([A-Za-z_]+)"(?:,"payload":\{"type":"([A-Za-z_]+)")?/;
/** `field`'s pattern per field name, compiled once. */
const fieldPatterns = new Map<string, RegExp>();
/** The first string value of `name` in a line's head, JSON escapes undone; read without parsing the line. */
export const field = (head: string, name: string): string | undefined => {
  let pattern = fieldPatterns.get(name);
  if (pattern === undefined) {
    pattern = new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.){0,400})"`);
    fieldPatterns.set(name, pattern);
  }
  const raw = pattern.exec(head)?.[1];
  if (raw === undefined || !raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
};

/**
 * How long a command ran, as its output says (`duration_seconds` to 0.5x, `Wall time: 0.8 seconds`
 * since); undefined when it does not say (a command that failed to start says 0).
 */
export function runSeconds(head: string, parse: () => Record<string, unknown> | undefined): number | undefined {
  const wall = /Wall time: ([0-9.]+) seconds/.exec(head);
  if (wall) return Number(wall[1]);
  const fromHead = /duration_seconds\\?"\s*:\s*([0-9.]+)/.exec(head);
  if (fromHead) return Number(fromHead[1]);
  const output = payloadString(parse(), 'output');
  const m = output && /duration_seconds"\s*:\s*([0-9.]+)/.exec(output.slice(-400));
  return m ? Number(m[1]) : undefined;
}

/** A string field of a parsed line's payload. */
export function payloadString(line: Record<string, unknown> | undefined, name: string): string | undefined {
  const payload = (line?.payload ?? line) as Record<string, unknown> | undefined;
  const value = payload?.[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `codex_error_info` read from a line's head when the line is not parsed (see `errorKind`). */
export const headErrorKind = (head: string): string | undefined =>
  field(head, 'codex_error_info') ?? /"codex_error_info"\s*:\s*\{\s*"([a-z_]+)"/.exec(head)?.[1];
