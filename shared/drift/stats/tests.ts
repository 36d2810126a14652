import { chi2Sf, normSf } from './special.js';

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** scipy.stats.chisquare(f_obs, f_exp): Pearson's statistic with k − 1 degrees of freedom. */
export function chisquare(fObs: readonly number[], fExp: readonly number[]): TestResult {
  if (fObs.length !== fExp.length) throw new RangeError('chisquare: observed and expected differ in length');
  let stat = 0;
  for (let i = 0; i < fObs.length; i++) {
    const o = fObs[i]!;
    const e = fExp[i]!;
    stat += e === 0 ? (o === 0 ? Number.NaN : Infinity) : ((o - e) * (o - e)) / e;
  }
  const dof = fObs.length - 1;
  if (Number.isNaN(stat)) return { statistic: stat, pValue: Number.NaN };
  if (dof <= 0) return { statistic: stat, pValue: Number.NaN };
  return { statistic: stat, pValue: stat === Infinity ? 0 : chi2Sf(stat, dof) };
}

/**
 * Two-proportion z-test, two-sided, as Evidently's `z` (proportions_diff_z_stat_ind): successes are the values
 * different from `firstKey` (the smallest value over both samples).
 */
export function proportionsZTest(refOnes: number, nRef: number, curOnes: number, nCur: number): TestResult {
  const p1 = refOnes / nRef;
  const p2 = curOnes / nCur;
  const P = (p1 * nRef + p2 * nCur) / (nRef + nCur);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / nRef + 1 / nCur));
  return { statistic: z, pValue: Number.isNaN(z) ? Number.NaN : 2 * normSf(Math.abs(z)) };
}
