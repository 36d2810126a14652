import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_INFO_FILE, packageRoot, readCodeVersion } from '../../../shared/training/code-version.js';
import { repoRoot } from '../../helpers/training-fixture.js';

/**
 * A deployed function has no git: the code version of its training runs comes from the build-info.json that
 * infra/scripts/stage-functions.mjs writes at the root of the staged package (test/infra/stage-functions.test.ts).
 */
const tmp = mkdtempSync(join(tmpdir(), 'ctloop-codeversion-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SHA = '0123456789abcdef0123456789abcdef01234567';

/** A staged function package in miniature: package.json at the root, the compiled module three levels down, no git. */
function staged(name: string, buildInfo?: string): { root: string; moduleDir: string } {
  const root = join(tmp, name);
  const moduleDir = join(root, 'dist/shared/training');
  mkdirSync(moduleDir, { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"ctloop-launch-training"}');
  if (buildInfo !== undefined) writeFileSync(join(root, BUILD_INFO_FILE), buildInfo);
  return { root, moduleDir };
}

describe('code version of a training run', () => {
  it('a staged function without git reads the commit from build-info.json beside its package.json', () => {
    const { root, moduleDir } = staged('clean', JSON.stringify({ commit: SHA, dirty: false }));
    expect(packageRoot(moduleDir)).toBe(root);
    expect(readCodeVersion({ root: packageRoot(moduleDir), cwd: root })).toBe('git:0123456789ab');
    const dirty = staged('dirty', JSON.stringify({ commit: SHA, dirty: true }));
    expect(readCodeVersion({ root: dirty.root, cwd: dirty.root })).toBe('git:0123456789ab+dirty');
  });

  it('without build-info.json and without git it is "unknown" (what a deployed function recorded before)', () => {
    const { root } = staged('none');
    expect(readCodeVersion({ root, cwd: root })).toBe('unknown');
  });

  it('a build-info.json without a valid commit is not trusted (falls back)', () => {
    for (const [name, text] of [['bad-sha', '{"commit":"main"}'], ['not-json', '{commit']] as const) {
      const { root } = staged(name, text);
      expect(readCodeVersion({ root, cwd: root }), name).toBe('unknown');
    }
  });

  it('in a checkout without build-info.json it is the git commit of the working directory', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).toString().trim();
    expect(readCodeVersion({ root: null, cwd: repoRoot })).toBe(`git:${head.slice(0, 12)}`);
  });
});
