import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../shared/adapters/object-store/index.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { QUARANTINE_TABLE } from '../../shared/features/tables.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

/** FLOAT64 from files: an overflowed literal is quarantined; explicit infinities (Parquet doubles, "inf") are kept. */
describe('FLOAT64 values in files', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let dir: string;
  let cleanup: () => Promise<void>;
  const repo = testRepo();
  beforeEach(async () => ({ warehouse: w, online, dir, cleanup } = await duckStore()));
  afterEach(async () => cleanup());
  const load = (uri: string) => loadFeatureFile({ warehouse: w, online, objectStore: createObjectStore({ kind: 'local', root: join(dir, 'objects') }), repo }, { view: 'driver_stats', uri });

  it('keeps Parquet\'s explicit infinities and NaN, which no overflow can produce', async () => {
    const path = join(dir, 'explicit.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(`COPY (SELECT * FROM (VALUES (1, TIMESTAMP '2001-03-01 00:00:00', 'inf'::DOUBLE), (2, TIMESTAMP '2001-03-01 00:00:00', '-inf'::DOUBLE), (3, TIMESTAMP '2001-03-01 00:00:00', 'nan'::DOUBLE))
      t(driver_id, event_ts, rating)) TO '${path}' (FORMAT parquet)`);
    conn.closeSync();
    db.closeSync();
    expect(await load(path)).toMatchObject({ received: 3, accepted: 3, quarantined: 0 });
    const rows = await w.query('SELECT driver_id, CAST(rating AS VARCHAR) AS r FROM fv_driver_stats WHERE driver_id <= 3 ORDER BY driver_id');
    expect(rows.map((r) => r.r)).toEqual(['inf', '-inf', 'nan']);
  });

  it('quarantines 1e400 with its reason instead of storing Infinity', async () => {
    const path = join(dir, 'overflow.csv');
    await writeFile(path, 'driver_id,event_ts,rating\n11,2001-03-01T00:00:00Z,1e400\n12,2001-03-01T00:00:00Z,-1e400\n13,2001-03-01T00:00:00Z,Infinity\n');
    expect(await load(path)).toMatchObject({ received: 3, accepted: 1, quarantined: 2 });
    const q = await w.query(`SELECT reason FROM ${QUARANTINE_TABLE} ORDER BY reason`);
    expect(q.map((r) => r.reason)).toEqual([
      'line 2: rating: FLOAT64 value "1e400" overflows (beyond ±1.7976931348623157e308); write an explicit infinity as "inf" or "-inf"',
      'line 3: rating: FLOAT64 value "-1e400" overflows (beyond ±1.7976931348623157e308); write an explicit infinity as "inf" or "-inf"',
    ]);
    expect(await w.query('SELECT driver_id FROM fv_driver_stats WHERE driver_id > 10')).toEqual([{ driver_id: 13 }]);
  });
});
