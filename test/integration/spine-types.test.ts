import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { ingestRows } from '../../shared/features/ingest.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { duckStore, testRepo, withScratchOnline } from '../helpers/feature-fixtures.js';

/**
 * Parquet spines as pandas and pyarrow write them: nanosecond timestamps (not UTC-adjusted), millisecond and second
 * timestamps, DECIMAL, TIME, small unsigned integers. BigQuery's Parquet loader reads plain timestamps as DATETIME,
 * DECIMAL as NUMERIC and TIME as TIME (the stand-in does too), which ctloop's getTable refuses; the spine is staged
 * in ctloop's types instead, with the same training set on both engines.
 */
const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[spine-types] skipping: ${unavailable}`);

async function writeParquet(path: string, select: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  try {
    await conn.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const SPINE = `SELECT * FROM (VALUES
    ('A', 'B', CAST(TIMESTAMP '2001-03-01 02:00:00' AS TIMESTAMP_NS), CAST(TIMESTAMP '2001-01-01 00:00:01.5' AS TIMESTAMP_MS),
     CAST(TIMESTAMP '2001-01-02 00:00:00' AS TIMESTAMP_S), CAST(12.25 AS DECIMAL(10, 2)), TIME '08:30:00', CAST(7 AS UTINYINT), CAST(1.5 AS DECIMAL(38, 10))),
    ('A', 'B', CAST(TIMESTAMP '2001-03-01 06:00:00' AS TIMESTAMP_NS), NULL, NULL, NULL, NULL, NULL, NULL)
  ) AS v(origin, dest, ts, at_ms, at_s, amount, at_time, small, wide)`;

async function seed(w: Warehouse): Promise<void> {
  await withScratchOnline((online) => ingestRows({ warehouse: w, online, repo }, {
    view: 'route_stats', sourceId: 'types', createdAt: new Date(T0),
    rows: [{ origin: 'A', dest: 'B', event_ts: iso(90), avg_delay: 1 }, { origin: 'A', dest: 'B', event_ts: iso(330), avg_delay: 3 }],
  }));
}

describe('Parquet spine column types', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-spine-types-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  const expected = [
    'A,B,2001-03-01 02:00:00,2001-01-01 00:00:01.5,2001-01-02 00:00:00,12.25,08:30:00,7,1.5,1.0',
    'A,B,2001-03-01 06:00:00,,,,,,,3.0',
  ];

  it('DuckDB: every variant is staged in ctloop types', async () => {
    const spine = join(dir, 'spine.parquet');
    await writeParquet(spine, SPINE);
    const s = await duckStore();
    try {
      await seed(s.warehouse);
      const out = join(dir, 'duck.csv');
      await getHistoricalFeatures({ warehouse: s.warehouse, objectStore: new LocalObjectStore(join(s.dir, 'o')), repo, scratchBucket: 'x' }, {
        spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out,
      });
      expect((await readFile(out, 'utf8')).trim().split('\n').slice(1)).toEqual(expected);
    } finally {
      await s.cleanup();
    }
  });

  it('a column with no ctloop form is refused, naming it', async () => {
    const spine = join(dir, 'blob.parquet');
    await writeParquet(spine, "SELECT 'A' AS origin, 'B' AS dest, TIMESTAMP '2001-03-01 02:00:00' AS ts, '\\xAA'::BLOB AS raw");
    const s = await duckStore();
    try {
      await expect(getHistoricalFeatures({ warehouse: s.warehouse, objectStore: new LocalObjectStore(join(s.dir, 'o')), repo, scratchBucket: 'x' }, {
        spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out: join(dir, 'blob.csv'),
      })).rejects.toThrow(/spine column "raw" has type BLOB/);
    } finally {
      await s.cleanup();
    }
  });

  describe.skipIf(!!unavailable)('BigQuery (stand-in with BigQuery\'s Parquet load types)', () => {
    let bq: BigQueryTestWarehouse;
    beforeAll(async () => {
      bq = await startBigQueryTestWarehouse();
      await applyFeatureRepo(bq.warehouse, repo);
      await seed(bq.warehouse);
    });
    afterAll(async () => { await bq?.cleanup(); });

    it('the same training set as on DuckDB', async () => {
      const spine = join(dir, 'spine-bq.parquet');
      await writeParquet(spine, SPINE);
      const root = bq.standin.localPath('gs://b/x').slice(0, -'/b/x'.length);
      const out = join(dir, 'bq.csv');
      await getHistoricalFeatures({ warehouse: bq.warehouse, objectStore: new LocalObjectStore(root), repo, scratchBucket: 'scratch' }, {
        spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out,
      });
      expect((await readFile(out, 'utf8')).trim().split('\n').slice(1)).toEqual(expected);
    });

    it('the stand-in loads a plain-timestamp Parquet file as DATETIME, which getTable refuses (as on BigQuery)', async () => {
      const file = join(dir, 'plain.parquet');
      await writeParquet(file, "SELECT CAST(TIMESTAMP '2001-03-01 02:00:00' AS TIMESTAMP_NS) AS ts");
      const uri = await bq.upload(file);
      await expect(bq.warehouse.withFile(uri, 'parquet', undefined, async () => 'loaded')).rejects.toThrow(/column ts has type DATETIME/);
    });
  });
});
