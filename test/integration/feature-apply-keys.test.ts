import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { parseFeatureRepo, type FeatureRepoInput } from '../../shared/features/definitions.js';
import { BreakingChangeError } from '../../shared/errors.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepoInput } from '../helpers/feature-fixtures.js';

/** testRepoInput with the route entity's join keys replaced. */
function withRouteKeys(joinKeys: { name: string; type: 'STRING' | 'INT64' }[]): FeatureRepoInput {
  const input = structuredClone(testRepoInput);
  input.entities[0] = { name: 'route', joinKeys };
  return input;
}

describe('join-key changes are breaking', () => {
  let w: Warehouse;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, cleanup } = await duckStore()));
  afterEach(async () => cleanup());

  const columns = async (t: string) => (await w.getTable(t))!.columns.map((c) => `${c.name}:${c.mode}`);

  it.each([
    ['a key added', [{ name: 'origin', type: 'STRING' }, { name: 'dest', type: 'STRING' }, { name: 'carrier', type: 'STRING' }], /from \(origin STRING, dest STRING\) to \(origin STRING, dest STRING, carrier STRING\) \(carrier added\)/],
    ['a key removed', [{ name: 'origin', type: 'STRING' }], /\(dest removed\)/],
    ['a key renamed', [{ name: 'origin', type: 'STRING' }, { name: 'destination', type: 'STRING' }], /\(destination added, dest removed\)/],
    ['a key retyped', [{ name: 'origin', type: 'STRING' }, { name: 'dest', type: 'INT64' }], /\(dest retyped STRING → INT64\)/],
  ] as const)('refuses %s and leaves every table untouched', async (_what, keys, reason) => {
    const before = await Promise.all(['fv_route_stats', 'fv_driver_stats'].map(columns));
    const apply = applyFeatureRepo(w, parseFeatureRepo(withRouteKeys([...keys])));
    await expect(apply).rejects.toBeInstanceOf(BreakingChangeError);
    await expect(applyFeatureRepo(w, parseFeatureRepo(withRouteKeys([...keys])))).rejects.toThrow(reason);
    await expect(applyFeatureRepo(w, parseFeatureRepo(withRouteKeys([...keys])))).rejects.toMatchObject({ hint: expect.stringMatching(/new feature view with its own name/) });
    expect(await Promise.all(['fv_route_stats', 'fv_driver_stats'].map(columns))).toEqual(before);
  });

  it('a key that stays a column (demoted to a feature) is still a key change', async () => {
    const input = withRouteKeys([{ name: 'origin', type: 'STRING' }]);
    input.featureViews[0] = { ...input.featureViews[0]!, features: [...input.featureViews[0]!.features, { name: 'dest', type: 'STRING' }] };
    await expect(applyFeatureRepo(w, parseFeatureRepo(input))).rejects.toThrow(/feature view route_stats \(table fv_route_stats\): join keys of entity route would change .*\(dest removed\)/);
  });

  it('a dry run reports the refusal too, and unchanged keys with a new feature still migrate', async () => {
    await expect(applyFeatureRepo(w, parseFeatureRepo(withRouteKeys([{ name: 'origin', type: 'STRING' }])), { dryRun: true })).rejects.toThrow(/dest removed/);
    const more = structuredClone(testRepoInput);
    more.featureViews[0]!.features.push({ name: 'cancelled', type: 'INT64' });
    const res = await applyFeatureRepo(w, parseFeatureRepo(more));
    expect(res.changes.filter((c) => c.action === 'add_columns').map((c) => c.table)).toEqual(['fv_route_stats']);
  });
});

describe('the warehouse online table of earlier versions', () => {
  let w: Warehouse;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ warehouse: w, cleanup } = await duckStore()));
  afterEach(async () => cleanup());

  it('is no longer created, and an old one left in the database neither fails apply nor is touched', async () => {
    expect(await w.getTable('fv_route_stats__online')).toBeNull();
    // A database from before the online store: the old latest-value table, with the view's keys and a row.
    await w.execute('CREATE TABLE fv_route_stats__online (origin VARCHAR NOT NULL, dest VARCHAR NOT NULL, event_ts TIMESTAMPTZ NOT NULL, avg_delay DOUBLE)');
    await w.execute("INSERT INTO fv_route_stats__online VALUES ('A', 'B', TIMESTAMPTZ '2026-01-01 00:00:00+00', 1.5)");
    const more = structuredClone(testRepoInput);
    more.featureViews[0]!.features.push({ name: 'cancelled', type: 'INT64' });
    const res = await applyFeatureRepo(w, parseFeatureRepo(more));
    expect(res.changes.map((c) => c.table)).not.toContain('fv_route_stats__online');
    expect((await w.getTable('fv_route_stats__online'))!.columns.map((c) => c.name)).toEqual(['origin', 'dest', 'event_ts', 'avg_delay']);
    expect(await w.query('SELECT COUNT(*) AS n FROM fv_route_stats__online')).toEqual([{ n: 1 }]);
  });
});
