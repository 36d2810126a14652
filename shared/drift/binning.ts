/**
 * Evidently's binning for the binned methods in file mode (evidently/legacy/calculations/stattests/utils.py,
 * get_binned_data): numerical columns with more than 20 distinct reference values → numpy's Sturges edges over
 * reference ∪ current and per-bin shares; otherwise per-value shares over the union of values. psi and kl_div then
 * replace empty shares ("feel_zeroes"): with 0.0001, or with (smallest non-zero share) / 10⁶ when that share is
 * ≤ 0.0001. Also numpy's histogram (half-open bins, the last one closed).
 */

export type Value = number | string;

/** numpy.histogram_bin_edges(a, bins='sturges'). */
export function sturgesEdges(values: ArrayLike<number>): number[] {
  const n = values.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const ptp = hi - lo;
  let first = lo;
  let last = hi;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(n) + 1);
  const bins = width > 0 ? Math.ceil(ptp / width) : 1;
  const step = (last - first) / bins;
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(i * step + first);
  edges[bins] = last;
  return edges;
}

/** Index of the bin of x among `edges` (numpy.histogram semantics); -1 when outside. */
export function binIndex(edges: readonly number[], x: number): number {
  const k = edges.length - 1;
  if (!(x >= edges[0]!) || x > edges[k]!) return -1;
  if (x === edges[k]) return k - 1;
  let lo = 0;
  let hi = k;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** numpy.histogram(values, edges)[0]. */
export function histogram(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = binIndex(edges, values[i]!);
    if (b >= 0) counts[b]! += 1;
  }
  return counts;
}

export function valueCounts(values: readonly Value[]): Map<Value, number> {
  const m = new Map<Value, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export function distinctCount(values: readonly Value[]): number {
  return new Set(values).size;
}

/** Evidently's empty-share fill for psi and kl_div. */
export function fillZeroes(shares: number[]): number[] {
  let min = Infinity;
  for (const s of shares) if (s !== 0 && s < min) min = s;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  return shares.map((s) => (s === 0 ? fill : s));
}

export interface BinnedShares {
  ref: number[];
  cur: number[];
  /** Edges when numerical histogram bins were used; undefined for per-value bins. */
  edges?: number[];
  /** Keys when per-value bins were used. */
  keys?: Value[];
}

/** get_binned_data(reference, current, feature_type, n, feel_zeroes). Inputs have NaN/Inf and nulls removed. */
export function evidentlyBinned(ref: readonly Value[], cur: readonly Value[], numerical: boolean, fill: boolean): BinnedShares {
  let out: BinnedShares;
  if (numerical && distinctCount(ref) > 20) {
    const all = [...(ref as number[]), ...(cur as number[])];
    const edges = sturgesEdges(all);
    out = {
      ref: histogram(ref as number[], edges).map((c) => c / ref.length),
      cur: histogram(cur as number[], edges).map((c) => c / cur.length),
      edges,
    };
  } else {
    const rc = valueCounts(ref);
    const cc = valueCounts(cur);
    const keys = [...new Set<Value>([...rc.keys(), ...cc.keys()])];
    out = {
      ref: keys.map((k) => (rc.get(k) ?? 0) / ref.length),
      cur: keys.map((k) => (cc.get(k) ?? 0) / cur.length),
      keys,
    };
  }
  return fill ? { ...out, ref: fillZeroes(out.ref), cur: fillZeroes(out.cur) } : out;
}

/**
 * Evidently's hellinger binning: categorical → per-value shares; numerical → Sturges edges over the DISTINCT values
 * of both samples (not the rows), density histograms times the common bin width (= shares).
 */
export function hellingerBinned(ref: readonly Value[], cur: readonly Value[], numerical: boolean): BinnedShares {
  if (!numerical) return evidentlyBinned(ref, cur, false, false);
  const keys = [...new Set<number>([...(ref as number[]), ...(cur as number[])])];
  const edges = sturgesEdges(keys);
  return {
    ref: histogram(ref as number[], edges).map((c) => c / ref.length),
    cur: histogram(cur as number[], edges).map((c) => c / cur.length),
    edges,
  };
}
