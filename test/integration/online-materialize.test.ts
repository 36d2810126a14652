import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { materialize } from '../../shared/features/materialize.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { bigtableEmulatorUnavailable, startBigtableEmulator } from '../helpers/bigtable-emulator.js';
import { runCli } from '../helpers/cli.js';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { duckStore, testRepo, testRepoInput } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const view = repo.view('route_stats');
const T0 = Date.parse('2001-03-01T00:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000).toISOString();

describe('materialize: online rows rebuilt from the offline table', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, online, dir, cleanup } = await duckStore()));
  afterEach(() => cleanup());

  it('fills a new store with the newest row per entity, pages through, and a rerun writes nothing', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => ({ origin: `O${i % 5}`, dest: 'D', event_ts: at(i), avg_delay: i }));
    await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'late', rows: rows.slice(10), createdAt: new Date(T0) });
    await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'early', rows: rows.slice(0, 10), createdAt: new Date(T0) });
    const fresh = await EmbeddedOnlineStore.open({ dir: join(dir, 'online-2') });
    try {
      const res = await materialize({ warehouse: w, online: fresh, repo }, { view: 'route_stats', pageSize: 2 });
      expect(res).toEqual({ view: 'route_stats', entities: 5, written: 5, pages: 3 });
      const keys = [0, 1, 2, 3, 4].map((i) => [`O${i}`, 'D']);
      expect((await fresh.read(view, keys)).map((r) => r?.values.avg_delay)).toEqual([20, 21, 22, 23, 24]);
      expect(await fresh.read(view, keys)).toEqual(await online.read(view, keys));
      expect(await materialize({ warehouse: w, online: fresh, repo }, { view: 'route_stats' })).toMatchObject({ entities: 5, written: 0 });
    } finally {
      await fresh.close();
    }
  });

  it('takes only the time range given, and never lets an older range replace newer online rows', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ origin: 'A', dest: 'B', event_ts: at(i * 10), avg_delay: i }));
    await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'e', rows, createdAt: new Date(T0) });
    const fresh = await EmbeddedOnlineStore.open({ dir: join(dir, 'online-3') });
    try {
      await materialize({ warehouse: w, online: fresh, repo }, { view: 'route_stats', from: new Date(at(20)), to: new Date(at(50)) });
      expect((await fresh.read(view, [['A', 'B']]))[0]?.values.avg_delay).toBe(4); // 40 min: the newest before 50
      await materialize({ warehouse: w, online: fresh, repo }, { view: 'route_stats', to: new Date(at(30)) });
      expect((await fresh.read(view, [['A', 'B']]))[0]?.values.avg_delay).toBe(4);
      await expect(materialize({ warehouse: w, online: fresh, repo }, { view: 'route_stats', from: new Date(at(50)), to: new Date(at(50)) })).rejects.toThrow(/is not before --to/);
    } finally {
      await fresh.close();
    }
  });
});

const unavailable = bigtableEmulatorUnavailable();
if (unavailable) console.warn(`[online-materialize] CLI part on Bigtable skipped: ${unavailable}`);

describe.skipIf(Boolean(unavailable))('ctloop features online / materialize on each online store (CLI)', () => {
  let dir: string;
  let emulator: EmulatorProcess | null = null;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-cli-online-'));
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    emulator = await startBigtableEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves ingested rows from the embedded store, then from Bigtable after a materialize', async () => {
    const base = { ...process.env, METADATA_SERVER_DETECTION: 'none', CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'features.yaml') };
    const bigtable = { ...base, CTLOOP_ONLINE_STORE: 'bigtable', BIGTABLE_EMULATOR_HOST: emulator!.host, CTLOOP_BIGTABLE_TABLE: 'cli_online' };
    expect((await runCli(['features', 'apply'], { env: base, cwd: dir })).code).toBe(0);
    // Event times near the wall clock: Bigtable's GC (max age = the view's 1d ttl) collects cells stamped long ago.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const t = (h: number) => new Date(hour - h * 3_600_000).toISOString();
    const rows = join(dir, 'rows.csv');
    await writeFile(rows, ['origin,dest,event_ts,avg_delay,flights,note', `SFO,LAX,${t(2)},6.5,4,`, `SFO,LAX,${t(4)},4.5,3,a`].join('\n'));
    expect((await runCli(['features', 'ingest', '--view', 'route_stats', '--file', rows], { env: base, cwd: dir })).code).toBe(0);
    const read = async (env: NodeJS.ProcessEnv) => JSON.parse((await runCli(['features', 'online', '--view', 'route_stats', '--key', 'origin=SFO', '--key', 'dest=LAX', '--features', 'avg_delay', '--as-of', t(0), '--format', 'json'], { env, cwd: dir })).stdout);
    expect((await read(base)).results[0]).toEqual({ values: [6.5], statuses: ['PRESENT'], event_timestamps: [t(2)] });
    expect((await read(bigtable)).results[0].statuses).toEqual(['NOT_FOUND']);
    const mat = await runCli(['features', 'materialize', '--view', 'route_stats', '--to', t(0)], { env: bigtable, cwd: dir });
    expect(mat.code).toBe(0);
    expect(mat.stdout).toMatch(/view route_stats: 1 entities read from the offline table, 1 online rows written .* bigtable online store/);
    expect((await read(bigtable)).results[0]).toEqual({ values: [6.5], statuses: ['PRESENT'], event_timestamps: [t(2)] });
    const bad = await runCli(['features', 'materialize', '--view', 'route_statz'], { env: base, cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/route_statz/);
  });
});
