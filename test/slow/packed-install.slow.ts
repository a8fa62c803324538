/**
 * The install path a user takes: every package packed (`npm pack`), published to a private registry
 * (verdaccio on loopback, storage in a temp dir; @stall-why/* and stall-why have no uplink, other
 * packages come through from the real registry), then `npm install stall-why @stall-why/instrument`
 * in an empty project, `npx stall-why --version`, and a tiny instrumented server whose turn
 * `npx stall-why <dir>` judges. Nothing of the monorepo is beside the installed packages.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/viewer-cli/test/cli-runner.js';
import { startFakeModel, startServer, waitForJudgement } from '../support/instrumented-server.js';

const REPO = join(import.meta.dirname, '..', '..');
const PACKAGES = ['conventions', 'flight-record', 'instrument', 'classifier', 'clickhouse', 'viewer-cli'];
const root = mkdtempSync(join(tmpdir(), 'stall-why-packed-'));
const tarballs = join(root, 'tarballs');
const app = join(root, 'app');
let registry: ChildProcess | undefined;
let registryUrl = '';

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  // A user's npm, pointed at the private registry; the fake token satisfies `npm publish`'s auth check.
  const host = registryUrl.replace(/^http:/, '');
  const r = spawnSync('npm', [...args, '--registry', registryUrl, `--${host}:_authToken=stall-why-test`, '--no-audit', '--no-fund'], {
    cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, npm_config_registry: registryUrl, npm_config_update_notifier: 'false' },
  });
  expect(r.status, `npm ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  types?: string;
  main?: string;
  bin?: Record<string, string>;
}

beforeAll(async () => {
  const port = await freePort();
  registryUrl = `http://127.0.0.1:${port}/`;
  writeFileSync(join(root, 'verdaccio.yaml'), [
    `storage: ${join(root, 'storage')}`,
    'uplinks:',
    '  npmjs:',
    '    url: https://registry.npmjs.org/',
    'packages:',
    "  '@stall-why/*':",
    '    access: $all',
    '    publish: $all',
    "  'stall-why':",
    '    access: $all',
    '    publish: $all',
    "  '**':",
    '    access: $all',
    '    publish: $all',
    '    proxy: npmjs',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n'));
  const bin = join(REPO, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  // --use-openssl-ca: the uplink trusts the system's CA store (as curl and git do), not only Node's
  // bundled one: a registry reached through a TLS-inspecting proxy is signed by a CA installed there.
  registry = spawn(process.execPath, ['--use-openssl-ca', bin, '--config', join(root, 'verdaccio.yaml'), '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  for (const deadline = Date.now() + 60_000; ;) {
    if (await fetch(`${registryUrl}-/ping`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('verdaccio did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
}, 90_000);

afterAll(() => {
  registry?.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
});

describe('installed from a registry, as a user does', () => {
  const packed: { file: string; manifest: Manifest; files: string[] }[] = [];

  it('packs every package with its LICENSE, README, entry points and registry-resolvable dependencies', () => {
    mkdirSync(tarballs);
    const workspaces = PACKAGES.flatMap((p) => ['--workspace', `packages/${p}`]);
    const r = npm(['pack', ...workspaces, '--pack-destination', tarballs, '--json', '--ignore-scripts'], REPO);
    const results = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
    expect(results).toHaveLength(PACKAGES.length);
    for (const [i, result] of results.entries()) {
      const manifest = JSON.parse(readFileSync(join(REPO, 'packages', PACKAGES[i]!, 'package.json'), 'utf8')) as Manifest;
      packed.push({ file: join(tarballs, result.filename), manifest, files: result.files.map((f) => f.path) });
    }
    for (const { manifest, files } of packed) {
      expect(files, manifest.name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
      expect(readFileSync(join(REPO, 'packages', PACKAGES[packed.findIndex((p) => p.manifest === manifest)]!, 'LICENSE'), 'utf8')).toContain('Apache License');
      // Every dependency is a version range a registry can resolve: no file:, link:, workspace: or *.
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) expect(range, `${manifest.name} -> ${dep}`).toMatch(/^[~^]?\d+\.\d+\.\d+/);
      const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {}),
        ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
      for (const target of targets.filter((t): t is string => t !== undefined)) expect(files, `${manifest.name}: ${target}`).toContain(target.replace(/^\.\//, ''));
      expect(files.some((f) => f.includes('/test/') || f.endsWith('.tsbuildinfo')), manifest.name).toBe(false);
    }
  }, 120_000);

  it('publishes them, installs stall-why and @stall-why/instrument into an empty project, and judges a turn it recorded', async () => {
    for (const { file } of packed) npm(['publish', file, '--ignore-scripts'], root);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-agent', version: '1.0.0', private: true, type: 'module' }));
    const install = npm(['install', 'stall-why', '@stall-why/instrument', '@opentelemetry/api', '@opentelemetry/sdk-trace-base'], app);
    expect(install.stderr).not.toMatch(/EBADENGINE|ERESOLVE|deprecated @stall-why/);

    const version = npm(['exec', '--', 'stall-why', '--version'], app);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'packages', 'viewer-cli', 'package.json'), 'utf8')).version);

    writeFileSync(join(app, 'server.js'), `
import { createServer } from 'node:http';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { FlightRecorderProcessor, getTurn, instrumentHttpHandler, tracedModelFetch } from '@stall-why/instrument';

const provider = new BasicTracerProvider({ spanProcessors: [new FlightRecorderProcessor({ directory: './flight' })] });
createServer(instrumentHttpHandler(async (req, res) => {
  const upstream = await tracedModelFetch(getTurn(req), process.env.MODEL_URL, { method: 'POST', body: '{}' });
  res.end(await upstream.text());
}, { tracerProvider: provider, resolveTurn: () => ({ threadId: 'thread-packed' }) })).listen(Number(process.env.PORT));
`);
    const model = await startFakeModel();
    const port = await freePort();
    const server = await startServer(join(app, 'server.js'), { cwd: app, port, env: { MODEL_URL: model.url } });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/turn`, { method: 'POST' })).status).toBe(200);
      const judge = async () => spawnSync('npm', ['exec', '--', 'stall-why', './flight', '--json'], { cwd: app, encoding: 'utf8', env: { ...process.env, npm_config_registry: registryUrl } });
      const r = await waitForJudgement(judge, (x) => x.status === 0 && JSON.parse(x.stdout).turns[0]?.status === 'completed');
      expect(r.status, r.stderr).toBe(0);
      const [turn] = JSON.parse(r.stdout).turns;
      expect(turn).toMatchObject({ threadId: 'thread-packed', status: 'completed', verdict: 'healthy' });
      expect(turn.phases.map((p: { name: string }) => p.name)).toContain('stall_why.upstream.attempt');
      expect(server.output()).toBe('');
    } finally {
      await server.stop();
      await model.close();
    }
  }, 300_000);
});
