import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';

const require = createRequire(import.meta.url);

/** The 3M-flight Parquet file shipped by the vega-datasets npm package. */
export function flightsParquet(): string {
  // The package exports only its JS index (build/index.js); the data folder sits beside build/.
  return join(dirname(require.resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet');
}

const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

export interface FlightFiles {
  routeDaily: string;
  airportDaily: string;
  spine: string;
  counts: Record<string, number>;
}

/**
 * Turn raw flights into what application services would publish: daily route and airport statistics stamped at
 * the end of the day they describe (so they are only "known" after it), plus a training spine of individual
 * flights with their label (departure delayed > 15 min) and departure time.
 */
export async function prepareFlightFiles(outDir: string, opts: { spineFrom: string; spineTo: string; spineRows: number }): Promise<FlightFiles> {
  await mkdir(outDir, { recursive: true });
  const src = `read_parquet(${q(flightsParquet())})`;
  const files = { routeDaily: join(outDir, 'route_daily.parquet'), airportDaily: join(outDir, 'airport_daily.parquet'), spine: join(outDir, 'spine.parquet') };
  const instance = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(instance);
  try {
    await c.run(`CREATE TABLE flights AS SELECT * FROM ${src} WHERE origin IS NOT NULL AND destination IS NOT NULL AND date IS NOT NULL`);
    await c.run(`COPY (
      SELECT origin, destination, CAST(date_trunc('day', date) + INTERVAL 1 DAY AS TIMESTAMP) AS event_timestamp,
             COUNT(*) AS route_flights, AVG(delay) AS route_avg_delay, AVG(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END) AS route_delayed_share,
             CAST(MAX(distance) AS BIGINT) AS distance
      FROM flights GROUP BY ALL ORDER BY event_timestamp, origin, destination) TO ${q(files.routeDaily)} (FORMAT parquet)`);
    await c.run(`COPY (
      SELECT origin AS airport, CAST(date_trunc('day', date) + INTERVAL 1 DAY AS TIMESTAMP) AS event_timestamp,
             COUNT(*) AS airport_flights, AVG(delay) AS airport_avg_delay, AVG(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END) AS airport_delayed_share
      FROM flights GROUP BY ALL ORDER BY event_timestamp, airport) TO ${q(files.airportDaily)} (FORMAT parquet)`);
    await c.run(`COPY (
      SELECT origin, destination, origin AS airport, date AS event_timestamp, CAST(delay > 15 AS INTEGER) AS delayed
      FROM flights WHERE date >= TIMESTAMP ${q(opts.spineFrom)} AND date < TIMESTAMP ${q(opts.spineTo)}
      ORDER BY hash(origin, destination, date, delay) LIMIT ${Math.floor(opts.spineRows)}) TO ${q(files.spine)} (FORMAT parquet)`);
    const counts: Record<string, number> = {};
    for (const [k, f] of Object.entries(files)) {
      counts[k] = Number((await c.runAndReadAll(`SELECT COUNT(*) AS n FROM read_parquet(${q(f)})`)).getRowObjectsJS()[0]!.n);
    }
    return { ...files, counts };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
