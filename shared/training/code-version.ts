import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../runtime/log.js';

/**
 * Which code a training run was launched by (recorded with the run: `ctloop runs show|compare`).
 *
 * A deployed Cloud Function has no git: infra/scripts/stage-functions.mjs writes `build-info.json` (the commit it
 * staged, from `--commit`, $COMMIT_SHA or git) at the root of each function's package, beside its package.json.
 * So: that file when present, else git in the working directory (a checkout), else `unknown`.
 */
export const BUILD_INFO_FILE = 'build-info.json';

export interface BuildInfo {
  commit: string;
  /** Tracked files differed from the commit when staged. */
  dirty?: boolean;
}

const COMMIT = /^[0-9a-f]{7,40}$/;

/** The nearest directory at or above `from` holding a package.json (the staged function's root, or the repository's). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

export function formatCodeVersion(info: BuildInfo): string {
  return `git:${info.commit.slice(0, 12)}${info.dirty ? '+dirty' : ''}`;
}

/** Uncached: build-info.json under `root`, else `git rev-parse` in `cwd`, else 'unknown'. */
export function readCodeVersion(opts: { root?: string | null; cwd?: string } = {}): string {
  const root = opts.root === undefined ? packageRoot() : opts.root;
  const file = root ? join(root, BUILD_INFO_FILE) : null;
  if (file && existsSync(file)) {
    try {
      const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<BuildInfo>;
      if (typeof info.commit === 'string' && COMMIT.test(info.commit)) return formatCodeVersion({ commit: info.commit, dirty: info.dirty === true });
      log('warning', `${file} has no valid commit; the code version falls back to git`, { commit: info.commit });
    } catch (err) {
      log('warning', `cannot read ${file}; the code version falls back to git`, { error: (err as Error).message });
    }
  }
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: opts.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    if (COMMIT.test(sha)) return formatCodeVersion({ commit: sha });
  } catch {
    /* no git, or not a checkout */
  }
  return 'unknown';
}

let cached: string | undefined;
/** The code version of this process, read once. */
export function codeVersion(): string {
  cached ??= readCodeVersion();
  return cached;
}
