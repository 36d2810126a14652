import jstatPkg from 'jstat';

/**
 * Distribution tails used by the p-value tests. The log-gamma function and the lower regularized incomplete gamma
 * come from jstat 1.9.6 (`jStat.gammaln`, `jStat.lowRegGamma`; p-values built on them are checked against scipy 1.10
 * values in test/unit/drift/statistics.test.ts, fixture test/fixtures/drift/scipy-reference.json). jstat only offers
 * upper tails as `1 - cdf`, which loses every digit once p < 1e-16, so the upper tail for x ≥ a + 1 is the
 * continued fraction of Q(a, x) itself (Numerical Recipes §6.2, modified Lentz), built on jstat's gammaln.
 */
const { jStat } = jstatPkg as unknown as typeof import('jstat');

const EPS = 1e-16;
const TINY = 1e-300;

/** Upper regularized incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0 || Number.isNaN(x)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) return Math.max(0, 1 - jStat.lowRegGamma(a, x));
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - jStat.gammaln(a)) * h;
}

/** Survival function of the chi-square distribution (scipy.stats.chi2.sf). */
export function chi2Sf(x: number, dof: number): number {
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

/** Complementary error function, via erfc(x) = Q(1/2, x²) for x ≥ 0. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return gammaQ(0.5, x * x);
}

/** Survival function of the standard normal distribution (scipy.stats.norm.sf). */
export function normSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Natural log of n! (jstat's gammaln). */
export function logFactorial(n: number): number {
  return jStat.gammaln(n + 1);
}

/** log C(n, k). */
export function logBinom(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}
