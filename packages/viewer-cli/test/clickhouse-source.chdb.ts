/**
 * The ClickHouse source and sink on embedded ClickHouse (npm `chdb`, installed by .ci/run's
 * ClickHouse step, not by `npm ci`), with the exporter's exact DDL (`collect --create-schema`).
 * Every recording of test/corpus/example (live: open turns, recorded mid-fault) and
 * test/corpus/ended is replayed into `stall-why collect --clickhouse chdb:…` by the flight
 * recorder's uploader (ended spans, then its open spans as pending-span markers), and judged from
 * ClickHouse at the recording's moment: each turn has the status and verdict the flight recorder
 * gives it, and a stuck turn (its open spans only markers) is found by the SQL search while stuck.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlightRecorderUploader } from '@stall-why/instrument';
import { runCli } from './cli-runner.js';
import { startCollectWith } from './collect-runner.js';

const corpus = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus');
const root = mkdtempSync(join(tmpdir(), 'sw-chdb-'));
/** One store per recording: they all name their thread `thread-1`, and one thread's spans are judged together. */
const storeOf = (recording: Recording) => `chdb:${join(root, 'stores', recording.name)}`;

interface Recording {
  readonly name: string;
  readonly directory: string;
  /** The moment it was recorded at (live) or ended. */
  readonly at: number;
}

function recordings(): Recording[] {
  const example = JSON.parse(readFileSync(join(corpus, 'example', 'recorded.json'), 'utf8')) as Record<string, { liveAt?: number }>;
  const ended = JSON.parse(readFileSync(join(corpus, 'ended', 'recorded.json'), 'utf8')) as Record<string, { endedAt: number }>;
  const live = Object.entries(example).filter(([, r]) => r.liveAt !== undefined).map(([name, r]) => ({ name: `example/${name}`, directory: join(corpus, 'example', `${name}.live.flight`), at: r.liveAt! }));
  const done = Object.entries(ended).map(([name, r]) => ({ name: `ended/${name}`, directory: join(corpus, 'ended', `${name}.flight`), at: r.endedAt }));
  return [...live, ...done];
}

interface JsonTurn {
  readonly threadId: string | null;
  readonly turnId: string | null;
  readonly status: string;
  readonly verdict: string;
}

const judged = (stdout: string): JsonTurn[] => (JSON.parse(stdout) as { turns: JsonTurn[] }).turns;
const key = (t: JsonTurn) => `${t.threadId}/${t.turnId}`;
const all = recordings();

/** Replays a copy of the recording (the uploader keeps its cursor in the directory) into collect: ended spans, then open spans as markers. */
async function replay(recording: Recording, url: string): Promise<void> {
  const copy = join(root, 'copies', recording.name);
  cpSync(recording.directory, copy, { recursive: true });
  // The recordings are older than the uploader's default marker age (6 h): their open spans must still travel.
  const uploader = new FlightRecorderUploader({ directory: copy, url, maxPendingAgeMs: Number.MAX_SAFE_INTEGER, protocol: 'http/json' });
  const result = await uploader.uploadBacklog();
  await uploader.shutdown();
  expect(result.caughtUp, recording.name).toBe(true);
}

