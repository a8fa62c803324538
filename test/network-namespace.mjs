// Runs a script that starts real agents inside its own network namespace, where only loopback is
// up: the agents talk to fakes on 127.0.0.1 and nothing can leave the machine. Used by the e2e
// wrapper (test/e2e/in-network-namespace.mjs) and the Codex OTel capture (test/corpus/codex-otel).
import { spawnSync } from 'node:child_process';

/** Set in the re-executed process; the interface check below still runs, so setting it by hand gains nothing. */
const INSIDE = 'STALL_WHY_NETWORK_NAMESPACE';

// `$0 "$@"` carries the command without any quoting of ours.
const ENTER = ['--net', '--map-root-user', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

/**
 * Outside the namespace: runs this same script (node, its flags, its arguments) again under
 * `unshare --net --map-root-user`, then exits with that run's status; it never returns.
 * Inside: checks that `lo` is the only interface and returns. `label` starts every message.
 * A machine where unshare is not permitted gets one line saying so and exit 2: the script never
 * falls back to the real network.
 */
export function enterNetworkNamespace(label) {
  if (process.env[INSIDE] === '1') {
    refuseUnlessLoopbackOnly(label);
    return;
  }
  // A probe first, so that the run's own exit status is never mistaken for unshare's.
  const probe = spawnSync('unshare', [...ENTER, 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? (probe.stderr.trim().split('\n').pop() || `exit ${probe.status}`);
    console.error(`${label}: cannot make a network namespace with only loopback (unshare --net --map-root-user: ${why}); nothing was run`);
    process.exit(2);
  }
  const r = spawnSync('unshare', [...ENTER, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE]: '1' },
  });
  if (r.error) console.error(`${label}: the run in the network namespace did not start (${r.error.message})`);
  process.exit(r.status ?? 1);
}

/** The network interfaces this process sees besides `lo`; `ip` failing counts as one (nothing is known). */
export function interfacesBesidesLoopback() {
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' });
  if (links.error || links.status !== 0) return [`(ip -o link failed: ${links.error?.message ?? links.stderr.trim()})`];
  return links.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim()).filter((n) => n !== 'lo');
}

function refuseUnlessLoopbackOnly(label) {
  const others = interfacesBesidesLoopback();
  if (others.length > 0) {
    console.error(`${label}: refusing to run, interfaces besides lo: ${others.join(', ')}`);
    process.exit(2);
  }
}
