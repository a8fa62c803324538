/**
 * The README's code, copied as written: its TypeScript files (each block opening with `// <name>.ts`)
 * are type-checked and compiled in a project of their own, each server is started, sent a turn, and
 * `stall-why` must find that turn in the flight recorder the snippets set up. The quick start's npm
 * scripts must exist.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli } from '../../packages/viewer-cli/test/cli-runner.js';
import { startFakeModel, startServer, waitForJudgement } from '../support/instrumented-server.js';

const REPO = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** The fenced blocks of `lang`, in order. */
function fencedBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

const files = fencedBlocks(README, 'ts')
  .map((code) => ({ name: /^\/\/ (\S+\.ts)\n/.exec(code)?.[1], code }))
  .filter((f): f is { name: string; code: string } => f.name !== undefined);

interface JsonTurn { turnId: string; threadId: string; status: string; verdict: string; phases: { name: string }[] }

describe('README', () => {
  const project = mkdtempSync(join(tmpdir(), 'stall-why-readme-'));
  let model: Awaited<ReturnType<typeof startFakeModel>>;
  beforeAll(async () => {
    model = await startFakeModel();
  });
  afterAll(async () => {
    await model.close();
    rmSync(project, { recursive: true, force: true });
  });

  it('quick start: every npm script it runs exists', () => {
    const quickStart = fencedBlocks(README, 'sh')[0]!.replace(/#.*$/gm, '');
    const scripts = [...quickStart.matchAll(/npm (?:run (\S+)|(test))\b/g)].map((m) => m[1] ?? m[2]!);
    expect(scripts).toEqual(['demo', 'test']);
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    for (const script of scripts) expect(manifest.scripts).toHaveProperty(script);
  });

  it('library snippets type-check and compile as written', () => {
    expect(files.map((f) => f.name)).toEqual(['tracing.ts', 'server.ts', 'express-server.ts', 'fastify-server.ts']);
    // The monorepo's node_modules stand in for `npm install @stall-why/instrument ...`: the workspace links are the built packages.
    symlinkSync(join(REPO, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    for (const f of files) writeFileSync(join(project, f.name), f.code);
    const program = ts.createProgram(files.map((f) => join(project, f.name)), {
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      strict: true, skipLibCheck: true, types: ['node'], outDir: project,
    });
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
    expect(diagnostics.map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)).toEqual([]);
  }, 60_000);

  it.each(['server.js', 'express-server.js', 'fastify-server.js'])('%s records a turn that stall-why judges', async (server) => {
    const cwd = join(project, `run-${server.replace('.js', '')}`);
    mkdirSync(cwd);
    const port = await freePort();
    const requestsBefore = model.requests();
    const running = await startServer(join(project, server), { cwd, port, env: { MODEL_URL: model.url, OPENAI_API_KEY: 'sk-test' } });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/turn`, { method: 'POST', headers: { 'x-thread-id': 'thread-readme' } });
      expect(res.status).toBe(200);
      await res.text();
      if (server === 'server.js') expect(model.requests()).toBe(requestsBefore + 1);
      const turns = await waitForJudgement(
        async () => {
          const r = await runCli([join(cwd, 'agent-flight'), '--json']);
          return r.stdout ? (JSON.parse(r.stdout).turns as JsonTurn[]) : [];
        },
        (t) => t.length > 0 && t[0]!.status === 'completed', // the turn's end is flushed a moment after its start
      );
      expect(turns).toHaveLength(1);
      expect(turns[0]).toMatchObject({ threadId: 'thread-readme', status: 'completed', verdict: 'healthy' });
      if (server === 'server.js') expect(turns[0]!.phases.map((p) => p.name)).toContain('stall_why.upstream.attempt');
      expect(running.output()).not.toContain('STALL_WHY_NO_TRACER_PROVIDER');
    } finally {
      await running.stop();
    }
  }, 60_000);
});
