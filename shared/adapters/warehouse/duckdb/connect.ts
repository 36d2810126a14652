import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/**
 * Connect to a DuckDB instance that works in UTC. DuckDB's TimeZone defaults to the host's, and every
 * TIMESTAMP ↔ TIMESTAMPTZ cast and every TIMESTAMPTZ printed as text shifts by the host's offset; ctloop's times
 * are UTC everywhere. The setting is GLOBAL, so connections opened later on the same instance are UTC too. (It
 * cannot go in the instance's config: the time-zone extension loads only after the instance exists.)
 */
export async function connectUtc(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const conn = await instance.connect();
  try {
    await conn.run("SET GLOBAL TimeZone = 'UTC'");
  } catch (err) {
    conn.closeSync();
    throw err;
  }
  return conn;
}
