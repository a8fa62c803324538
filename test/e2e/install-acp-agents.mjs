// Installs the real ACP agents the e2e suite drives (test/e2e/acp-agents.e2e.ts) into their own
// prefix, test/e2e/.agents (git-ignored), so the repository's lockfile and `npm ci` stay as they
// are. Run by `npm run test:e2e` before the network namespace is entered (the namespace has no
// registry); a version already there is not fetched again. Versions are pinned: the research that
// the suite follows (/work/shared/research/acp/README.md) was done on exactly these.
//
//   node test/e2e/install-acp-agents.mjs
//
// It never fails the run: what could not be installed is written to .agents/install-status.json,
// and the suite skips that agent saying why. An agent that is installed but does not start fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** name → pinned version. */
export const ACP_AGENT_PACKAGES = {
  '@zed-industries/codex-acp': '0.16.0',
  '@zed-industries/claude-agent-acp': '0.23.1',
  '@google/gemini-cli': '0.61.0',
};

export const AGENTS_PREFIX = join(import.meta.dirname, '.agents');
export const INSTALL_STATUS = join(AGENTS_PREFIX, 'install-status.json');

function installedVersion(name) {
  const manifest = join(AGENTS_PREFIX, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    return JSON.parse(readFileSync(manifest, 'utf8')).version;
  } catch {
    return undefined;
  }
}

function install() {
  mkdirSync(AGENTS_PREFIX, { recursive: true });
  const manifest = join(AGENTS_PREFIX, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, `${JSON.stringify({ name: 'stall-why-e2e-acp-agents', private: true }, null, 2)}\n`);
  const status = {};
  const missing = Object.entries(ACP_AGENT_PACKAGES).filter(([name, version]) => installedVersion(name) !== version);
  if (missing.length > 0) {
    const specs = missing.map(([name, version]) => `${name}@${version}`);
    console.error(`install-acp-agents: npm install ${specs.join(' ')} into ${AGENTS_PREFIX}`);
    // One package at a time: one that cannot be fetched does not keep the others out.
    for (const spec of specs) {
      const r = spawnSync('npm', ['install', '--prefix', AGENTS_PREFIX, '--no-audit', '--no-fund', '--save-exact', spec], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.error || r.status !== 0) {
        const why = r.error?.message ?? (r.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${r.status}`);
        status[spec.slice(0, spec.lastIndexOf('@'))] = { installed: false, reason: `npm install ${spec} failed: ${why}` };
        console.error(`install-acp-agents: ${spec}: ${why}`);
      }
    }
  }
  for (const [name, version] of Object.entries(ACP_AGENT_PACKAGES)) {
    const found = installedVersion(name);
    if (found === version) status[name] = { installed: true, version };
    else status[name] ??= { installed: false, reason: `${name}@${version} is not in ${AGENTS_PREFIX} (found ${found ?? 'none'})` };
  }
  writeFileSync(INSTALL_STATUS, `${JSON.stringify(status, null, 2)}\n`);
  return status;
}

if (process.argv[1] && join(process.argv[1]) === join(dirname(import.meta.filename), 'install-acp-agents.mjs')) {
  const status = install();
  for (const [name, s] of Object.entries(status)) console.error(`install-acp-agents: ${name}: ${s.installed ? `ready (${s.version})` : s.reason}`);
}
