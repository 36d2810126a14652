import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { ConfigError } from '../../shared/errors.js';
import { contractRepo, runOnlineStoreContract } from './online-store.contract.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ctloop-online-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

runOnlineStoreContract('embedded', async () => {
  const dir = await freshDir();
  return { store: await EmbeddedOnlineStore.open({ dir }), reopen: () => EmbeddedOnlineStore.open({ dir }) };
});

describe('embedded online store specifics', () => {
  const view = contractRepo.view('driver_stats');
  const rec = (id: number, ms: number, rating: number) => ({ key: [id], eventTime: new Date(ms), createdTime: new Date(0), ingestId: `i${ms}`, values: { rating } });

  it('drops a torn last line (a crash while appending) and keeps every complete one', async () => {
    const dir = await freshDir();
    const s = await EmbeddedOnlineStore.open({ dir });
    await s.write(view, [rec(1, 1000, 1)]);
    await s.write(view, [rec(2, 1000, 2)]);
    await s.close();
    await appendFile(join(dir, 'driver_stats.jsonl'), '{"k":[1],"e":99999,"c":0,"i":"x","v":{"rat');
    const again = await EmbeddedOnlineStore.open({ dir });
    expect((await again.read(view, [[1], [2]])).map((r) => r?.values.rating)).toEqual([1, 2]);
    await again.write(view, [rec(3, 1000, 3)]);
    await again.close();
    const text = await readFile(join(dir, 'driver_stats.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n').map((l) => JSON.parse(l).k[0]).sort()).toEqual([1, 2, 3]);
  });

  it('compacts the log to one line per entity on close', async () => {
    const dir = await freshDir();
    const s = await EmbeddedOnlineStore.open({ dir });
    for (let i = 0; i < 5; i++) await s.write(view, [rec(1, 1000 + i, i), rec(2, 1000 + i, i)]);
    await s.close();
    expect((await readFile(join(dir, 'driver_stats.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('refuses a second writer process but lets readers in; a reader of a missing folder says nothing was stored', async () => {
    const dir = await freshDir();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'LOCK'), String(process.ppid)); // a live process other than this one
    const err = await EmbeddedOnlineStore.open({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/being written by process/);
    const reader = await EmbeddedOnlineStore.open({ dir, readOnly: true });
    expect(await reader.read(view, [[1]])).toEqual([null]);
    await reader.close();
    const none = await EmbeddedOnlineStore.open({ dir: join(dir, 'absent'), readOnly: true });
    await expect(none.read(view, [[1]])).rejects.toThrow(/nothing has been stored yet: there is no online store at .*absent/);
    await none.close();
  });
});
