import { checkRange, ranges, type Surface } from './options.js';
import { finiteCount, type FeatureProfile } from './profile.js';

/**
 * High-cardinality categorical columns (IDs, free text, timestamps read as text) are not compared, as TFDV leaves
 * string features with more than `max_string_domain_size` values without a domain and Evidently reports ID columns
 * apart. Per-value statistics need several rows per value: two samples of ONE uniform distribution over K values with
 * n rows each are at a Jensen-Shannon distance of about √((K−1)/(4n)) (measured: 0.071 at K/n = 0.02, 0.11 at 0.05,
 * against the 0.1 threshold), and chisquare sees infinite statistics for values present on one side only.
 *
 * Rule: a categorical column is skipped (with the reason in the report) when its reference has more than `floor`
 * distinct values AND they make up more than `maxDistinctShare` of its non-null reference values.
 */
export interface CardinalityRule {
  /** Distinct share of the non-null reference values above which a column is skipped (default 0.02; 1 = never). */
  maxDistinctShare: number;
  /** Columns with at most this many distinct reference values are always compared (default 20). */
  floor: number;
}

export const defaultCardinality: CardinalityRule = { maxDistinctShare: 0.02, floor: 20 };

export interface HighCardinality {
  distinct: number;
  values: number;
  share: number;
}

/** The reference feature's cardinality when it breaks the rule, else null (numerical features are never skipped). */
export function highCardinality(ref: FeatureProfile, rule: CardinalityRule = defaultCardinality): HighCardinality | null {
  if (ref.kind !== 'categorical' || ref.distinct === null) return null;
  const values = finiteCount(ref);
  if (values === 0 || ref.distinct <= rule.floor) return null;
  const share = ref.distinct / values;
  return share > rule.maxDistinctShare ? { distinct: ref.distinct, values, share } : null;
}

export function describeHighCardinality(name: string, h: HighCardinality, rule: CardinalityRule): string {
  return `${name} has ${h.distinct} distinct values in ${h.values} reference values (share ${h.share.toFixed(3)} > ${rule.maxDistinctShare}, `
    + `more than ${rule.floor} values): too few rows per value for a drift statistic, not compared`;
}

/** Check a rule's numbers (names as the CLI or the configuration spells them). */
export function checkCardinality(rule: Partial<CardinalityRule> | undefined, surface: Surface): CardinalityRule {
  const r = { ...defaultCardinality, ...rule };
  checkRange(r.maxDistinctShare, ranges.cardinalityShare, surface === 'cli' ? '--cardinality-share' : 'cardinality.maxDistinctShare', surface);
  checkRange(r.floor, ranges.cardinalityFloor, surface === 'cli' ? '--cardinality-floor' : 'cardinality.floor', surface);
  return r;
}
