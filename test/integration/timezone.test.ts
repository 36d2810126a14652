// The host's time zone, set before any DuckDB instance exists in this worker (DuckDB reads it once per process).
const HOST_TZ = 'America/New_York';
const previousTz = process.env.TZ;
process.env.TZ = HOST_TZ;

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
 * Training sets must not depend on the host's time zone: a spine time of 02:00 UTC joins at 02:00 UTC on a machine
 * in New York too. (CI also runs the warehouse and feature-store suites under TZ=America/New_York and Asia/Kolkata.)
 */
const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[timezone] skipping the BigQuery case: ${unavailable}`);

async function raw(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Rows around one spine time: 02:00 sees only the 01:30 value (02:30 and 05:30 are its future); 06:00 sees 05:30. */
async function seed(w: Warehouse): Promise<void> {
  await withScratchOnline((online) => ingestRows({ warehouse: w, online, repo }, {
    view: 'route_stats', sourceId: 'tz', createdAt: new Date(T0),
    rows: [
      { origin: 'A', dest: 'B', event_ts: iso(90), avg_delay: 1, flights: 1 },
      { origin: 'A', dest: 'B', event_ts: iso(150), avg_delay: 2, flights: 2 },
      { origin: 'A', dest: 'B', event_ts: iso(330), avg_delay: 3, flights: 3 },
    ],
  }));
}

/** The same spine (times 02:00 and 06:00 UTC) as CSV, and as Parquet with a TIMESTAMPTZ column. */
async function spines(dir: string): Promise<{ csv: string; parquet: string }> {
  const csv = join(dir, 'spine.csv');
  await writeFile(csv, ['origin,dest,ts,label', `A,B,${iso(120)},two`, `A,B,${iso(360)},six`].join('\n'));
  const parquet = join(dir, 'spine.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  try {
    await conn.run(`COPY (SELECT * REPLACE (CAST(ts AS TIMESTAMPTZ) AS ts) FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return { csv, parquet };
}

const labelsAndValues = (text: string) => text.trim().split('\n').slice(1).map((l) => l.split(',').slice(3).join(','));

describe(`DuckDB and training sets under TZ=${HOST_TZ}`, () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-tz-')); });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    if (previousTz === undefined) delete process.env.TZ;
    else process.env.TZ = previousTz;
  });

  it('the host really is in another zone, and connectUtc still works in UTC', async () => {
    expect((await raw("SELECT current_setting('TimeZone') AS tz"))[0]!.tz).toBe(HOST_TZ);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await connectUtc(instance);
    const later = await instance.connect();
    try {
      const sql = "SELECT current_setting('TimeZone') AS tz, CAST(CAST(TIMESTAMP '2001-03-01 02:00:00' AS TIMESTAMPTZ) AS VARCHAR) AS v";
      expect((await conn.runAndReadAll(sql)).getRowObjectsJS()).toEqual([{ tz: 'UTC', v: '2001-03-01 02:00:00+00' }]);
      expect((await later.runAndReadAll(sql)).getRowObjectsJS()[0]!.tz).toBe('UTC');
    } finally {
      later.closeSync();
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('DuckDB: CSV and TIMESTAMPTZ Parquet spines join at the UTC instant', async () => {
    const s = await duckStore();
    try {
      await seed(s.warehouse);
      const { csv, parquet } = await spines(dir);
      const store = new LocalObjectStore(join(s.dir, 'objects'));
      for (const spine of [csv, parquet]) {
        const out = join(dir, `duck-${spine.endsWith('.csv') ? 'c' : 'p'}.csv`);
        await getHistoricalFeatures({ warehouse: s.warehouse, objectStore: store, repo, scratchBucket: 'scratch' }, { spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out });
        const text = await readFile(out, 'utf8');
        expect(labelsAndValues(text)).toEqual(['two,1.0', 'six,3.0']);
        expect(text).toContain('2001-03-01 02:00:00');
      }
    } finally {
      await s.cleanup();
    }
  });

  describe.skipIf(!!unavailable)('BigQuery (ZetaSQL-checked stand-in)', () => {
    let bq: BigQueryTestWarehouse;
    beforeAll(async () => {
      bq = await startBigQueryTestWarehouse();
      await applyFeatureRepo(bq.warehouse, repo);
      await seed(bq.warehouse);
    });
    afterAll(async () => { await bq?.cleanup(); });

    it('CSV and TIMESTAMPTZ Parquet spines are staged at the UTC instant, not shifted by the host offset', async () => {
      const root = bq.standin.localPath('gs://b/x').slice(0, -'/b/x'.length);
      const store = new LocalObjectStore(root);
      const { csv, parquet } = await spines(dir);
      for (const spine of [csv, parquet]) {
        const out = join(dir, `bq-${spine.endsWith('.csv') ? 'c' : 'p'}.csv`);
        await getHistoricalFeatures({ warehouse: bq.warehouse, objectStore: store, repo, scratchBucket: 'scratch' }, { spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out });
        const text = await readFile(out, 'utf8');
        expect(labelsAndValues(text)).toEqual(['two,1.0', 'six,3.0']);
        expect(text).toContain('2001-03-01 02:00:00');
      }
    });
  });
});
