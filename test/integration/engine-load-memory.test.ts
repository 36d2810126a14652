import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { testRepo } from '../helpers/feature-fixtures.js';

/**
 * A file load inside the engine stays within DuckDB's memory limit: the file's table and the steps over it spill.
 * The newest row per entity used to be one arg_max over every row of the file, whose states do not spill: under a
 * small limit a large file failed with "Out of Memory Error" — 4M rows at 256 MB in the load benchmark
 * (`CTLOOP_DUCKDB_MEMORY_LIMIT=256MB BENCH_SCALE=full npm run bench -- load`), too large for a test. This test is the
 * guard at test size: 600k rows of 150k entities under 96 MB stay in the engine (not the row-by-row fallback) and are
 * all stored. Below ~64 MB DuckDB's CSV reader alone cannot get its 30 MB buffers.
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('file load inside the engine under a small memory limit', () => {
  it('loads 600k rows of 150k entities with DuckDB limited to 96 MB, every row stored and the newest per entity online', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-load-mem-'));
    dirs.push(dir);
    const repo = testRepo();
    const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb'), memoryLimit: '96MB' });
    const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    try {
      await applyFeatureRepo(warehouse, repo);
      const file = join(dir, 'big.csv');
      const out = createWriteStream(file);
      out.write('origin,dest,event_ts,avg_delay,flights,note\n');
      const T0 = Date.parse('2001-01-01T00:00:00Z');
      for (let i = 0; i < 600_000; i++) {
        const line = `O${i % 150_000},D1,${new Date(T0 + i * 1000).toISOString()},${(i % 1000) / 10},${i % 50},note ${i}\n`;
        if (!out.write(line)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      const paths: string[] = [];
      const res = await loadFeatureFile(
        { warehouse, online, repo, objectStore: new LocalObjectStore(join(dir, 'o')), onPath: (p, why) => paths.push(why ? `${p}: ${why}` : p) },
        { view: 'route_stats', uri: file },
      );
      expect(paths).toEqual(['engine']);
      expect(res).toMatchObject({ received: 600_000, accepted: 600_000, quarantined: 0 });
      // Each entity (O<n>, D1) has 4 rows; its newest is the last, row 450,000 + n.
      const got = await online.read(repo.view('route_stats'), [['O7', 'D1'], ['O149999', 'D1']]);
      expect(got.map((r) => r?.values.note)).toEqual(['note 450007', 'note 599999']);
    } finally {
      await online.close();
      await warehouse.close();
    }
  });
});
