import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { flightsParquet } from './data.js';

const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

export interface FlightsViewOptions {
  /** Flights kept: a deterministic uniform sample of this many rows (the whole file has 3,000,000). */
  rows: number;
  /** Optional [from, to) departure-time bounds, ISO dates. */
  from?: string;
  to?: string;
}

/**
 * Rows of the `flights` feature view (features.yaml): one per departure, stamped at its departure time, with the
 * flight-level features and the label (delayed > 15 min). `flight_id` is stable across runs (the row's rank in a
 * total order of the source), so loading the file again stores nothing new. Written as Parquet.
 */
export async function prepareFlightsView(outDir: string, opts: FlightsViewOptions): Promise<{ path: string; rows: number }> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `flights-${opts.rows}${opts.from ? `-${opts.from}` : ''}${opts.to ? `-${opts.to}` : ''}.parquet`);
  const where = [
    'origin IS NOT NULL', 'destination IS NOT NULL', 'date IS NOT NULL', 'delay IS NOT NULL',
    ...(opts.from ? [`date >= TIMESTAMP ${q(opts.from)}`] : []),
    ...(opts.to ? [`date < TIMESTAMP ${q(opts.to)}`] : []),
  ].join(' AND ');
  const instance = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(instance);
  try {
    await c.run(`COPY (
      WITH numbered AS (
        SELECT row_number() OVER (ORDER BY date, origin, destination, delay, distance) AS n, *
        FROM read_parquet(${q(flightsParquet())}) WHERE ${where})
      SELECT 'f' || lpad(CAST(n AS VARCHAR), 7, '0') AS flight_id, CAST(date AS TIMESTAMP) AS event_timestamp,
             origin, destination, CAST(hour(date) AS BIGINT) AS hour, CAST(isodow(date) AS BIGINT) AS weekday,
             CAST(distance AS BIGINT) AS flight_distance, CAST(delay > 15 AS BIGINT) AS delayed
      FROM numbered ORDER BY hash(n) LIMIT ${Math.floor(opts.rows)}) TO ${q(path)} (FORMAT parquet)`);
    const n = Number((await c.runAndReadAll(`SELECT COUNT(*) AS n FROM read_parquet(${q(path)})`)).getRowObjectsJS()[0]!.n);
    return { path, rows: n };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
