import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('DuckDB warehouse settings (a file load stays within memory and spills inside the state directory)', () => {
  it('applies the memory limit and spills next to the database file, or where asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-duck-settings-'));
    dirs.push(dir);
    const setting = async (w: Awaited<ReturnType<typeof createDuckDbWarehouse>>, name: string) => String((await w.query(`SELECT current_setting('${name}') AS v`))[0]!.v);
    const a = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb'), memoryLimit: '256MB' });
    expect(await setting(a, 'memory_limit')).toMatch(/^(256\.0 MB|244\.1 MiB)$/);
    expect(await setting(a, 'temp_directory')).toBe(join(dir, 'w.duckdb.tmp'));
    await a.close();
    const b = await createDuckDbWarehouse({ path: join(dir, 'w2.duckdb'), tempDirectory: join(dir, 'spill') });
    expect(await setting(b, 'temp_directory')).toBe(join(dir, 'spill'));
    await b.close();
  });
});
