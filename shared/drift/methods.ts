import { ValidationError } from '../errors.js';
import { evidentlyBinned, fillZeroes, hellingerBinned, valueCounts, type Value } from './binning.js';
import {
  binnedWasserstein, hellinger, jensenShannonDistance, jensenShannonDivergenceBits, klDivergence, lInfinity, psi,
  stdPop, wasserstein1d,
} from './stats/distances.js';
import { ks2samp, ksFromStatistic } from './stats/ks.js';
import { chisquare, proportionsZTest } from './stats/tests.js';

/**
 * The drift methods, named as Evidently names them (plus `jensenshannon_divergence` for the Vertex preset). Each
 * has two implementations: on raw samples (file mode, reproducing Evidently/scipy) and on counts over shared bins
 * (warehouse mode, the production path: the baseline's fixed bins plus open outer bins).
 */
export type MethodName =
  | 'ks' | 'chisquare' | 'z' | 'jensenshannon' | 'wasserstein' | 'psi' | 'kl_div' | 'hellinger' | 'l_infinity'
  | 'jensenshannon_divergence';

export type FeatureKind = 'numerical' | 'categorical';

export interface MethodSpec {
  name: MethodName;
  /** p_value: drift when p is below the threshold; distance: drift when the statistic reaches it. */
  returns: 'p_value' | 'distance';
  defaultThreshold: number;
  kinds: FeatureKind[];
  drifted(score: number, threshold: number): boolean;
}

const pBelow = (p: number, t: number) => p < t;
const atLeast = (d: number, t: number) => d >= t;

export const methods: Record<MethodName, MethodSpec> = {
  // Evidently: ks drifts when p ≤ threshold, chisquare/z when p < threshold, distances when ≥ threshold.
  ks: { name: 'ks', returns: 'p_value', defaultThreshold: 0.05, kinds: ['numerical'], drifted: (p, t) => p <= t },
  chisquare: { name: 'chisquare', returns: 'p_value', defaultThreshold: 0.05, kinds: ['numerical', 'categorical'], drifted: pBelow },
  z: { name: 'z', returns: 'p_value', defaultThreshold: 0.05, kinds: ['numerical', 'categorical'], drifted: pBelow },
  jensenshannon: { name: 'jensenshannon', returns: 'distance', defaultThreshold: 0.1, kinds: ['numerical', 'categorical'], drifted: atLeast },
  wasserstein: { name: 'wasserstein', returns: 'distance', defaultThreshold: 0.1, kinds: ['numerical'], drifted: atLeast },
  psi: { name: 'psi', returns: 'distance', defaultThreshold: 0.1, kinds: ['numerical', 'categorical'], drifted: atLeast },
  kl_div: { name: 'kl_div', returns: 'distance', defaultThreshold: 0.1, kinds: ['numerical', 'categorical'], drifted: atLeast },
  hellinger: { name: 'hellinger', returns: 'distance', defaultThreshold: 0.1, kinds: ['numerical', 'categorical'], drifted: atLeast },
  l_infinity: { name: 'l_infinity', returns: 'distance', defaultThreshold: 0.3, kinds: ['numerical', 'categorical'], drifted: atLeast },
  jensenshannon_divergence: { name: 'jensenshannon_divergence', returns: 'distance', defaultThreshold: 0.3, kinds: ['numerical', 'categorical'], drifted: atLeast },
};

export const methodNames = Object.keys(methods) as MethodName[];

export function methodSpec(name: string, feature?: string): MethodSpec {
  const m = methods[name as MethodName];
  if (!m) {
    throw new ValidationError(`unknown drift method "${name}"${feature ? ` for column ${feature}` : ''}`, {
      hint: `use one of: ${methodNames.join(', ')}`,
    });
  }
  return m;
}

export function assertMethodFits(m: MethodSpec, kind: FeatureKind, feature: string): void {
  if (!m.kinds.includes(kind)) {
    throw new ValidationError(`method ${m.name} does not apply to ${kind} column ${feature}`, {
      hint: `use it on ${m.kinds.join(' or ')} columns, or pass --categorical/--method to change the column's treatment`,
    });
  }
}

