import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { compactDay, offlineCompactTarget, quarantineCompactTarget, yesterday } from '../../shared/features/compact.js';
import { GroupCommitIngestor } from '../../shared/features/group-commit.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { testRepo } from '../helpers/feature-fixtures.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

/** compact-features on BigQuery (ZetaSQL-checked stand-in): one MERGE per table per day removes appended copies. */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[compact-features] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('compaction of yesterday\'s partition', () => {
  const repo = testRepo();
  const view = repo.view('route_stats');
  let bq: BigQueryTestWarehouse;
  let dir: string;
  let online: OnlineStore;
  const DAY1 = Date.parse('2001-06-01T00:00:00Z');
  const DAY2 = DAY1 + 86_400_000;
  const count = async (day: number) => {
    const [r] = await bq.warehouse.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT _ingest_id) AS u FROM ${bq.warehouse.dialect.table(view.table)} WHERE event_ts >= TIMESTAMP '${new Date(day).toISOString()}' AND event_ts < TIMESTAMP '${new Date(day + 86_400_000).toISOString()}'`);
    return [Number(r!.n), Number(r!.u)];
  };

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse({ storageWrite: true });
    dir = await mkdtemp(join(tmpdir(), 'ctloop-compact-'));
    online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    await applyFeatureRepo(bq.warehouse, repo);
    const rows = (day: number) => Array.from({ length: 3 }, (_, i) => ({ origin: `O${i}`, dest: 'D', event_ts: new Date(day + i * 3_600_000).toISOString(), avg_delay: i, flights: i }));
    const ing = () => new GroupCommitIngestor({ warehouse: bq.warehouse, online, repo });
    // Day 1 and day 2 events, each delivered twice; one with a bad row (quarantined twice).
    for (let k = 0; k < 2; k++) {
      await ing().ingest({ view: view.name, sourceId: 'd1', rows: [...rows(DAY1), { origin: 'X', event_ts: 'bad' }], createdAt: new Date(DAY1) });
      await ing().ingest({ view: view.name, sourceId: 'd2', rows: rows(DAY2), createdAt: new Date(DAY2) });
    }
  });
  afterAll(async () => {
    await bq?.cleanup();
    await online?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('removes the copies of that day only, with one DML statement, and a rerun issues none', async () => {
    expect(await count(DAY1)).toEqual([6, 3]);
    const day = yesterday(new Date(DAY2 + 6 * 3_600_000)); // triggered at 06:00 on day 2 → day 1
    expect(day.getTime()).toBe(DAY1);
    const before = bq.standin.statements.length;
    const res = await compactDay(bq.warehouse, offlineCompactTarget(repo, view.name), day);
    expect(res).toEqual({ table: view.table, day: '2001-06-01', before: 6, after: 3 });
    const dml = bq.standin.statements.slice(before).filter((s) => /^\s*(MERGE|DELETE|UPDATE|INSERT)\b/i.test(s));
    expect(dml).toHaveLength(1);
    expect(await count(DAY1)).toEqual([3, 3]);
    expect(await count(DAY2)).toEqual([6, 3]); // today's partition untouched
    const again = bq.standin.statements.length;
    expect(await compactDay(bq.warehouse, offlineCompactTarget(repo, view.name), day)).toMatchObject({ before: 3, after: 3 });
    expect(bq.standin.statements.slice(again).filter((s) => /^\s*MERGE\b/i.test(s))).toEqual([]);
  });

  it('compacts the quarantine by (view, ingest id)', async () => {
    // quarantined_at is the ingest time: compact the day the copies were stamped with.
    const [r] = await bq.warehouse.query(`SELECT MIN(quarantined_at) AS t FROM ${bq.warehouse.dialect.table('_quarantine')}`);
    const stamped = new Date(Math.floor((r!.t as Date).getTime() / 86_400_000) * 86_400_000);
    const res = await compactDay(bq.warehouse, quarantineCompactTarget, stamped);
    expect(res).toMatchObject({ before: 2, after: 1 });
  });
});
