import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freePort, type JudgedTurn } from './codex-under-record.js';
import { JsonRpcChild, type JsonRpcMessage } from './json-rpc-child.js';

/**
 * A real ACP agent (installed by test/e2e/install-acp-agents.mjs into test/e2e/.agents) wrapped by
 * the built `stall-why record --protocol acp --upstream <proxy>=<fake API>`, driven by a small ACP
 * client: `initialize`, `session/new` or `session/load`, `session/prompt`, `session/cancel`, and the
 * agent's permission requests answered or left open by the test. Each agent is set up the way
 * /work/shared/research/acp/README.md ran it offline: its model API pointed at the proxy, update
 * checks, telemetry and error reporting off, a HOME of its own.
 */

export type AcpAgentName = 'codex-acp' | 'claude-agent-acp' | 'gemini-cli';

const AGENTS = join(import.meta.dirname, '.agents');
const PACKAGE_OF: Record<AcpAgentName, string> = {
  'codex-acp': '@zed-industries/codex-acp',
  'claude-agent-acp': '@zed-industries/claude-agent-acp',
  'gemini-cli': '@google/gemini-cli',
};

/** Why an agent cannot be run here (its install failed or never ran), or undefined when it is installed. */
export function notInstalled(agent: AcpAgentName): string | undefined {
  const statusFile = join(AGENTS, 'install-status.json');
  if (!existsSync(statusFile)) return `${statusFile} is missing: run \`node test/e2e/install-acp-agents.mjs\` (npm run test:e2e does) before the suite`;
  const status = (JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, { installed: boolean; reason?: string }>)[PACKAGE_OF[agent]];
  if (!status?.installed) return status?.reason ?? `${PACKAGE_OF[agent]} is not in ${statusFile}`;
  return undefined;
}

export interface AcpAgentOptions {
  readonly agent: AcpAgentName;
  /** The fake model API's origin, e.g. http://127.0.0.1:PORT. */
  readonly apiOrigin: string;
  /** Another run's home (its sessions), for `session/load` in a second process. Default: a fresh one. */
  readonly reuseHomeOf?: AcpAgentUnderRecord;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export class AcpAgentUnderRecord extends JsonRpcChild {
  readonly base: string;
  readonly outDir: string;
  readonly workDir: string;
  readonly homeDir: string;
  private exit: Promise<Exit> | undefined;

  constructor(private readonly options: AcpAgentOptions) {
    super();
    this.base = mkdtempSync(join(tmpdir(), `stall-why-e2e-${options.agent}-`));
    this.outDir = join(this.base, 'recording');
    this.workDir = options.reuseHomeOf?.workDir ?? join(this.base, 'work');
    this.homeDir = options.reuseHomeOf?.homeDir ?? join(this.base, 'home');
    mkdirSync(this.workDir, { recursive: true });
    mkdirSync(this.homeDir, { recursive: true });
  }

  /** Spawns record around the agent and initializes the ACP connection; the agent's answer is returned. */
  async start(): Promise<any> {
    const port = await freePort();
    const { command, env: agentEnv, unset = [] } = this.agentCommand(`http://127.0.0.1:${port}`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...agentEnv };
    for (const name of unset) delete env[name];
    const args = [CLI, 'record', '--out', this.outDir, '--protocol', 'acp', '--upstream', `127.0.0.1:${port}=${this.options.apiOrigin}`, '--', ...command];
    // Its own process group: the agents do not exit on stdin EOF (codex-acp, claude-agent-acp) and
    // claude-agent-acp runs Claude Code as a child, so stopping takes the whole group.
    this.attach(spawn(process.execPath, args, { cwd: this.workDir, env, stdio: 'pipe', detached: true }));
    this.exit = new Promise((r) => this.child.once('close', (code, signal) => r({ code, signal })));
    return this.request('initialize', {
      protocolVersion: 1,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: 'stall-why-e2e', version: '0.0.1' },
    });
  }

  async newSession(): Promise<string> {
    const result = await this.request('session/new', { cwd: this.workDir, mcpServers: [] });
    return result.sessionId as string;
  }

  loadSession(sessionId: string): Promise<any> {
    return this.request('session/load', { sessionId, cwd: this.workDir, mcpServers: [] });
  }

  /** Sends a prompt; its request id names the turn (`prompt-<id>-…`), `answer` is the agent's answer to it. */
  prompt(sessionId: string, text: string, timeoutMs = 120_000): { id: number; answer: Promise<JsonRpcMessage> } {
    let id = 0;
    const answer = new Promise<JsonRpcMessage>((resolve, reject) => {
      id = this.fire('session/prompt', { sessionId, prompt: [{ type: 'text', text }] });
      this.waitFor((m) => m.id === id && m.method === undefined, `the answer to session/prompt ${id}`, timeoutMs).then(resolve, reject);
    });
    return { id, answer };
  }

  cancel(sessionId: string): void {
    this.notify('session/cancel', { sessionId });
  }

  /** The agent's next permission request (one not answered yet). */
  waitForPermission(): Promise<JsonRpcMessage> {
    const answered = new Set(this.messages.filter((m) => m.dir === 'out' && m.msg.method === undefined).map((m) => m.msg.id));
    return this.waitFor((m) => m.method === 'session/request_permission' && !answered.has(m.id), 'session/request_permission');
  }

