import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSpine } from '../../shared/features/spine.js';

/** Spine timestamps are parsed by the same strict parser as rows, options and events (shared/time.ts). */
describe('spine timestamps', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-spine-test-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  async function csvSpine(...times: string[]): Promise<string> {
    const path = join(dir, `s${Math.random().toString(36).slice(2)}.csv`);
    await writeFile(path, ['driver_id,ts', ...times.map((t, i) => `${i + 1},${t}`)].join('\n'));
    return path;
  }

  async function read(path: string): Promise<string[]> {
    const spine = await prepareSpine(path, path.endsWith('.csv') ? 'csv' : 'parquet', 'ts', []);
    try {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const rows = (await conn.runAndReadAll(`SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM read_parquet('${spine.path}') ORDER BY __row_id`)).getRowObjectsJS();
      conn.closeSync();
      db.closeSync();
      return rows.map((r) => String(r.t));
    } finally {
      await spine.release();
    }
  }

  it('converts offsets to UTC and keeps microseconds', async () => {
    expect(await read(await csvSpine('2001-03-01T10:00:00+02:00', '2001-03-01 10:00:00.123456', '2001-03-01', '2001-03-01T10:00:00-0530', '2000-02-29T00:00:00Z'))).toEqual([
      '2001-03-01T08:00:00.000000Z', '2001-03-01T10:00:00.123456Z', '2001-03-01T00:00:00.000000Z', '2001-03-01T15:30:00.000000Z', '2000-02-29T00:00:00.000000Z',
    ]);
  });

  it.each([
    ['2001-02-30T00:00:00Z', /spine row 2: timestamp column "ts" has impossible value "2001-02-30T00:00:00Z": day 30 does not exist: February 2001 has 28 days/],
    ['2001-02-28T24:00:00Z', /spine row 2: .*hour 24 is not allowed/],
    ['2001-02-28T12:00:00+25:00', /spine row 2: .*offset \+25:00 is out of range/],
    ['2016-12-31T23:59:60Z', /spine row 2: .*leap second/],
    ['0000-06-01', /spine row 2: .*year 0000/],
    ['2001-02-28 12:00:00.1234567890', /spine row 2: .*10 fractional digits/],
    ['later', /spine row 2: timestamp column "ts" has unparsable value "later": not an ISO-8601 timestamp/],
  ])('refuses %s with the row and the reason', async (bad, message) => {
    await expect(read(await csvSpine('2001-03-01T00:00:00Z', bad, '2001-03-02T00:00:00Z'))).rejects.toThrow(message);
  });

  it('refuses a typed (Parquet) timestamp outside BigQuery\'s range', async () => {
    const path = join(dir, 'far.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(`COPY (SELECT * FROM (VALUES (1, TIMESTAMP '2001-03-01 00:00:00'), (2, TIMESTAMP '10000-01-01 00:00:00')) t(driver_id, ts)) TO '${path}' (FORMAT parquet)`);
    conn.closeSync();
    db.closeSync();
    await expect(read(path)).rejects.toThrow(/spine row 2: .*outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z/);
  });
});
