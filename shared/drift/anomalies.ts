import type { ColumnType } from '../ports/warehouse.js';
import { defaultCardinality, highCardinality, type CardinalityRule } from './cardinality.js';
import { finiteCount, type FeatureProfile, type Profile } from './profile.js';
import type { Anomaly } from './report.js';

/**
 * Data validation against a baseline, the TFDV anomaly kinds that matter for retraining decisions: missing
 * feature (absent column, or no values where the baseline had them), type mismatch, new categorical values (share
 * of mass outside the baseline domain), numbers out of the baseline range (with tolerance), null-rate increase,
 * NaN, Inf, row volume far from the baseline rate, and no data at all.
 */
export interface ValidationOptions {
  /** Out of range when below min − t·(max − min) or above max + t·(max − min). Default 0.05. */
  rangeTolerance?: number;
  /** Null-rate increase (absolute, 0..1) that is an anomaly. Default 0.05. */
  nullRateTolerance?: number;
  /** Share of mass outside the baseline domain that is an anomaly (above the baseline's own "other" share). Default 0. */
  newValueTolerance?: number;
  /** Volume anomaly when the row rate differs from the baseline rate by more than this factor. Default 2. */
  volumeFactor?: number;
  /** High-cardinality categorical features get no new_values check (their values are expected to be new). */
  cardinality?: CardinalityRule;
}

/** The numeric keys of ValidationOptions (their ranges are in options.ts). */
export const validationKeys = ['rangeTolerance', 'nullRateTolerance', 'newValueTolerance', 'volumeFactor'] as const;

/** A baseline whose value list is only the top values of a larger domain: its "other" share is sampling noise. */
function truncatedDomain(f: FeatureProfile): boolean {
  return f.bins?.type === 'values' && f.distinct !== null && f.distinct > f.bins.values.length;
}

/** "the window 2001-01-01T00:00:00.000Z → … of route_stats" or the file name. */
const where = (p: Profile) => (p.window ? `the window ${p.window.start} → ${p.window.end} of ${p.source}` : p.source);

const rate = (x: number, n: number) => (n > 0 ? x / n : 0);

function seconds(w: { start: string; end: string } | null): number | null {
  return w ? (Date.parse(w.end) - Date.parse(w.start)) / 1000 : null;
}

function otherShare(f: FeatureProfile): number {
  if (f.bins?.type !== 'values' || !f.counts) return 0;
  const present = f.counts.reduce((a, b) => a + b, 0);
  return rate(f.counts[f.counts.length - 1]!, present);
}

/**
 * Compare a current profile with the baseline. `currentColumns`, when known, is the current table's or file's
 * schema: a baseline feature absent from it is a missing feature, a different type is a type mismatch.
 */
