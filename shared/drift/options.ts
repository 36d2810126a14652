import { ConfigError, UsageError } from '../errors.js';
import type { MethodName, MethodSpec } from './methods.js';

/**
 * The valid range of every numeric drift option, shared by the CLI (`ctloop drift`, where a bad value is a usage
 * error, exit 2) and by configuration (the detect-drift function's policy, validation and baseline options, where it
 * is a ConfigError at start). Each error names the option, the value and the valid range.
 */
export interface Range {
  min?: number;
  max?: number;
  /** The bound itself is excluded. */
  minOpen?: boolean;
  maxOpen?: boolean;
  integer?: boolean;
}

/** Where a value came from: a command-line option, or a configuration key. */
export type Surface = 'cli' | 'config';

export const ranges = {
  /** A dataset drifts when this share of features drifted: 0 would flag every dataset, above 1 none. */
  driftShare: { min: 0, minOpen: true, max: 1 },
  /** p-value tests drift when p is below the threshold: 0 never drifts, 1 always does. */
  pValueThreshold: { min: 0, minOpen: true, max: 1, maxOpen: true },
  /** High-cardinality rule: distinct share of the reference's non-null values (1 turns the rule off). */
  cardinalityShare: { min: 0, minOpen: true, max: 1 },
  /** High-cardinality rule: columns with at most this many distinct reference values are always compared. */
  cardinalityFloor: { min: 0, integer: true },
  /** Policy: request training when this share of features drifted. */
  minShareDrifted: { min: 0, minOpen: true, max: 1 },
  cooldownSeconds: { min: 0 },
  rangeTolerance: { min: 0 },
  nullRateTolerance: { min: 0, max: 1, maxOpen: true },
  newValueTolerance: { min: 0, max: 1, maxOpen: true },
  /** A factor of 1 would flag any row count that differs from the baseline rate at all. */
  volumeFactor: { min: 1, minOpen: true },
  quantileBins: { min: 1, max: 1000, integer: true },
  maxValueBins: { min: 0, max: 1000, integer: true },
  maxCategories: { min: 1, max: 1000, integer: true },
  historyLimit: { min: 1, integer: true },
} satisfies Record<string, Range>;

/**
 * Upper bounds of the distances (a threshold above the bound can never be reached). Every distance is ≥ 0 and is 0
 * for identical data, so a threshold of 0 would flag every column: distance thresholds are > 0.
 */
const distanceMax: Partial<Record<MethodName, number>> = {
  jensenshannon: Math.sqrt(Math.LN2), // scipy's distance, natural log
  jensenshannon_divergence: 1, // bits
  hellinger: 1,
  l_infinity: 1,
};

export function thresholdRange(m: MethodSpec): Range {
  if (m.returns === 'p_value') return ranges.pValueThreshold;
  const max = distanceMax[m.name];
  return max === undefined ? { min: 0, minOpen: true } : { min: 0, minOpen: true, max };
}

const show = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4))));

/** "(0, 1]", "an integer in [1, 1000]", "> 0", "an integer ≥ 1". */
export function rangeText(r: Range): string {
  const kind = r.integer ? 'an integer ' : '';
  if (r.min !== undefined && r.max !== undefined) return `${kind}in ${r.minOpen ? '(' : '['}${show(r.min)}, ${show(r.max)}${r.maxOpen ? ')' : ']'}`;
  if (r.min !== undefined) return `${kind}${r.minOpen ? '>' : '≥'} ${show(r.min)}`;
  if (r.max !== undefined) return `${kind}${r.maxOpen ? '<' : '≤'} ${show(r.max)}`;
  return `${kind || 'a '}finite number`.trim();
}

export function inRange(x: number, r: Range): boolean {
  if (!Number.isFinite(x)) return false;
  if (r.integer && !Number.isInteger(x)) return false;
  if (r.min !== undefined && (r.minOpen ? x <= r.min : x < r.min)) return false;
  if (r.max !== undefined && (r.maxOpen ? x >= r.max : x > r.max)) return false;
  return true;
}

function fail(surface: Surface, message: string, name: string, r: Range, details: Record<string, unknown>): never {
  const what = r.integer ? rangeText(r) : `a value ${rangeText(r)}`;
  const hint = surface === 'cli' ? `pass ${what} to ${name}` : `set ${name} to ${what}`;
  throw surface === 'cli' ? new UsageError(message, { hint, details }) : new ConfigError(message, { hint, details });
}

/**
 * Check a number against its range. `name` is what the user wrote (`--drift-share`, `--threshold delay`,
 * `policy.cooldownSeconds`); `why` optionally explains the range (e.g. which method the threshold is for).
 */
export function checkRange(x: number, r: Range, name: string, surface: Surface, why?: string): number {
  if (!inRange(x, r)) {
    fail(surface, `${name} must be ${rangeText(r)}${why ? ` (${why})` : ''}, got ${String(x)}`, name, r, { option: name, value: x, range: rangeText(r) });
  }
  return x;
}

/** Decimal or exponent notation only: '', ' ', 'abc', '0x10', '1,5', 'Infinity' are not numbers here. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Parse a command-line number strictly and check its range; a bad value is a usage error naming the option. */
export function parseOption(text: string, r: Range, name: string, why?: string): number {
  if (!NUMBER.test(text.trim()) || text.trim() !== text) {
    fail('cli', `${name} ${JSON.stringify(text)} is not a number`, name, r, { option: name, value: text, range: rangeText(r) });
  }
  return checkRange(Number(text), r, name, 'cli', why);
}

/** Check every numeric key of an options object (configuration) against `ranges`; absent keys are skipped. */
export function checkConfig(obj: object | undefined, keys: readonly (keyof typeof ranges)[], prefix: string): void {
  if (!obj) return;
  const o = obj as Record<string, unknown>;
  for (const k of keys) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number') fail('config', `${prefix}.${k} must be a number, got ${JSON.stringify(v)}`, `${prefix}.${k}`, ranges[k], { option: `${prefix}.${k}` });
    checkRange(v, ranges[k], `${prefix}.${k}`, 'config');
  }
}
