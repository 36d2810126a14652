import { kolmogorovSf } from './kolmogorov.js';
import { countAtMost } from './search.js';

/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, reproducing scipy.stats.ks_2samp (scipy 1.10, method='auto'):
 * the exact null distribution when max(n1, n2) ≤ 10 000, else Smirnov's asymptotic form (kstwo.sf with
 * n = round(n1·n2/(n1+n2))); scipy's code is `scipy/stats/_stats_py.py` (`ks_2samp`, `_compute_prob_outside_square`,
 * `_count_paths_outside_method`) at tag v1.10.0. npm has no exact two-sample distribution (`@stdlib/stats-kstest`
 * 0.2 is the one-sample goodness-of-fit test; jstat 1.9.6 has no Kolmogorov-Smirnov test), so it is implemented
 * from the published algorithms:
 * - n1 = n2: the closed-form alternating sum of path counts outside |x − y| ≥ h, evaluated Horner-like
 *   (Hodges 1958, "The significance probability of the Smirnov two-sample test", Ark. Mat. 3);
 * - n1 ≠ n2: the lattice-path "inside" recursion of Drion/Gnedenko/Korolyuk in Hodges' treatment, rewritten to
 *   compute 1 − p directly (Viehmann 2021, "Numerically more stable computation of the p-values for the two-sample
 *   Kolmogorov-Smirnov test", arXiv:2102.08037).
 */

export interface KsResult {
  statistic: number;
  pValue: number;
  mode: 'exact' | 'asymp';
}

const MAX_AUTO_N = 10_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Proportion of paths passing outside the lines x − y = ±h (n1 = n2 = n). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** Proportion of lattice paths (0,0)→(m,n) that do not stay strictly inside |x/m − y/n| < h/lcm(m,n). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, Math.min(lenA, maxj - minj + (lastlen - curlen)));
  }
  return A[maxj - minj - 1]!;
}

/** ks_2samp(a, b) two-sided. Inputs need not be sorted; NaN must already be removed. */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const d1 = Float64Array.from(a).sort();
  const d2 = Float64Array.from(b).sort();
  const n1 = d1.length;
  const n2 = d2.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ks_2samp needs two non-empty samples');
  let minS = 0;
  let maxS = -Infinity;
  const visit = (x: number) => {
    const diff = countAtMost(d1, x) / n1 - countAtMost(d2, x) / n2;
    if (diff > maxS) maxS = diff;
    if (-diff > minS) minS = -diff;
  };
  d1.forEach(visit);
  d2.forEach(visit);
  minS = Math.min(Math.max(minS, 0), 1);
  return ksFromStatistic(minS > maxS ? minS : maxS, n1, n2);
}

/** p-value of a two-sided two-sample KS statistic d for sample sizes n1, n2 (exact or asymptotic as scipy). */
export function ksFromStatistic(d: number, n1: number, n2: number): KsResult {
  const g = gcd(n1, n2);
  if (Math.max(n1, n2) <= MAX_AUTO_N) {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, mode: 'exact' };
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(prob) && prob >= 0 && prob <= 1) return { statistic: d, pValue: prob, mode: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: Math.min(1, Math.max(0, kolmogorovSf(roundHalfEven(en), d))), mode: 'asymp' };
}

/** numpy.round: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
