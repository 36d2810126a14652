/**
 * "Did you mean …?": the valid name closest to a misspelt one, or undefined when none is close enough to be a
 * plausible typo. Names that differ only in case, `_` or `-` match first (join_keys → joinKeys); then the fewest
 * single-letter edits (insert, delete, replace, swap two neighbours), allowing 1 edit for names of up to 4 letters,
 * 2 up to 8 and 3 beyond. With `containment` (file headers), a name holding the other comes before edits.
 */
export function closest(name: string, candidates: Iterable<string>, opts: { containment?: boolean } = {}): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');
  const n = norm(name);
  const list = [...candidates].filter((c) => c !== name);
  const same = list.find((c) => norm(c) === n);
  if (same) return same;
  // Column headers: one name holding the other (`ts` for `event_ts`) is a likelier meaning than a few edits.
  if (opts.containment && n.length >= 2) {
    const holds = list.find((c) => norm(c).length >= 2 && (norm(c).includes(n) || n.includes(norm(c))));
    if (holds) return holds;
  }
  const allowed = n.length <= 4 ? 1 : n.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const c of list) {
    const d = editDistance(n, norm(c));
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus transpositions of adjacent letters). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** " (did you mean "x"?)" or "" — for appending to an error message. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const c = closest(name, candidates);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}
