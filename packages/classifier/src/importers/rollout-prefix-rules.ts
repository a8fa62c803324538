/**
 * Command prefixes a person approved for the rest of a session ("Approved command prefix saved:",
 * a developer message since 0.10x): Codex runs a later command they cover without asking, escalated
 * or not (test/corpus/wild/more: 0.120, where calls under a saved `rtk git add` ran 0.1 s after they
 * were made). A command is covered when it is a plain sequence of commands (joined by `&&`, `||`, `;`
 * or `|`) each starting with a saved prefix, as Codex's own rule matching reads a `bash -lc` script;
 * anything else (a redirection, a substitution, a heredoc) is matched whole, and is not covered here.
 */

/** At most this many prefixes are kept for a session: a bound, far above what sessions save. */
const MAX_SAVED_PREFIXES = 256;
/** Characters that make a script more than a plain sequence of commands. */
const NOT_PLAIN = /[<>`$(){}\n\\]/;

/** The prefixes a saved-prefix message lists (`- ["git", "add"]` per line). */
export function savedPrefixesOf(text: string): string[][] {
  const out: string[][] = [];
  for (const m of text.matchAll(/^- (\[.*\])\s*$/gm)) {
    try {
      const prefix = JSON.parse(m[1]!) as unknown;
      if (Array.isArray(prefix) && prefix.length > 0 && prefix.every((t) => typeof t === 'string')) out.push(prefix as string[]);
    } catch {
      // Not a list: not a prefix.
    }
  }
  return out;
}

/** The session's saved prefixes, bounded. */
export class SavedPrefixes {
  private readonly prefixes: string[][] = [];

  add(text: string): void {
    for (const p of savedPrefixesOf(text)) if (this.prefixes.length < MAX_SAVED_PREFIXES) this.prefixes.push(p);
  }

  /** Whether every command of the call's command line starts with a saved prefix; the call is parsed only if a prefix was saved. */
  cover(payloadOf: () => Record<string, unknown> | undefined): boolean {
    if (this.prefixes.length === 0) return false;
    const commands = commandsOf(payloadOf());
    return commands !== undefined && commands.length > 0 && commands.every((argv) => this.prefixes.some((p) => p.length <= argv.length && p.every((t, i) => argv[i] === t)));
  }
}

/** The commands a call runs, each as its words; undefined when its command line is not a plain sequence. */
function commandsOf(payload: Record<string, unknown> | undefined): string[][] | undefined {
  if (!payload || typeof payload.arguments !== 'string') return undefined;
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(payload.arguments) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { cmd, command } = args;
  // exec_command's `cmd` and shell_command's `command` are scripts; shell's `command` is an argv, a script after `bash -lc`.
  if (typeof cmd === 'string') return plainCommands(cmd);
  if (typeof command === 'string') return plainCommands(command);
  if (Array.isArray(command) && command.every((t) => typeof t === 'string')) {
    const argv = command as string[];
    if (argv.length === 3 && /(?:^|\/)(?:ba|z)?sh$/.test(argv[0]!) && (argv[1] === '-lc' || argv[1] === '-c')) return plainCommands(argv[2]!);
    return [argv];
  }
  return undefined;
}

/** A script's commands split at `&&`, `||`, `;` and `|`, each as its words (quotes removed); undefined if it is not that plain. */
function plainCommands(script: string): string[][] | undefined {
  if (NOT_PLAIN.test(script)) return undefined;
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (): boolean => {
    endWord();
    if (words.length === 0) return false;
    commands.push(words);
    words = [];
    return true;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === ';' || c === '|' || c === '&') {
      // `&&`, `||`, `|`, `;`: a single `&` (run in the background) is not plain.
      if (c === '&' && script[i + 1] !== '&') return undefined;
      if (!endCommand()) return undefined;
      if ((c === '&' || c === '|') && script[i + 1] === c) i++;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote || !endCommand()) return undefined;
  return commands;
}
