// What the load benchmarks (http-middleware.mjs, upstream-proxy.mjs) share: their command-line
// options and the statistics they print.

/** The value after `name` on the command line, or `fallback`. */
export function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

/**
 * `--rounds`, `--requests`, `--warmup`, `--connections` (numbers, each with the script's default)
 * and `--before <repo root>` (another build to run in the same rounds).
 */
export function loadOptions(defaults) {
  return {
    rounds: Number(argument('--rounds', defaults.rounds)),
    requests: Number(argument('--requests', defaults.requests)),
    warmup: Number(argument('--warmup', defaults.warmup)),
    connections: Number(argument('--connections', defaults.connections)),
    before: argument('--before'),
  };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The `p`th percentile of ascending `sorted`. */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
