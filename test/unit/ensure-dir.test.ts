import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir } from '../../shared/ensure-dir.js';

describe('ensureDir', () => {
  it('creates every missing level and accepts existing ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ctloop-ensure-'));
    try {
      await ensureDir(join(root, 'a', 'b', 'c'));
      await ensureDir(join(root, 'a', 'b', 'c'));
      expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
      writeFileSync(join(root, 'f'), 'x');
      await expect(ensureDir(join(root, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
      await expect(ensureDir(join(root, 'f', 'g'))).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  // Node 20's recursive mkdir never settles here (the kernel answers ENOENT under /proc): ensureDir must fail.
  it.skipIf(!existsSync('/proc/self'))('fails (rather than hangs) where a level cannot be created', async () => {
    await expect(ensureDir('/proc/ctloop-not-here/x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
