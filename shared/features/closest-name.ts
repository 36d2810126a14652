/**
 * The candidate a mistyped name most likely meant: the same name up to case, `_`/`-`/spaces, one holding the other
 * (`ts` for `event_ts`), or a few edits away (at most a third of its length, at least 1). Undefined when nothing is
 * close.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (c === name) continue;
    const [a, b] = [norm(c), norm(name)];
    const d = a === b ? 0 : Math.min(a.length, b.length) >= 2 && (a.includes(b) || b.includes(a)) ? 1 : distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein edit distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
