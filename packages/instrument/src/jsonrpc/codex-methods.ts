/**
 * The Codex app-server protocol methods of 0.169 (from `codex app-server generate-ts`): what the
 * observer knows, so that anything else is counted as unknown rather than guessed at. Regenerate
 * the lists when the pinned Codex version changes; a method missing here is only counted, never fatal.
 */

/** Requests a client sends to the app-server. */
export const CODEX_CLIENT_REQUEST_METHODS: ReadonlySet<string> = new Set([
  'initialize', 'thread/start', 'thread/resume', 'thread/fork', 'thread/archive', 'thread/delete',
  'thread/unsubscribe', 'thread/name/set', 'thread/goal/set', 'thread/goal/get', 'thread/goal/clear',
  'thread/metadata/update', 'thread/attachment/add', 'thread/attachment/list', 'thread/attachmentOwner/list',
  'thread/attachment/remove', 'thread/section/move', 'thread/unarchive', 'thread/compact/start',
  'thread/shellCommand', 'thread/approveGuardianDeniedAction', 'thread/revert', 'thread/list',
  'threadSection/list', 'threadSection/create', 'threadSection/update', 'threadSection/delete',
  'thread/loaded/list', 'thread/read', 'thread/turns/list', 'thread/items/list', 'thread/inject_items',
  'skills/list', 'skills/extraRoots/set', 'hooks/list', 'marketplace/add', 'marketplace/remove',
  'marketplace/upgrade', 'plugin/list', 'plugin/installed', 'plugin/reconcile', 'plugin/read',
  'plugin/skill/read', 'plugin/share/save', 'plugin/share/updateTargets', 'plugin/share/list',
  'plugin/share/checkout', 'plugin/share/delete', 'app/read', 'app/list', 'app/installed', 'fs/readFile',
  'fs/writeFile', 'fs/createDirectory', 'fs/getMetadata', 'fs/readDirectory', 'fs/remove', 'fs/copy',
  'fs/watch', 'fs/unwatch', 'skills/config/write', 'plugin/install', 'plugin/uninstall', 'turn/start',
  'turn/steer', 'turn/interrupt', 'review/start', 'model/list', 'account/gatewayOAuth/read',
  'account/gatewayOAuth/login', 'account/gatewayOAuth/cancel', 'modelProvider/list',
  'modelProvider/config/write', 'modelProvider/capabilities/read', 'experimentalFeature/list',
  'permissionProfile/list', 'experimentalFeature/enablement/set', 'mcpServer/oauth/login',
  'config/mcpServer/reload', 'mcpServerStatus/list', 'mcpServer/resource/read', 'mcpServer/tool/call',
  'windowsSandbox/setupStart', 'windowsSandbox/readiness', 'account/login/start', 'account/login/cancel',
  'account/logout', 'account/securitySetup/read', 'account/rateLimits/read',
  'account/rateLimitResetCredit/consume', 'account/usage/read', 'account/workspaceMessages/read',
  'account/sendAddCreditsNudgeEmail', 'feedback/upload', 'feedback/save', 'command/exec', 'command/exec/write',
  'command/exec/terminate', 'command/exec/resize', 'config/read', 'externalAgentConfig/detect',
  'externalAgentConfig/import', 'externalAgentConfig/import/recordHistory',
  'externalAgentConfig/import/readHistories', 'config/value/write', 'config/batchWrite',
  'configRequirements/read', 'account/read', 'getConversationSummary', 'gitDiffToRemote', 'getAuthStatus',
  'fuzzyFileSearch',
]);

/** Notifications a client sends to the app-server. */
export const CODEX_CLIENT_NOTIFICATION_METHODS: ReadonlySet<string> = new Set([
  'initialized',
]);