beforeAll(async () => {
  for (const recording of all) {
    const { child, url } = await startCollectWith(['--clickhouse', storeOf(recording), '--create-schema', '--port', '0']);
    try {
      await replay(recording, url);
    } finally {
      const exited = new Promise((ok) => child.on('exit', ok));
      child.kill('SIGTERM');
      await exited;
    }
  }
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('judged from ClickHouse (collect --clickhouse chdb:… fed by the flight recorder\'s uploader)', () => {
  it.each(all.map((r) => [r.name, r] as const))('%s: the same status and verdict as from the flight recorder', async (_name, recording) => {
    const fromDisk = await runCli([recording.directory, '--now', String(recording.at), '--json']);
    const store = storeOf(recording);
    const fromClickHouse = await runCli([store, '--now', String(recording.at), '--json']);
    expect(fromClickHouse.stderr).toBe('');
    const expected = judged(fromDisk.stdout).filter((t) => t.turnId !== null);
    expect(expected.length).toBeGreaterThan(0);
    const found = new Map(judged(fromClickHouse.stdout).map((t) => [key(t), t]));
    for (const turn of expected) {
      // The search skips ended turns that went well; asked for by id, every turn is judged.
      const fromSearch = found.get(key(turn));
      if (!fromSearch) expect(isHealthyEnded(turn), `${key(turn)} not found by the search`).toBe(true);
      const judgedTurn = fromSearch ?? judged((await runCli([store, '--now', String(recording.at), '--json', '--turn', turn.turnId!])).stdout)[0];
      expect({ turn: key(turn), ...pick(judgedTurn) }).toEqual({ turn: key(turn), ...pick(turn) });
    }
  });

  it('finds a stuck turn while it is stuck, from its pending-span markers alone, and leads the fleet report with it', async () => {
    const recording = all.find((r) => r.name === 'example/backend-silent')!;
    const result = await runCli([storeOf(recording), '--now', String(recording.at + 60_000), '--json', '--since', '10m']);
    type StuckTurn = JsonTurn & { endedAt: string | null; stuckForMs: number | null };
    const report = JSON.parse(result.stdout) as { turns: StuckTurn[]; fleet: { longestStuck: { turnId: string; verdict: string; stuckForMs: number }[]; groups: { service: string; turns: number }[] } };
    const stuck = report.turns.filter((t) => t.status === 'stuck').sort((a, b) => b.stuckForMs! - a.stuckForMs!);
    // The silent backend, a minute later: stuck, waiting on the backend, its turn span never ended.
    const silent = JSON.parse((await runCli([recording.directory, '--now', String(recording.at), '--json'])).stdout) as { turns: JsonTurn[] };
    expect(stuck.find((t) => t.turnId === silent.turns[0]!.turnId)).toMatchObject({ status: 'stuck', verdict: 'backend_stall', endedAt: null });
    expect(report.fleet.longestStuck.map((t) => t.turnId)).toEqual(stuck.slice(0, 20).map((t) => t.turnId));
    expect(report.fleet.groups).toEqual([expect.objectContaining({ service: 'stall-why-example-app-server', turns: report.turns.length })]);
    expect(result.code).toBe(1);
  });

  it('--turn and --thread take the start of an id as for files: not in the index, it is looked for with startsWith', async () => {
    const recording = all.find((r) => r.name === 'example/backend-silent')!;
    const [silent] = judged((await runCli([recording.directory, '--now', String(recording.at), '--json'])).stdout);
    const asked = (...filter: string[]) => runCli([storeOf(recording), '--now', String(recording.at), '--json', ...filter]);
    const byTurn = await asked('--turn', silent!.turnId!.slice(0, 'turn-ec1a'.length));
    expect(judged(byTurn.stdout).map((t) => ({ turn: key(t), ...pick(t) }))).toEqual([{ turn: key(silent!), ...pick(silent) }]);
    const byThread = await asked('--thread', silent!.threadId!.slice(0, 'thre'.length));
    expect(judged(byThread.stdout).map(key)).toEqual([key(silent!)]);
    const none = await asked('--turn', 'turn-0000');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^stall-why: no turn turn-0000 in the trace/);
  });
});

function isHealthyEnded(turn: JsonTurn): boolean {
  return turn.status === 'completed' && turn.verdict === 'healthy';
}

function pick(turn: JsonTurn | undefined): { status?: string; verdict?: string } {
  return turn ? { status: turn.status, verdict: turn.verdict } : {};
}

// Files of the corpus this suite reads, so a renamed recording fails here rather than silently shrinking the suite.
it('replays every live and ended recording of the corpus', () => {
  expect(all.length).toBe(readdirSync(join(corpus, 'example')).filter((f) => f.endsWith('.live.flight')).length + readdirSync(join(corpus, 'ended')).filter((f) => f.endsWith('.flight')).length);
});