export function validate(baseline: Profile, current: Profile, currentColumns: { name: string; type: ColumnType }[] | null, opts: ValidationOptions = {}): Anomaly[] {
  const out: Anomaly[] = [];
  const rangeTol = opts.rangeTolerance ?? 0.05;
  const nullTol = opts.nullRateTolerance ?? 0.05;
  const newTol = opts.newValueTolerance ?? 0;
  const volumeFactor = opts.volumeFactor ?? 2;
  if (current.rows === 0) {
    out.push({ kind: 'no_data', feature: null, observed: 0, expected: baseline.rows, message: `${where(current)} has no rows` });
    return out;
  }
  if (baseline.rows === 0) {
    out.push({ kind: 'no_reference_data', feature: null, observed: current.rows, expected: null, message: `the reference ${where(baseline)} has no rows: there is nothing to compare with` });
    return out;
  }
  const bs = seconds(baseline.window);
  const cs = seconds(current.window);
  if (bs && cs && baseline.rows > 0) {
    const expected = (baseline.rows / bs) * cs;
    if (current.rows > expected * volumeFactor || current.rows < expected / volumeFactor) {
      out.push({
        kind: 'volume', feature: null, observed: current.rows, expected: Math.round(expected),
        message: `${current.rows} rows where the baseline rate predicts about ${Math.round(expected)}`,
      });
    }
  }
  const cols = currentColumns ? new Map(currentColumns.map((c) => [c.name, c.type])) : null;
  const cur = new Map(current.features.map((f) => [f.name, f]));
  for (const b of baseline.features) {
    const colType = cols?.get(b.name);
    if (cols && colType === undefined) {
      out.push({ kind: 'missing_feature', feature: b.name, observed: null, expected: b.type, message: `feature ${b.name} is missing` });
      continue;
    }
    if (colType !== undefined && colType !== b.type) {
      out.push({ kind: 'type_mismatch', feature: b.name, observed: colType, expected: b.type, message: `feature ${b.name} is ${colType}, the baseline has ${b.type}` });
      continue;
    }
    const c = cur.get(b.name);
    if (!c) {
      out.push({ kind: 'missing_feature', feature: b.name, observed: null, expected: b.type, message: `feature ${b.name} is missing` });
      continue;
    }
    const bPresent = b.count - b.nulls;
    const cPresent = c.count - c.nulls;
    if (cPresent === 0 && bPresent > 0) {
      out.push({ kind: 'missing_feature', feature: b.name, observed: { present: 0 }, expected: { presentRate: rate(bPresent, b.count) }, message: `feature ${b.name} has no values in ${where(current)}` });
      continue;
    }
    if (bPresent === 0) {
      if (cPresent > 0) {
        out.push({ kind: 'no_reference_data', feature: b.name, observed: { present: cPresent }, expected: { present: 0 }, message: `feature ${b.name} has no values in the reference ${where(baseline)}, so it cannot be checked` });
      }
      continue;
    }
    const bNull = rate(b.nulls, b.count);
    const cNull = rate(c.nulls, c.count);
    if (cNull - bNull > nullTol) {
      out.push({ kind: 'null_rate_increase', feature: b.name, observed: cNull, expected: bNull, message: `null rate of ${b.name} rose from ${bNull.toFixed(4)} to ${cNull.toFixed(4)}` });
    }
    if (c.nan > 0 && rate(c.nan, c.count) > rate(b.nan, b.count)) {
      out.push({ kind: 'nan', feature: b.name, observed: rate(c.nan, c.count), expected: rate(b.nan, b.count), message: `${c.nan} NaN values in ${b.name}` });
    }
    if (c.inf > 0 && rate(c.inf, c.count) > rate(b.inf, b.count)) {
      out.push({ kind: 'inf', feature: b.name, observed: rate(c.inf, c.count), expected: rate(b.inf, b.count), message: `${c.inf} infinite values in ${b.name}` });
    }
    if (b.kind === 'categorical' && b.bins?.type === 'values' && c.counts && !truncatedDomain(b) && !highCardinality(b, opts.cardinality ?? defaultCardinality)) {
      const excess = otherShare(c) - otherShare(b);
      if (excess > newTol) {
        out.push({
          kind: 'new_values', feature: b.name, observed: otherShare(c), expected: otherShare(b),
          message: `${(otherShare(c) * 100).toFixed(2)}% of ${b.name} values are outside the baseline domain`,
        });
      }
    }
    if (b.kind === 'numerical' && b.min !== null && b.max !== null && c.min !== null && c.max !== null && finiteCount(c) > 0) {
      const tol = rangeTol * (b.max - b.min);
      if (c.min < b.min - tol || c.max > b.max + tol) {
        out.push({
          kind: 'out_of_range', feature: b.name, observed: { min: c.min, max: c.max }, expected: { min: b.min, max: b.max, tolerance: tol },
          message: `${b.name} ranges over [${c.min}, ${c.max}], outside the baseline [${b.min}, ${b.max}] ± ${tol}`,
        });
      }
    }
  }
  return out;
}