  /** Answers a permission request with its first option of `kind` (`allow_once`, `reject_once`), or `cancelled`. */
  answerPermission(request: JsonRpcMessage, kind: string | 'cancelled'): void {
    if (kind === 'cancelled') return this.respond(request.id!, { outcome: { outcome: 'cancelled' } });
    const option = (request.params.options as Array<{ optionId: string; kind: string }>).find((o) => o.kind === kind);
    if (!option) throw new Error(`no ${kind} option in ${JSON.stringify(request.params.options)}`);
    this.respond(request.id!, { outcome: { outcome: 'selected', optionId: option.optionId } });
  }

  /** Closes the client's side, then stops record and the agent by their process group. */
  async stop(): Promise<Exit> {
    if (!this.exit) return { code: null, signal: null };
    const pid = this.child.pid!;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end();
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-pid, name);
        } catch {
          // The group is gone already.
        }
      };
      // record closes the agent's stdin on EOF, but codex-acp and claude-agent-acp never exit on it.
      const term = setTimeout(() => signal('SIGTERM'), 1_000);
      const kill = setTimeout(() => signal('SIGKILL'), 10_000);
      await this.exit;
      clearTimeout(term);
      clearTimeout(kill);
      // Whatever of the group outlived record (Claude Code's child, a tool's shell).
      signal('SIGKILL');
    }
    return this.exit;
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }

  /** The agent's command line and environment, its model API at `apiBase` (the proxy). */
  private agentCommand(apiBase: string): { command: string[]; env: NodeJS.ProcessEnv; unset?: string[] } {
    const modules = join(AGENTS, 'node_modules');
    const home = { HOME: this.homeDir };
    switch (this.options.agent) {
      case 'codex-acp': {
        const codexHome = join(this.homeDir, 'codex-home');
        mkdirSync(codexHome, { recursive: true });
        // A slug Codex knows (an unknown one adds a warning message and drops apply_patch); read-only
        // with on-request approvals, so an escalated command asks for permission. Update checks off
        // (codex-acp 0.16 reaches nothing else even with defaults).
        writeFileSync(
          join(codexHome, 'config.toml'),
          [
            'model_provider = "fake"',
            'model = "gpt-5.4-mini"',
            'approval_policy = "on-request"',
            'sandbox_mode = "read-only"',
            'check_for_update_on_startup = false',
            '[model_providers.fake]',
            'name = "fake"',
            `base_url = "${apiBase}/v1"`,
            'wire_api = "responses"',
            'env_key = "FAKE_KEY"',
            'request_max_retries = 2',
            'stream_max_retries = 3',
            '',
          ].join('\n'),
        );
        // TMPDIR not above CODEX_HOME, else "Refusing to create helper binaries under temporary dir".
        const tmp = join(this.base, 'tmp');
        mkdirSync(tmp, { recursive: true });
        const bin = join(modules, '@zed-industries', 'codex-acp-linux-x64', 'bin', 'codex-acp');
        return { command: [bin], env: { ...home, CODEX_HOME: codexHome, TMPDIR: tmp, FAKE_KEY: 'sk-fake-never-recorded', RUST_LOG: 'warn' } };
      }
      case 'claude-agent-acp':
        // The four opt-outs keep Claude Code off api.anthropic.com (the plugin blocklist fetch from
        // raw.githubusercontent.com remains; in the namespace it fails at once). Two retries per request.
        return {
          command: [process.execPath, join(modules, '@zed-industries', 'claude-agent-acp', 'dist', 'index.js')],
          env: {
            ...home,
            CLAUDE_CONFIG_DIR: join(this.homeDir, '.claude'),
            ANTHROPIC_BASE_URL: apiBase,
            ANTHROPIC_API_KEY: 'sk-ant-fake-never-recorded',
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
            DISABLE_AUTOUPDATER: '1',
            DISABLE_TELEMETRY: '1',
            DISABLE_ERROR_REPORTING: '1',
            CLAUDE_CODE_MAX_RETRIES: '4',
          },
          // As root (CI, and the namespace maps us to root), any IS_SANDBOX value makes the adapter allow
          // bypassPermissions, but Claude Code 2.1.83 accepts only "1" and exits at once on anything else
          // (session/new: "Query closed before response received"): this machine sets IS_SANDBOX=yes.
          unset: ['IS_SANDBOX'],
        };
      case 'gemini-cli': {
        // Usage statistics (Clearcut, play.googleapis.com), telemetry and update checks off.
        mkdirSync(join(this.homeDir, '.gemini'), { recursive: true });
        writeFileSync(
          join(this.homeDir, '.gemini', 'settings.json'),
          `${JSON.stringify({ privacy: { usageStatisticsEnabled: false }, telemetry: { enabled: false }, general: { enableAutoUpdate: false, enableAutoUpdateNotification: false } })}\n`,
        );
        return {
          command: [process.execPath, join(modules, '@google', 'gemini-cli', 'bundle', 'gemini.js'), '--acp'],
          // One process (no self-relaunch), so record's signals reach it; the base URL alone selects the `gateway` auth.
          env: { ...home, GOOGLE_GEMINI_BASE_URL: apiBase, GEMINI_API_KEY: 'fake-key-never-recorded', GEMINI_CLI_NO_RELAUNCH: 'true', GEMINI_CLI_TRUST_WORKSPACE: 'true' },
        };
      }
    }
  }
}

/** The turn of the prompt with request id `id` (`prompt-<id>-<start ms>`). */
export function promptTurn(report: { turns: JudgedTurn[] }, sessionId: string, id: number): JudgedTurn | undefined {
  return report.turns.find((t) => t.threadId === sessionId && t.turnId?.startsWith(`prompt-${id}-`));
}
