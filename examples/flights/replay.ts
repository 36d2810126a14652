import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { flightsParquet } from './data.js';
import { scenarioSql, type Scenario } from './scenario.js';

const q = (p: string) => `'${p.replace(/'/g, "''")}'`;

/** The data's span: 2001-01-01 (a Monday) to 2001-07-01. Weeks run Monday to Monday. */
export const REPLAY_START = new Date('2001-01-01T00:00:00Z');
export const REPLAY_END = new Date('2001-07-01T00:00:00Z');
const WEEK_MS = 7 * 86_400_000;

export interface ReplayWeek {
  index: number;
  start: Date;
  /** Exclusive; the last week ends at REPLAY_END. */
  end: Date;
  /** Parquet files of that week's rows: the labelled departures (flights view), airport and route statistics. */
  files: { flights: string; airportDaily: string; routeDaily: string };
  counts: { flights: number; airportDaily: number; routeDaily: number };
}

export interface Replay {
  weeks: ReplayWeek[];
  flightRows: number;
  scenario: Scenario | null;
}

export interface ReplayOptions {
  /** Departures kept: a deterministic uniform sample (the file holds 3,000,000). */
  flightRows: number;
  /** An injected change applied to departures from its start (examples/flights/scenario.ts), or none. */
  scenario: Scenario | null;
}

/**
 * Cut the flights data into the weeks a replay publishes: per week, the departures of the `flights` view (stable
 * `flight_id`s, label delayed > 15 min), and the daily airport and route statistics stamped at the end of the day they
 * describe (so a week's file holds what became known during that week). A scenario rewrites departures from its start
 * date, and only those; the statistics stay the real ones.
 */
export async function prepareReplay(outDir: string, opts: ReplayOptions): Promise<Replay> {
  await mkdir(outDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(instance);
  try {
    await c.run(`CREATE TABLE raw AS SELECT * FROM read_parquet(${q(flightsParquet())}) WHERE origin IS NOT NULL AND destination IS NOT NULL AND date IS NOT NULL`);
    await c.run(`CREATE TABLE flights AS
      WITH numbered AS (SELECT row_number() OVER (ORDER BY date, origin, destination, delay, distance) AS n, * FROM raw WHERE delay IS NOT NULL),
      sampled AS (
        SELECT 'f' || lpad(CAST(n AS VARCHAR), 7, '0') AS flight_id, CAST(date AS TIMESTAMP) AS event_timestamp,
               origin, destination, CAST(distance AS BIGINT) AS flight_distance, CAST(delay > 15 AS BIGINT) AS delayed
        FROM numbered ORDER BY hash(n) LIMIT ${Math.floor(opts.flightRows)}),
      shaped AS (${opts.scenario ? scenarioSql(opts.scenario, 'sampled') : 'SELECT * FROM sampled'})
      SELECT flight_id, event_timestamp, origin, destination, CAST(hour(event_timestamp) AS BIGINT) AS hour,
             CAST(isodow(event_timestamp) AS BIGINT) AS weekday, flight_distance, delayed
      FROM shaped WHERE event_timestamp < TIMESTAMP ${q(REPLAY_END.toISOString())}`);
    await c.run(`CREATE TABLE airport_daily AS
      SELECT origin AS airport, CAST(date_trunc('day', date) + INTERVAL 1 DAY AS TIMESTAMP) AS event_timestamp,
             COUNT(*) AS airport_flights, AVG(delay) AS airport_avg_delay, AVG(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END) AS airport_delayed_share
      FROM raw GROUP BY ALL`);
    await c.run(`CREATE TABLE route_daily AS
      SELECT origin, destination, CAST(date_trunc('day', date) + INTERVAL 1 DAY AS TIMESTAMP) AS event_timestamp,
             COUNT(*) AS route_flights, AVG(delay) AS route_avg_delay, AVG(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END) AS route_delayed_share,
             CAST(MAX(distance) AS BIGINT) AS distance
      FROM raw GROUP BY ALL`);
    const weeks: ReplayWeek[] = [];
    // Statistics of the last day are stamped 2001-07-01, the end itself: the last week includes its end.
    for (let i = 0, t = REPLAY_START.getTime(); t < REPLAY_END.getTime(); i++, t += WEEK_MS) {
      const start = new Date(t);
      const end = new Date(Math.min(t + WEEK_MS, REPLAY_END.getTime()));
      const last = end.getTime() === REPLAY_END.getTime();
      const where = `event_timestamp >= TIMESTAMP ${q(start.toISOString())} AND event_timestamp ${last ? '<=' : '<'} TIMESTAMP ${q(end.toISOString())}`;
      const name = `week-${String(i + 1).padStart(2, '0')}`;
      const files = {
        flights: join(outDir, `${name}-flights.parquet`),
        airportDaily: join(outDir, `${name}-airport_daily.parquet`),
        routeDaily: join(outDir, `${name}-route_daily.parquet`),
      };
      const counts = { flights: 0, airportDaily: 0, routeDaily: 0 };
      for (const [key, table, order] of [['flights', 'flights', 'event_timestamp, flight_id'], ['airportDaily', 'airport_daily', 'event_timestamp, airport'], ['routeDaily', 'route_daily', 'event_timestamp, origin, destination']] as const) {
        await c.run(`COPY (SELECT * FROM ${table} WHERE ${where} ORDER BY ${order}) TO ${q(files[key])} (FORMAT parquet)`);
        counts[key] = Number((await c.runAndReadAll(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`)).getRowObjectsJS()[0]!.n);
      }
      weeks.push({ index: i, start, end, files, counts });
    }
    return { weeks, flightRows: weeks.reduce((n, w) => n + w.counts.flights, 0), scenario: opts.scenario };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
