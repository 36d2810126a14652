import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo, testRepoInput } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const T0 = new Date('2001-03-01T00:00:00Z');
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000).toISOString();

describe('feature ingest on DuckDB', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, online, cleanup } = await duckStore()));
  afterEach(() => cleanup());

  const count = async (table: string) => Number((await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table(table)}`))[0]!.n);

  it('stores the same event delivered 5 times exactly once', async () => {
    const rows = [
      { origin: 'SFO', dest: 'LAX', event_ts: at(1), avg_delay: 3.5, flights: 10, note: 'a' },
      { origin: 'SFO', dest: 'JFK', event_ts: at(2), avg_delay: null, flights: 2, note: null },
    ];
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'evt-1', rows, createdAt: T0 }));
    expect(results.map((r) => r.inserted)).toEqual([2, 0, 0, 0, 0]);
    expect(await count('fv_route_stats')).toBe(2);
    const latest = await online.read(repo.view('route_stats'), [['SFO', 'LAX'], ['SFO', 'JFK']]);
    expect(latest.map((r) => r?.ingestId)).toEqual(['evt-1:0', 'evt-1:1']);
  });

  it('stores good rows and quarantines poison rows with reasons and the raw row', async () => {
    const rows = [
      { origin: 'SFO', dest: 'LAX', event_ts: at(1), avg_delay: 1, flights: 1 },
      { origin: 'SFO', dest: 'LAX', event_ts: 'not a time', avg_delay: 1 },
      { origin: null, dest: 'LAX', event_ts: at(1) },
      { origin: 'SFO', dest: 'LAX', event_ts: at(2), flights: 1.5 },
      { origin: 'SFO', dest: 'LAX', event_ts: at(2), surprise: true },
      'not an object',
      { origin: 'OAK', dest: 'LAX', event_ts: at(3), avg_delay: '2.5', flights: '7' },
    ];
    const r = await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'evt-2', rows, createdAt: T0 });
    expect(r).toMatchObject({ received: 7, accepted: 2, inserted: 2, quarantined: 5 });
    const q = await w.query(`SELECT ingest_id, reason, raw FROM ${w.dialect.table('_quarantine')} ORDER BY ingest_id`);
    expect(q.map((x) => x.ingest_id)).toEqual(['evt-2:1', 'evt-2:2', 'evt-2:3', 'evt-2:4', 'evt-2:5']);
    expect(q[0]!.reason).toMatch(/event_ts: expected an ISO-8601 timestamp/);
    expect(q[1]!.reason).toMatch(/origin: join key is required/);
    expect(q[2]!.reason).toMatch(/flights: expected INT64, got 1.5/);
    expect(q[3]!.reason).toMatch(/surprise: not a field of view route_stats/);
    expect(q[4]!.reason).toMatch(/row is not an object/);
    expect(JSON.parse(String(q[1]!.raw))).toEqual(rows[2]);
    // redelivery quarantines nothing twice
    await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: 'evt-2', rows, createdAt: T0 });
    expect(await count('_quarantine')).toBe(5);
    const oak = await w.query(`SELECT avg_delay, flights FROM ${w.dialect.table('fv_route_stats')} WHERE origin = 'OAK'`);
    expect(oak).toEqual([{ avg_delay: 2.5, flights: 7 }]);
  });

  it('keeps the newest value online: an older event never overwrites a newer one', async () => {
    const deps = { warehouse: w, online, repo, now: () => new Date(at(5)) };
    await ingestRows(deps, { view: 'route_stats', sourceId: 'new', rows: [{ origin: 'A', dest: 'B', event_ts: at(4), avg_delay: 40 }], createdAt: T0 });
    await ingestRows(deps, { view: 'route_stats', sourceId: 'old', rows: [{ origin: 'A', dest: 'B', event_ts: at(1), avg_delay: 10 }], createdAt: T0 });
    let res = await getOnlineFeatures(deps, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }], features: ['avg_delay'] });
    expect(res.results[0]!.values).toEqual([40]);
    // Same event time: the later created time wins (driver_stats has a source created column).
    await ingestRows(deps, { view: 'driver_stats', sourceId: 'd1', rows: [{ driver_id: 7, event_ts: at(1), created: at(2), rating: 4.0 }], createdAt: T0 });
    await ingestRows(deps, { view: 'driver_stats', sourceId: 'd0', rows: [{ driver_id: 7, event_ts: at(1), created: at(1), rating: 1.0 }], createdAt: T0 });
    res = await getOnlineFeatures(deps, { view: 'driver_stats', entities: [{ driver_id: 7 }] });
    expect(res.results[0]!.values).toEqual([4.0]);
    // Within one batch, the newest row per entity wins, whatever the order of rows.
    await ingestRows(deps, { view: 'route_stats', sourceId: 'b', rows: [
      { origin: 'C', dest: 'D', event_ts: at(3), avg_delay: 3 },
      { origin: 'C', dest: 'D', event_ts: at(4), avg_delay: 4 },
      { origin: 'C', dest: 'D', event_ts: at(2), avg_delay: 2 },
    ], createdAt: T0 });
    res = await getOnlineFeatures(deps, { view: 'route_stats', entities: [{ origin: 'C', dest: 'D' }], features: ['avg_delay'] });
    expect(res.results[0]!.values).toEqual([4]);
  });

  it('reports PRESENT, NULL_VALUE, NOT_FOUND and OUTSIDE_MAX_AGE with event timestamps', async () => {
    const ingest = (sourceId: string, rows: unknown[]) => ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId, rows, createdAt: T0 });
    await ingest('e', [
      { origin: 'A', dest: 'B', event_ts: at(10), avg_delay: 5, flights: null },
      { origin: 'OLD', dest: 'B', event_ts: at(0), avg_delay: 9, flights: 1 },
    ]);
    const res = await getOnlineFeatures({ online, repo, now: () => new Date(at(30)) }, {
      view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }, { origin: 'NOPE', dest: 'B' }, { origin: 'OLD', dest: 'B' }], features: ['avg_delay', 'flights'],
    });
    expect(res.metadata.feature_names).toEqual(['avg_delay', 'flights']);
    expect(res.results[0]).toEqual({ values: [5, null, null], statuses: ['PRESENT', 'NOT_FOUND', 'OUTSIDE_MAX_AGE'], event_timestamps: [at(10), null, at(0)] });
    expect(res.results[1]!.statuses).toEqual(['NULL_VALUE', 'NOT_FOUND', 'OUTSIDE_MAX_AGE']);
    // As of a time before the stored latest value, the online table cannot answer: NOT_FOUND, never the future.
    const before = await getOnlineFeatures({ online, repo }, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }], features: ['avg_delay'], asOf: new Date(at(5)) });
    expect(before.results[0]).toEqual({ values: [null], statuses: ['NOT_FOUND'], event_timestamps: [null] });
  });

  it('applies additive changes and refuses breaking ones without touching anything', async () => {
    const added = structuredClone(testRepoInput);
    added.featureViews[0]!.features.push({ name: 'cancelled', type: 'INT64' });
    const res = await applyFeatureRepo(w, parseFeatureRepo(added));
    expect(res.changes.filter((c) => c.action === 'add_columns').map((c) => c.table)).toEqual(['fv_route_stats']);
    const broken = structuredClone(added);
    broken.featureViews[0]!.features[0]!.type = 'STRING';
    broken.featureViews[1]!.features.push({ name: 'new_one', type: 'FLOAT64' });
    await expect(applyFeatureRepo(w, parseFeatureRepo(broken))).rejects.toMatchObject({ code: 'BREAKING_CHANGE', message: expect.stringMatching(/avg_delay would change type FLOAT64 → STRING/) });
    expect((await w.getTable('fv_driver_stats'))!.columns.map((c) => c.name)).not.toContain('new_one');
    const dropped = structuredClone(testRepoInput);
    dropped.featureViews[0]!.features = dropped.featureViews[0]!.features.slice(0, 1);
    dropped.featureServices = [];
    await expect(applyFeatureRepo(w, parseFeatureRepo(dropped))).rejects.toThrow(/flights \(INT64\) would be dropped/);
  });
});
