import type { ColumnType } from '../ports/warehouse.js';
import { countIntoBins, type FeatureProfile, type Profile } from './profile.js';
import { stdPop } from './stats/distances.js';
import type { FeatureKind } from './methods.js';

/** A column held in memory (file mode): numbers for numerical columns, strings for categorical ones. */
export interface SampleColumn {
  name: string;
  type: ColumnType;
  kind: FeatureKind;
  values: (number | string | null)[];
}

/** Values the tests use: non-null, and finite for numerical columns (Evidently drops NaN/±Inf first). */
export function usable(c: SampleColumn): (number | string)[] {
  if (c.kind === 'numerical') return (c.values as (number | null)[]).filter((v): v is number => v !== null && Number.isFinite(v));
  return c.values.filter((v): v is string | number => v !== null);
}

/**
 * An in-memory profile of sample columns, for validating a file against a reference file. The reference's bins are
 * its full value domain (categorical) or its range (numerical); `like` reuses another profile's bins.
 */
export function profileSamples(columns: SampleColumn[], source: string, like?: Profile): Profile {
  const rows = columns[0]?.values.length ?? 0;
  const features: FeatureProfile[] = columns.map((c) => {
    const u = usable(c);
    const nulls = c.values.filter((v) => v === null).length;
    const nums = c.kind === 'numerical' ? (u as number[]) : [];
    const nan = c.kind === 'numerical' ? c.values.filter((v) => typeof v === 'number' && Number.isNaN(v)).length : 0;
    const inf = c.kind === 'numerical' ? c.values.filter((v) => v === Infinity || v === -Infinity).length : 0;
    let min: number | null = null;
    let max: number | null = null;
    for (const x of nums) {
      if (min === null || x < min) min = x;
      if (max === null || x > max) max = x;
    }
    const ref = like?.features.find((f) => f.name === c.name);
    const bins = ref?.bins ?? (c.kind === 'categorical'
      ? { type: 'values' as const, values: [...new Set(u)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) }
      : min !== null && max !== null ? { type: 'edges' as const, edges: min === max ? [min, min] : [min, max] } : null);
    return {
      name: c.name, type: c.type, kind: c.kind, count: c.values.length, nulls, nan, inf, min, max,
      mean: nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null,
      std: nums.length ? stdPop(nums) : null,
      distinct: new Set(u).size, bins, counts: bins ? countIntoBins(bins, u) : null,
    };
  });
  return { rows, window: null, source, computedAt: new Date().toISOString(), features };
}
