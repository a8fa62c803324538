/**
 * Whether Codex asks a person before applying a patch, as its `assess_patch_safety` decides: under
 * the on-request policy a patch runs unasked only when every path it writes lies in a writable root
 * of the sandbox (the working directory, `writable_roots` and 0.14x's `workspace_roots`, `/tmp` unless excluded) and outside the
 * folders Codex keeps read-only in them (`.git`, `.codex`); a read-only sandbox asks for every patch,
 * full access for none. Rollouts write no approval request in versions before the approval events,
 * so this is how an `apply_patch` call left open, or answered long after it was made, is read
 * (test/corpus/wild/fifth: 0.87 with a read-only sandbox, 0.106 writing under `.codex/`).
 */
import { posix, win32 } from 'node:path';

/** The sandbox a turn_context names, as far as patches care. */
export interface PatchSandbox {
  /** `read-only`, `workspace-write`, `danger-full-access` (`type` since 0.9x, `mode` before). */
  readonly mode: string | undefined;
  readonly cwd: string | undefined;
  readonly writableRoots: readonly string[];
  readonly excludeSlashTmp: boolean;
}

const SANDBOX_MODE = /"sandbox_policy"\s*:\s*\{\s*"(?:type|mode)"\s*:\s*"([a-z-]+)"/;
/** Roots the sandbox lets Codex write besides the working directory (`workspace_roots` in a 0.14x turn_context). */
const WRITABLE_ROOTS = /"(?:writable_roots|workspace_roots)"\s*:\s*(\[[^\]]*\])/g;
const EXCLUDE_SLASH_TMP = /"exclude_slash_tmp"\s*:\s*true/;
/** Folders Codex keeps read-only inside a writable root. */
const READ_ONLY_FOLDERS = ['.git', '.codex'];
/** The paths a patch writes: added, updated, deleted and moved-to files. */
const PATCH_PATH = /\*\*\* (?:Add File|Update File|Delete File|Move to): ([^\n]+)/g;

/** The sandbox of a turn_context line, read from its head. */
export function patchSandbox(head: string, cwd: string | undefined): PatchSandbox {
  const writableRoots: string[] = [];
  for (const m of head.matchAll(WRITABLE_ROOTS)) {
    try {
      const parsed = JSON.parse(m[1]!) as unknown;
      if (Array.isArray(parsed)) for (const r of parsed) if (typeof r === 'string') writableRoots.push(r);
    } catch {
      // A list cut by the head's end: no extra roots.
    }
  }
  return { mode: SANDBOX_MODE.exec(head)?.[1], cwd, writableRoots, excludeSlashTmp: EXCLUDE_SLASH_TMP.test(head) };
}

/**
 * The text of a patch a call carries: the `input` of an `apply_patch` custom tool call, or the
 * patch inside a function call's arguments (`{"input": …}`, or `apply_patch` run as a command).
 * Undefined when the call carries none or its line was too long to parse.
 */
export function patchText(payload: Record<string, unknown> | undefined): string | undefined {
  if (!payload) return undefined;
  const texts: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  collect(payload.input);
  if (typeof payload.arguments === 'string') {
    try {
      collect(JSON.parse(payload.arguments));
    } catch {
      texts.push(payload.arguments);
    }
  }
  return texts.find((t) => t.includes('*** Begin Patch'));
}

/** Whether Codex asks before applying a patch (its text read when needed) under the on-request policy (see the module comment). */
export function patchAsksOnRequest(sandbox: PatchSandbox, patchOf: () => string | undefined): boolean {
  if (sandbox.mode === 'read-only') return true;
  if (sandbox.mode !== 'workspace-write' || sandbox.cwd === undefined) return false;
  // Read only here: it may parse the whole call line.
  const patch = patchOf();
  if (patch === undefined) return false;
  const path = /^[A-Za-z]:[\\/]|^\\\\/.test(sandbox.cwd) ? win32 : posix;
  const cwd = sandbox.cwd;
  const roots = [cwd, ...sandbox.writableRoots, ...(sandbox.excludeSlashTmp || path === win32 ? [] : ['/tmp'])].map((r) => path.resolve(cwd, r));
  const within = (p: string, root: string): boolean => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  for (const m of patch.matchAll(PATCH_PATH)) {
    const target = path.resolve(cwd, m[1]!.trim());
    const writable = roots.some((root) => within(target, root) && !READ_ONLY_FOLDERS.some((f) => within(target, path.join(root, f))));
    if (!writable) return true;
  }
  return false;
}
