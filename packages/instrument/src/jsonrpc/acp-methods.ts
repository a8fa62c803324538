/**
 * The Agent Client Protocol (ACP, protocol version 1) methods, as the schema of
 * agentclientprotocol.com defines them and as codex-acp 0.16, claude-agent-acp 0.23 and gemini-cli
 * 0.61 `--acp` send them. Anything else (extension methods start with `_`) is counted as unknown.
 */

/** Requests a client sends to the agent. */
export const ACP_CLIENT_REQUEST_METHODS: ReadonlySet<string> = new Set([
  'initialize', 'authenticate', 'logout', 'session/new', 'session/load', 'session/list', 'session/resume',
  'session/fork', 'session/close', 'session/prompt', 'session/set_mode', 'session/set_model',
  'session/set_config_option',
]);

/** Notifications a client sends to the agent. */
export const ACP_CLIENT_NOTIFICATION_METHODS: ReadonlySet<string> = new Set(['session/cancel', '$/cancel_request']);

/** Requests the agent sends to the client: a person's permission, and the client's file system and terminals. */
export const ACP_AGENT_REQUEST_METHODS: ReadonlySet<string> = new Set([
  'session/request_permission', 'fs/read_text_file', 'fs/write_text_file', 'terminal/create', 'terminal/output',
  'terminal/release', 'terminal/wait_for_exit', 'terminal/kill',
]);

/** Notifications the agent sends to the client. */
export const ACP_AGENT_NOTIFICATION_METHODS: ReadonlySet<string> = new Set(['session/update', '$/cancel_request']);

/** The `sessionUpdate` kinds of a `session/update`. */
export const ACP_SESSION_UPDATE_KINDS: ReadonlySet<string> = new Set([
  'user_message_chunk', 'agent_message_chunk', 'agent_thought_chunk', 'tool_call', 'tool_call_update', 'plan',
  'available_commands_update', 'current_mode_update', 'config_option_update', 'session_info_update', 'usage_update',
]);