export interface MethodResult {
  statistic: number;
  pValue: number | null;
}

/** The score compared with the threshold: the p-value for tests, the statistic for distances. */
export function score(m: MethodSpec, r: MethodResult): number {
  return m.returns === 'p_value' ? (r.pValue ?? Number.NaN) : r.statistic;
}

function zFromValues(ref: readonly Value[], cur: readonly Value[]): MethodResult {
  const keys = [...new Set<Value>([...ref, ...cur])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const refSet = new Set(ref);
  const curSet = new Set(cur);
  if (refSet.size === 1 && curSet.size === 1 && ref[0] === cur[0]) return { statistic: 0, pValue: 1 };
  const first = keys[0];
  const ones = (xs: readonly Value[]) => xs.reduce<number>((n, x) => n + (x === first ? 0 : 1), 0);
  const r = proportionsZTest(ones(ref), ref.length, ones(cur), cur.length);
  return { statistic: r.statistic, pValue: r.pValue };
}

function chisquareFromCounts(refCounts: number[], curCounts: number[]): MethodResult {
  const nRef = refCounts.reduce((a, b) => a + b, 0);
  const nCur = curCounts.reduce((a, b) => a + b, 0);
  const k = nCur / nRef;
  const keep = refCounts.map((r, i) => r > 0 || curCounts[i]! > 0);
  const r = chisquare(curCounts.filter((_, i) => keep[i]), refCounts.filter((_, i) => keep[i]).map((x) => x * k));
  return { statistic: r.statistic, pValue: r.pValue };
}

/** File mode: the method on raw, finite, non-null samples, exactly as Evidently 0.7 computes it. */
export function computeOnSamples(name: MethodName, kind: FeatureKind, ref: readonly Value[], cur: readonly Value[]): MethodResult {
  const numerical = kind === 'numerical';
  switch (name) {
    case 'ks': {
      const r = ks2samp(ref as number[], cur as number[]);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'wasserstein': {
      const norm = Math.max(stdPop(ref as number[]), 0.001);
      return { statistic: wasserstein1d(ref as number[], cur as number[]) / norm, pValue: null };
    }
    case 'chisquare': {
      const rc = valueCounts(ref);
      const cc = valueCounts(cur);
      const keys = [...new Set<Value>([...rc.keys(), ...cc.keys()])];
      const k = cur.length / ref.length;
      const r = chisquare(keys.map((x) => cc.get(x) ?? 0), keys.map((x) => (rc.get(x) ?? 0) * k));
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'z':
      return zFromValues(ref, cur);
    case 'jensenshannon': {
      const b = evidentlyBinned(ref, cur, numerical, false);
      return { statistic: jensenShannonDistance(b.ref, b.cur), pValue: null };
    }
    case 'jensenshannon_divergence': {
      const b = evidentlyBinned(ref, cur, numerical, false);
      return { statistic: jensenShannonDivergenceBits(b.ref, b.cur), pValue: null };
    }
    case 'psi': {
      const b = evidentlyBinned(ref, cur, numerical, true);
      return { statistic: psi(b.ref, b.cur), pValue: null };
    }
    case 'kl_div': {
      const b = evidentlyBinned(ref, cur, numerical, true);
      return { statistic: klDivergence(b.ref, b.cur), pValue: null };
    }
    case 'hellinger': {
      const b = hellingerBinned(ref, cur, numerical);
      return { statistic: hellinger(b.ref, b.cur), pValue: null };
    }
    case 'l_infinity': {
      const b = evidentlyBinned(ref, cur, false, false);
      return { statistic: lInfinity(b.ref, b.cur), pValue: null };
    }
  }
}

/** Counts of both sides over the same bins (warehouse mode). */
export interface BinnedCounts {
  ref: number[];
  cur: number[];
  /**
   * Numerical histogram: edges[i]..edges[i+1] bound bin i, outer bins already closed with the observed extremes.
   * Absent for per-value bins.
   */
  edges?: number[];
  /** Per-value bins of a numerical feature: the values, ascending (the last count is "other"). */
  points?: number[];
  /** Per-value bins: the bin index holding the smallest value (Evidently's z-test "first key"). */
  firstKey?: number;
  /** Reference population std (for the normalised Wasserstein). */
  refStd?: number;
}

const shares = (c: number[]) => {
  const n = c.reduce((a, b) => a + b, 0);
  return c.map((x) => x / n);
};

/**
 * Warehouse mode: the method on binned counts. ks uses the largest CDF gap at the bin edges (a lower bound of the
 * raw statistic) with scipy's null distribution for the real sample sizes; wasserstein integrates the
 * piecewise-linear CDFs; the others are the same formulas as file mode on the baseline's bins.
 */
export function computeOnBins(name: MethodName, b: BinnedCounts): MethodResult {
  const nRef = b.ref.reduce((a, x) => a + x, 0);
  const nCur = b.cur.reduce((a, x) => a + x, 0);
  switch (name) {
    case 'ks': {
      let fr = 0;
      let fc = 0;
      let d = 0;
      for (let i = 0; i < b.ref.length; i++) {
        fr += b.ref[i]! / nRef;
        fc += b.cur[i]! / nCur;
        d = Math.max(d, Math.abs(fr - fc));
      }
      const r = ksFromStatistic(Math.min(1, d), nRef, nCur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'wasserstein': {
      if (b.points) {
        // Per-value bins of a numerical feature: both CDFs are steps at the listed points, W1 is exact.
        const k = b.points.length;
        const nr = b.ref.slice(0, k).reduce((a, x) => a + x, 0);
        const nc = b.cur.slice(0, k).reduce((a, x) => a + x, 0);
        let F = 0;
        let G = 0;
        let w = 0;
        for (let i = 0; i < k - 1; i++) {
          F += b.ref[i]! / nr;
          G += b.cur[i]! / nc;
          w += Math.abs(F - G) * (b.points[i + 1]! - b.points[i]!);
        }
        return { statistic: w / Math.max(b.refStd ?? 0, 0.001), pValue: null };
      }
      if (!b.edges) {
        throw new ValidationError('wasserstein needs numerical bins', { hint: 'the baseline stored per-value bins for this feature; use jensenshannon or chisquare' });
      }
      const norm = Math.max(b.refStd ?? 0, 0.001);
      return { statistic: binnedWasserstein(b.edges, b.ref, b.cur) / norm, pValue: null };
    }
    case 'chisquare':
      return chisquareFromCounts(b.ref, b.cur);
    case 'z': {
      const first = b.firstKey ?? 0;
      const refOnes = nRef - (b.ref[first] ?? 0);
      const curOnes = nCur - (b.cur[first] ?? 0);
      const present = (c: number[]) => c.filter((x) => x > 0).length;
      if (present(b.ref) === 1 && present(b.cur) === 1 && b.ref.findIndex((x) => x > 0) === b.cur.findIndex((x) => x > 0)) {
        return { statistic: 0, pValue: 1 };
      }
      const r = proportionsZTest(refOnes, nRef, curOnes, nCur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'jensenshannon':
      return { statistic: jensenShannonDistance(shares(b.ref), shares(b.cur)), pValue: null };
    case 'jensenshannon_divergence':
      return { statistic: jensenShannonDivergenceBits(shares(b.ref), shares(b.cur)), pValue: null };
    case 'psi':
      return { statistic: psi(fillZeroesOf(b.ref), fillZeroesOf(b.cur)), pValue: null };
    case 'kl_div':
      return { statistic: klDivergence(fillZeroesOf(b.ref), fillZeroesOf(b.cur)), pValue: null };
    case 'hellinger':
      return { statistic: hellinger(shares(b.ref), shares(b.cur)), pValue: null };
    case 'l_infinity':
      return { statistic: lInfinity(shares(b.ref), shares(b.cur)), pValue: null };
  }
}

function fillZeroesOf(counts: number[]): number[] {
  return fillZeroes(shares(counts));
}
