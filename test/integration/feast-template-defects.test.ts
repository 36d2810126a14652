import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { pointInTimeSql, ROW_ID } from '../../shared/features/pit-sql.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';

/**
 * Why ctloop's point-in-time join differs from Feast's BigQuery template (github.com/feast-dev/feast,
 * sdk/python/feast/infra/offline_stores/bigquery.py, MULTIPLE_FEATURE_VIEW_POINT_IN_TIME_JOIN; feast-dev/feast#3360):
 * on the same feature rows, Feast's template (row id = CONCAT of keys and timestamp; ROW_NUMBER; join back USING
 * (row id, event_ts, created)) multiplies spine rows on exact ties, loses the value of a row whose created time is
 * NULL, and confuses composite keys whose concatenations collide. ctloop's join returns exactly the spine's rows
 * with the deterministic newest value. The table here holds what an at-least-once writer without dedup stores.
 */
const repo = parseFeatureRepo({
  entities: [{ name: 'route', joinKeys: [{ name: 'a', type: 'STRING' }, { name: 'b', type: 'STRING' }] }],
  featureViews: [{ name: 'r', entity: 'route', timestampField: 'event_ts', ttl: '1d', features: [{ name: 'v', type: 'INT64' }] }],
});
const view = repo.view('r');

function feastSql(feastTable: string): string {
  return `
    WITH entity_dataframe AS (SELECT ${ROW_ID}, a, b, ts, CONCAT(a, b, CAST(ts AS VARCHAR)) AS entity_row_unique_id FROM spine),
    fv__base AS (SELECT f.event_ts AS event_timestamp, f.created AS created_timestamp, f.v, e.entity_row_unique_id
                 FROM ${feastTable} AS f JOIN entity_dataframe AS e ON f.a = e.a AND f.b = e.b
                 AND f.event_ts <= e.ts AND f.event_ts >= e.ts - INTERVAL 86400 SECOND),
    fv__latest AS (SELECT entity_row_unique_id, event_timestamp, created_timestamp FROM (
                     SELECT *, ROW_NUMBER() OVER (PARTITION BY entity_row_unique_id ORDER BY event_timestamp DESC, created_timestamp DESC) AS rn
                     FROM fv__base) WHERE rn = 1),
    fv__cleaned AS (SELECT base.* FROM fv__base AS base JOIN fv__latest USING (entity_row_unique_id, event_timestamp, created_timestamp))
    SELECT e.${ROW_ID}, fv__cleaned.v FROM entity_dataframe AS e LEFT JOIN fv__cleaned USING (entity_row_unique_id) ORDER BY e.${ROW_ID}`;
}

describe("Feast's point-in-time template vs ctloop's, on the same rows", () => {
  let w: Warehouse;
  beforeAll(async () => {
    w = await createDuckDbWarehouse({ path: ':memory:' });
    await applyFeatureRepo(w, repo);
    const rows: [string, string, string, string | null, number, string][] = [
      // exact tie: the same event stored twice (at-least-once delivery) → same (keys, event_ts, created)
      ['T', 'T', '2001-01-01 10:00:00', '2001-01-01 10:00:05', 1, 'e1:0'],
      ['T', 'T', '2001-01-01 10:00:00', '2001-01-01 10:00:05', 1, 'e1:0-redelivered'],
      // NULL created time in the source
      ['N', 'N', '2001-01-01 10:00:00', null, 7, 'e2:0'],
      // keys whose concatenation collides: ('1','23') and ('12','3')
      ['1', '23', '2001-01-01 10:00:00', '2001-01-01 10:00:00', 123, 'e3:0'],
      ['12', '3', '2001-01-01 09:00:00', '2001-01-01 09:00:00', 999, 'e3:1'],
    ];
    await w.execute('CREATE TABLE feast_fv (a VARCHAR, b VARCHAR, event_ts TIMESTAMP, created TIMESTAMP, v BIGINT)');
    for (const [a, b, ts, created, v, id] of rows) {
      const p = { a: { type: 'STRING' as const, value: a }, b: { type: 'STRING' as const, value: b }, ts: { type: 'TIMESTAMP' as const, value: new Date(`${ts}Z`) }, c: { type: 'TIMESTAMP' as const, value: created ? new Date(`${created}Z`) : null }, v: { type: 'INT64' as const, value: v }, id: { type: 'STRING' as const, value: id } };
      const { id: _id, ...feastParams } = p;
      await w.execute('INSERT INTO feast_fv VALUES ($a, $b, $ts, $c, $v)', { params: feastParams });
      // ctloop's table holds the same rows; its created time is never NULL (the publish time stands in), and
      // ingest dedup is bypassed here on purpose to show the join itself copes with stored duplicates.
      await w.execute(`INSERT INTO ${w.dialect.table(view.table)} VALUES ($a, $b, $ts, $v, COALESCE($c, $ts), $id, $ts)`, { params: p });
    }
    await w.execute(`CREATE TABLE spine AS SELECT * FROM (VALUES
      (1, 'T', 'T', TIMESTAMP '2001-01-01 11:00:00'),
      (2, 'N', 'N', TIMESTAMP '2001-01-01 11:00:00'),
      (3, '1', '23', TIMESTAMP '2001-01-01 11:00:00'),
      (4, '12', '3', TIMESTAMP '2001-01-01 11:00:00')) AS s(${ROW_ID}, a, b, ts)`);
  });
  afterAll(() => w.close());

  it('Feast fans out the exact tie, drops the NULL-created value and mixes the colliding keys', async () => {
    const feast = await w.query(feastSql('feast_fv'));
    expect(feast.length).toBeGreaterThan(4);
    expect(feast.filter((r) => r[ROW_ID] === 1)).toHaveLength(2);
    expect(feast.find((r) => r[ROW_ID] === 2)!.v).toBeNull();
    // ('1','23') and ('12','3') share the row id "123…": the ('12','3') spine row gets the other route's value.
    expect(feast.filter((r) => r[ROW_ID] === 4).map((r) => r.v)).toContain(123);
    expect(feast.filter((r) => r[ROW_ID] === 4).map((r) => r.v)).not.toContain(999);
  });

  it('ctloop returns exactly the spine rows with the right values', async () => {
    const sql = pointInTimeSql(w.dialect, {
      spine: { sql: 'spine', columns: [{ name: ROW_ID, type: 'INT64' }, { name: 'a', type: 'STRING' }, { name: 'b', type: 'STRING' }, { name: 'ts', type: 'TIMESTAMP' }] },
      timestampColumn: 'ts', views: [{ view, features: [{ name: 'v', as: 'v' }] }],
      minTs: new Date('2001-01-01T11:00:00Z'), maxTs: new Date('2001-01-01T11:00:00Z'),
    });
    const ours = await w.query(sql);
    expect(ours.map((r) => [r.a, r.b, r.v])).toEqual([['T', 'T', 1], ['N', 'N', 7], ['1', '23', 123], ['12', '3', 999]]);
  });
});
