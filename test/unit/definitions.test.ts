import { describe, expect, it } from 'vitest';
import { diffTable } from '../../shared/features/apply.js';
import { offlineColumns, parseFeatureRepo } from '../../shared/features/definitions.js';
import { offlineTable } from '../../shared/features/tables.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';

describe('feature definitions', () => {
  it('resolves views with their entity keys, table names and ttl in seconds', () => {
    const repo = parseFeatureRepo(testRepoInput);
    const v = repo.view('route_stats');
    expect(v).toMatchObject({ table: 'fv_route_stats', ttlSeconds: 86_400, timestampField: 'event_ts' });
    expect(v).not.toHaveProperty('onlineTable'); // online values live in the online store, not the warehouse
    expect(offlineColumns(v).map((c) => c.name)).toEqual(['origin', 'dest', 'event_ts', 'avg_delay', 'flights', 'note', '_created_ts', '_ingest_id', '_ingested_at']);
    expect(offlineTable(v)).toMatchObject({ partitionBy: 'event_ts', clusterBy: ['origin', 'dest'] });
    expect(() => repo.view('nope')).toThrow(/feature view "nope" is not defined/);
  });

  it('rejects unsafe identifiers, unknown references and collisions with a path to the problem', () => {
    const bad = structuredClone(testRepoInput);
    bad.featureViews[0]!.features.push({ name: 'drop table x', type: 'INT64' }, { name: 'select', type: 'INT64' }, { name: 'origin', type: 'STRING' });
    bad.featureViews[1]!.entity = 'ghost';
    bad.featureServices!.push({ name: 'svc', features: ['route_stats:missing'] });
    let msg = '';
    try { parseFeatureRepo(bad); } catch (e) { msg = (e as Error).message; }
    expect(msg).toMatch(/feature name must be an identifier/);
    expect(msg).toMatch(/unknown entity "ghost"/);
    expect(msg).toMatch(/column "origin" appears twice in view "route_stats"/);
    expect(msg).toMatch(/view "route_stats" has no feature "missing"/);
    expect(() => parseFeatureRepo({ ...testRepoInput, featureViews: [{ ...testRepoInput.featureViews[0]!, ttl: '3 days' }] })).toThrow(/duration must look like/);
  });

  it('plans additive migrations and refuses breaking ones', () => {
    const v = parseFeatureRepo(testRepoInput).view('route_stats');
    const want = offlineTable(v);
    expect(diffTable(want, null).action).toBe('create');
    expect(diffTable(want, { ...want }).action).toBe('unchanged');
    const older = { ...want, columns: want.columns.filter((c) => c.name !== 'note') };
    expect(diffTable(want, older)).toEqual({ table: 'fv_route_stats', action: 'add_columns', columns: [{ name: 'note', type: 'STRING', mode: 'NULLABLE' }] });
    expect(() => diffTable(older, want)).toThrow(/column note \(STRING\) would be dropped/);
    const noCreated = { ...want, columns: want.columns.filter((c) => c.name !== '_created_ts') };
    expect(() => diffTable(want, noCreated)).toThrow(/column _created_ts is REQUIRED and cannot be added to a table whose rows have no value for it/);
  });

  it('refuses unknown keys at every level with the closest valid name and the path', () => {
    const message = (input: unknown) => {
      try { parseFeatureRepo(input); } catch (e) { return (e as Error).message; }
      return 'accepted';
    };
    const view0 = testRepoInput.featureViews[0]!;
    const { ttl, ...noTtl } = view0;
    expect(ttl).toBe('1d');
    const typo = message({ ...testRepoInput, featureViews: [{ ...noTtl, tll: '1d' }, testRepoInput.featureViews[1]] });
    expect(typo).toMatch(/✖ unknown key "tll" \(did you mean "ttl"\?\)\n  → at featureViews\[0\]\.tll/);
    const cases: [unknown, RegExp][] = [
      [{ ...testRepoInput, featureview: [] }, /unknown key "featureview" \(did you mean "featureViews"\?\)\n  → at featureview/],
      [{ ...testRepoInput, entities: [{ ...testRepoInput.entities[0]!, descripton: 'x' }, testRepoInput.entities[1]] }, /unknown key "descripton" \(did you mean "description"\?\)\n  → at entities\[0\]\.descripton/],
      [{ ...testRepoInput, entities: [{ name: 'route', join_keys: testRepoInput.entities[0]!.joinKeys }, testRepoInput.entities[1]] }, /unknown key "join_keys" \(did you mean "joinKeys"\?\)\n  → at entities\[0\]\.join_keys/],
      [{ ...testRepoInput, entities: [{ name: 'route', joinKeys: [{ name: 'origin', type: 'STRING', nullable: true }] }, testRepoInput.entities[1]] }, /unknown key "nullable"; valid keys here: name, type\n  → at entities\[0\]\.joinKeys\[0\]\.nullable/],
      [{ ...testRepoInput, featureViews: [{ ...view0, features: [{ name: 'avg_delay', typ: 'FLOAT64' }] }] }, /unknown key "typ" \(did you mean "type"\?\)\n  → at featureViews\[0\]\.features\[0\]\.typ/],
      [{ ...testRepoInput, featureViews: [{ ...view0, timestamp_field: 'event_ts' }] }, /unknown key "timestamp_field" \(did you mean "timestampField"\?\)/],
      [{ ...testRepoInput, featureServices: [{ name: 's', feature: ['route_stats:avg_delay'] }] }, /unknown key "feature" \(did you mean "features"\?\)\n  → at featureServices\[0\]\.feature/],
    ];
    for (const [input, want] of cases) expect(message(input)).toMatch(want);
    // the misspelt required key is reported once, as the misspelling, not also as missing
    expect(message(cases[2]![0])).not.toMatch(/entities\[0\]\.joinKeys/);
    expect(message(cases[4]![0])).not.toMatch(/features\[0\]\.type\b/);
  });
});
