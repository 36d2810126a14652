import { expect } from 'vitest';
import { countIntoBins, type Bins } from '../../../shared/drift/profile.js';
import { run, windowProfileSql, type FeatureSpec } from '../../../shared/drift/profile-sql.js';
import type { Dialect, Warehouse } from '../../../shared/ports/warehouse.js';

/**
 * Edge cases of the one-scan profile, checked against the in-memory count (`countIntoBins`) on the same values:
 * values exactly on every edge (half-open inner bins, closed last one), next to edges, ±0, subnormals, large values (±1e150; DuckDB's STDDEV_POP overflows near 1e300),
 * NaN, ±Inf and NULL, strings that sort differently by UTF-16 and by bytes, the empty string, unlisted values.
 * The relation is a UNION ALL of literal rows, valid on DuckDB and BigQuery alike.
 */
const X = ['-5', '-0', '0', '0.5', '1', '1.9999999999999998', '2', '2.5', '9.999', '10', '10.000000000000002', '1e+150', '-1e+150',
  '5e-324', '-5e-324', 'nan', 'inf', '-inf', null, '2', '2.5', '10', '-3', '-3.0000000000000004', '-2.9999999999999996'];
const S = ['', '', 'a', 'Z', 'é', '😀', '😀', 'zz', null, 'ab', 'b', 'ﬀ', 'a'];
const N = ['0', '-0', '2.5', '3', '3', '7', 'nan', null, '-1'];
const edges = [-3, 0, 1, 2, 2.5, 10];
const strings = ['', 'Z', 'a', 'ab', 'é', 'ﬀ', '😀'];
const numbers = [-1, 0, 2.5, 3];
// A longer list: DuckDB counts short lists with count_if and long ones with histogram_exact; both are checked.
const manyStrings = [...strings, 'q1', 'q2', 'q3', 'q4', 'q5'];

export function edgeCaseRelation(d: Dialect): string {
  const rows = Math.max(X.length, S.length, N.length);
  const f = d.type('FLOAT64');
  const s = d.type('STRING');
  const lit = (v: string | null | undefined, t: string) => (v === null || v === undefined ? `CAST(NULL AS ${t})` : `CAST('${v.replace(/'/g, "''")}' AS ${t})`);
  const sel = Array.from({ length: rows }, (_, i) => `SELECT ${lit(X[i], f)} AS x, ${lit(S[i], s)} AS s, ${lit(N[i], f)} AS n, ${lit(S[i], s)} AS t`);
  return `(${sel.join(' UNION ALL ')}) AS edge_cases`;
}

export const edgeCaseFeatures: FeatureSpec[] = [
  { name: 'x', type: 'FLOAT64', kind: 'numerical', bins: { type: 'edges', edges } },
  { name: 's', type: 'STRING', kind: 'categorical', bins: { type: 'values', values: strings } },
  { name: 'n', type: 'FLOAT64', kind: 'numerical', bins: { type: 'values', values: numbers } },
  { name: 't', type: 'STRING', kind: 'categorical', bins: { type: 'values', values: manyStrings } },
];

const toNumber = (v: string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));

export async function expectExactProfile(w: Warehouse): Promise<void> {
  const p = await run(w, windowProfileSql(w.dialect, { relation: edgeCaseRelation(w.dialect), label: 'edge_cases' }, edgeCaseFeatures));
  const rows = Math.max(X.length, S.length, N.length);
  expect(p.rows).toBe(rows);
  const numeric = (col: (string | null)[], bins: Bins, i: number) => {
    const vals = Array.from({ length: rows }, (_, j) => col[j] ?? null);
    const all = vals.filter((v): v is string => v !== null).map(toNumber);
    const fin = all.filter(Number.isFinite);
    const mean = fin.reduce((a, b) => a + b, 0) / fin.length;
    const f = p.features[i]!;
    expect(f.counts).toEqual(countIntoBins(bins, fin));
    expect({ nulls: f.nulls, nan: f.nan, inf: f.inf, min: f.min, max: f.max }).toEqual({
      nulls: rows - all.length, nan: all.filter(Number.isNaN).length, inf: all.filter((v) => v === Infinity || v === -Infinity).length,
      min: Math.min(...fin), max: Math.max(...fin),
    });
    // (±1e150 cancel out, in a different order in each engine: the mean is compared only without them)
    if (fin.every((v) => Math.abs(v) < 1e100)) {
      expect(f.mean!).toBeCloseTo(mean, 9);
      expect(f.std!).toBeCloseTo(Math.sqrt(fin.reduce((a, b) => a + (b - mean) ** 2, 0) / fin.length), 9);
    }
  };
  numeric(X, edgeCaseFeatures[0]!.bins!, 0);
  numeric(N, edgeCaseFeatures[2]!.bins!, 2);
  const s = Array.from({ length: rows }, (_, j) => S[j] ?? null);
  const present = s.filter((v): v is string => v !== null);
  for (const i of [1, 3]) {
    expect(p.features[i]!.counts).toEqual(countIntoBins(edgeCaseFeatures[i]!.bins!, present));
    expect(p.features[i]!.nulls).toBe(rows - present.length);
  }
}
