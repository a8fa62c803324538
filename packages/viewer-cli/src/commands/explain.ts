import type { Command } from 'commander';

// Placeholder until the CLI issue lands: the default command, `stall-why <trace...>`.
export function registerExplainCommand(program: Command): void {
  program
    .argument('[trace...]', 'trace files or directories (flight recorder, OTLP JSON, Codex rollout, Chrome trace)')
    .action((traces: string[]) => {
      if (traces.length === 0) {
        program.help({ error: true });
      }
      process.stderr.write('stall-why: explaining traces is not yet implemented\n');
      process.exitCode = 2;
    });
}
