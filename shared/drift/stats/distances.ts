import { countAtMost } from './search.js';

/**
 * Distances between two distributions given as shares over the same bins (scipy semantics), and the raw-sample
 * Wasserstein-1 distance (scipy.stats.wasserstein_distance).
 */

function relEntr(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function sum(a: readonly number[]): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}

/** scipy.spatial.distance.jensenshannon(p, q) (natural log): sqrt of the JS divergence of normalised p, q. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  const sp = sum(p);
  const sq = sum(q);
  let div = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    div += relEntr(a, m) + relEntr(b, m);
  }
  if (base !== undefined) div /= Math.log(base);
  return Math.sqrt(div / 2);
}

/** Jensen-Shannon divergence in bits (what Vertex AI Model Monitoring reports for numerical features). */
export function jensenShannonDivergenceBits(p: readonly number[], q: readonly number[]): number {
  return jensenShannonDistance(p, q, 2) ** 2;
}

/** scipy.stats.entropy(p, q): Kullback-Leibler divergence of normalised p from q (natural log). */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  const sp = sum(p);
  const sq = sum(q);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += relEntr(p[i]! / sp, q[i]! / sq);
  return s;
}

/** Population stability index Σ (r − c) · ln(r / c), on shares that have had empty bins filled. */
export function psi(r: readonly number[], c: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return s;
}

/** Hellinger distance sqrt(1 − Σ sqrt(p·q)) of two share vectors (Evidently clips the coefficient to [0, 1]). */
export function hellinger(p: readonly number[], q: readonly number[]): number {
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt(p[i]! * q[i]!);
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}

/** L-infinity distance max |p − q| of two share vectors (Vertex AI's categorical drift metric). */
export function lInfinity(p: readonly number[], q: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < p.length; i++) m = Math.max(m, Math.abs(p[i]! - q[i]!));
  return m;
}

/** scipy.stats.wasserstein_distance(u, v): ∫ |U(x) − V(x)| dx over the merged sorted values. */
export function wasserstein1d(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const us = Float64Array.from(u).sort();
  const vs = Float64Array.from(v).sort();
  const all = new Float64Array(us.length + vs.length);
  all.set(us);
  all.set(vs, us.length);
  all.sort();
  let total = 0;
  for (let i = 0; i < all.length - 1; i++) {
    const delta = all[i + 1]! - all[i]!;
    if (delta === 0) continue;
    const ucdf = countAtMost(us, all[i]!) / us.length;
    const vcdf = countAtMost(vs, all[i]!) / vs.length;
    total += Math.abs(ucdf - vcdf) * delta;
  }
  return total;
}

/** Population standard deviation (numpy std, ddof = 0), two-pass. */
export function stdPop(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (a[i]! - mean) ** 2;
  return Math.sqrt(ss / n);
}

/**
 * Wasserstein-1 between two histograms on the same edges, mass spread uniformly inside each bin: both CDFs are
 * piecewise linear on the common edges, so ∫|F − G| is exact per bin (a linear function's |·| integrates in closed
 * form). `edges` has one more entry than `p`/`q`; shares are normalised here.
 */
export function binnedWasserstein(edges: readonly number[], p: readonly number[], q: readonly number[]): number {
  const sp = sum(p);
  const sq = sum(q);
  let F = 0;
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const w = edges[i + 1]! - edges[i]!;
    const a = F;
    const b = F + p[i]! / sp - q[i]! / sq;
    if (w > 0) {
      if (a * b >= 0) total += (w * (Math.abs(a) + Math.abs(b))) / 2;
      else total += (w * (a * a + b * b)) / (2 * (Math.abs(a) + Math.abs(b)));
    }
    F = b;
  }
  return total;
}
