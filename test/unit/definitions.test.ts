import { describe, expect, it } from 'vitest';
import { diffTable } from '../../shared/features/apply.js';
import { offlineColumns, parseFeatureRepo } from '../../shared/features/definitions.js';
import { offlineTable } from '../../shared/features/tables.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';

describe('feature definitions', () => {
  it('resolves views with their entity keys, table names and ttl in seconds', () => {
    const repo = parseFeatureRepo(testRepoInput);
    const v = repo.view('route_stats');
    expect(v).toMatchObject({ table: 'fv_route_stats', onlineTable: 'fv_route_stats__online', ttlSeconds: 86_400, timestampField: 'event_ts' });
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
  });
});
