import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureType } from '../../shared/features/definitions.js';
import { textField, type FieldSql } from '../../shared/features/validate-sql.js';

/**
 * The fast shapes of validate-sql.ts: where a field's `fast.ok` holds, the full rules accept the value and store the
 * same value; the engine skips the full rules for such rows, so a fast shape that let a bad value through (or stored
 * another value) would change what a load stores. Every value here runs through both.
 */
const VALUES: Record<FeatureType, string[]> = {
  TIMESTAMP: [
    '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00Z', '2024-01-01 00:00:00', '2024-01-01 00:00:00Z', '2024-02-29T12:00:00.5Z',
    '2023-02-29T12:00:00Z', '2024-04-31T00:00:00Z', '0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
    '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z', '2024-01-01T23:59:60Z', '2024-01-01T00:00:00.1234Z', '2024-01-01T00:00:00+02:00',
    '2024-1-01T00:00:00Z', ' 2024-01-01T00:00:00Z', '2024-01-01t00:00:00z', '2024-01-01', '2024-13-01T00:00:00Z', '1900-02-29T00:00:00Z',
    '2000-02-29T00:00:00.12Z', '', 'x',
  ],
  INT64: ['0', '-0', '7', '-7', '007', '+7', '999999999999999', '9999999999999999', '9007199254740991', '9007199254740992', '1.0', '1e3', ' 4', '4 ', '', '٣', '1_000'],
  FLOAT64: ['0', '1.5', '-1.5', '1.', '.5', '-0.0', '0.30000000000000004', '1e400', `${'9'.repeat(300)}.5`, `${'9'.repeat(309)}`, 'inf', 'nan', ' 1', '1,5', '', '0x1'],
  BOOL: ['true', 'false', 'TRUE', 'False', 'tRuE', ' true', 'yes', '1', ''],
  STRING: ['a', '', ' a ', 'é'],
};

let db: DuckDBInstance;
let c: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
});
afterAll(() => {
  c.closeSync();
  db.closeSync();
});

/** The full rules (value, reason) and the fast ones (ok, value) of each value, as DuckDB computes them. */
async function run(f: FieldSql, values: (string | null)[]) {
  let from = `(SELECT * FROM (VALUES ${values.map((v) => (v === null ? '(NULL::VARCHAR)' : `('${v.replace(/'/g, "''")}')`)).join(', ')}) AS t(src))`;
  for (const p of f.prepare) from = `(SELECT *, ${p.sql} AS "${p.name}" FROM ${from})`;
  const reader = await c.runAndReadAll(`SELECT src, (${f.value})::VARCHAR AS slow, (${f.reason}) AS reason, coalesce(${f.fast!.ok}, false) AS ok, (${f.fast!.value})::VARCHAR AS fast, (${f.fast!.unchecked})::VARCHAR AS unchecked FROM ${from}`);
  return reader.getRowObjectsJS() as { src: string | null; slow: string | null; reason: string | null; ok: boolean; fast: string | null; unchecked: string | null }[];
}

describe('fast shapes of the SQL validator agree with its full rules', () => {
  for (const role of ['feature', 'key', 'time', 'created'] as const) {
    for (const type of Object.keys(VALUES) as FeatureType[]) {
      if ((role === 'time' || role === 'created') && type !== 'TIMESTAMP') continue;
      it(`${type} as ${role}: a value of the fast shape is accepted with the same stored value (checked or not)`, async () => {
        const rows = await run(textField('src', type, role, '__f0'), [...VALUES[type], null]);
        for (const r of rows) {
          if (!r.ok) continue;
          expect({ src: r.src, reason: r.reason, value: r.fast, unchecked: r.unchecked }).toEqual({ src: r.src, reason: null, value: r.slow, unchecked: r.slow });
        }
        // The common forms do take the fast path (else it would speed nothing up).
        const common = { TIMESTAMP: '2024-01-01T00:00:00.000Z', INT64: '7', FLOAT64: '1.5', BOOL: 'true', STRING: 'a' }[type];
        expect(rows.find((r) => r.src === common)!.ok).toBe(true);
      });
    }
  }
});
