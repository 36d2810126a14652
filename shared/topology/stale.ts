/**
 * Compare freshly generated files with what is checked in. Pure: both sides are maps of relative path → content.
 * Returns one line per difference (missing, changed, or left over from a removed view), empty when up to date.
 */
export function staleFiles(expected: Record<string, string>, actual: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [path, content] of Object.entries(expected)) {
    if (!(path in actual)) out.push(`${path}: missing`);
    else if (actual[path] !== content) out.push(`${path}: out of date`);
  }
  for (const path of Object.keys(actual)) {
    if (!(path in expected)) out.push(`${path}: no longer generated (delete it)`);
  }
  return out.sort();
}