/** Notifications the app-server sends to its client. */
export const CODEX_SERVER_NOTIFICATION_METHODS: ReadonlySet<string> = new Set([
  'error', 'thread/started', 'thread/status/changed', 'thread/readState/changed', 'thread/archived',
  'thread/deleted', 'thread/unarchived', 'thread/closed', 'thread/reverted', 'skills/changed',
  'thread/name/updated', 'thread/section/changed', 'thread/attachment/updated', 'thread/goal/updated',
  'thread/prediction/updated', 'thread/goal/cleared', 'thread/queue/changed', 'project/changed',
  'thread/project/updated', 'thread/environment/connected', 'thread/environment/disconnected',
  'thread/settings/updated', 'thread/tokenUsage/updated', 'turn/started', 'hook/started', 'turn/completed',
  'hook/completed', 'turn/diff/updated', 'turn/plan/updated', 'item/started',
  'item/autoApprovalReview/started', 'item/autoApprovalReview/completed',
  'autoApprovalReview/strictReviewRequired', 'item/completed', 'rawResponseItem/completed',
  'rawResponse/completed', 'item/agentMessage/delta', 'item/plan/delta', 'command/exec/outputDelta',
  'process/outputDelta', 'process/exited', 'item/commandExecution/outputDelta',
  'item/commandExecution/terminalInteraction', 'item/fileChange/outputDelta', 'item/fileChange/patchUpdated',
  'serverRequest/resolved', 'item/mcpToolCall/progress', 'mcpServer/oauthLogin/completed',
  'mcpServer/startupStatus/updated', 'mcpServer/event/stream/notification', 'account/updated',
  'account/gatewayOAuth/changed', 'account/rateLimits/updated', 'app/list/updated',
  'remoteControl/status/changed', 'externalAgentConfig/import/progress',
  'externalAgentConfig/import/completed', 'fs/changed', 'item/reasoning/summaryTextDelta',
  'item/reasoning/summaryPartAdded', 'item/reasoning/textDelta', 'thread/compacted', 'model/rerouted',
  'model/verification', 'modelProvider/authRecoveryStarted', 'modelProvider/authRecoveryCompleted',
  'turn/moderationMetadata', 'model/safetyBuffering/updated', 'warning', 'guardianWarning',
  'deprecationNotice', 'configWarning', 'fuzzyFileSearch/sessionUpdated', 'fuzzyFileSearch/sessionCompleted',
  'thread/realtime/started', 'thread/realtime/itemAdded', 'thread/realtime/item/started',
  'thread/realtime/item/transcript/delta', 'thread/realtime/item/completed',
  'thread/realtime/transcript/delta', 'thread/realtime/transcript/done', 'thread/realtime/outputAudio/delta',
  'thread/realtime/sdp', 'thread/realtime/error', 'thread/realtime/closed', 'windows/worldWritableWarning',
  'windowsSandbox/setupCompleted', 'account/login/completed',
]);

/** Requests the app-server sends to its client (they wait on the client or a person). */
export const CODEX_SERVER_REQUEST_METHODS: ReadonlySet<string> = new Set([
  'item/commandExecution/requestApproval', 'item/fileChange/requestApproval', 'item/tool/requestUserInput',
  'mcpServer/elicitation/request', 'item/permissions/requestApproval', 'item/tool/call',
  'account/chatgptAuthTokens/refresh', 'attestation/generate', 'applyPatchApproval', 'execCommandApproval',
]);

/**
 * Streaming notifications: many per second while a model or a command streams. The observer
 * counts them from a cheap scan of the line head and never parses them (they carry message text,
 * reasoning and command output, which stall-why does not record).
 */
export const CODEX_DELTA_METHODS: ReadonlySet<string> = new Set([
  'item/agentMessage/delta', 'item/plan/delta', 'command/exec/outputDelta', 'process/outputDelta',
  'item/commandExecution/outputDelta', 'item/fileChange/outputDelta', 'item/fileChange/patchUpdated',
  'item/mcpToolCall/progress', 'item/reasoning/summaryTextDelta', 'item/reasoning/summaryPartAdded',
  'item/reasoning/textDelta', 'thread/realtime/item/transcript/delta', 'thread/realtime/transcript/delta',
  'thread/realtime/outputAudio/delta',
]);
