import type { FeatureView } from '../../../features/definitions.js';

/**
 * The Bigtable online store's schema, shared by the adapter and the Terraform generator (shared/topology) so the
 * column families Terraform creates are exactly those the adapter reads and writes. Pure: no client import.
 *
 * One column family per view, named after the view (view names are identifiers, valid family ids). Its GC rule keeps
 * one version per column and, when the view has a ttl, drops cells older than the ttl (a union: either rule deletes).
 */
export function columnFamily(view: FeatureView): string {
  return view.name;
}

/** The family's GC rule in the Node client's shape (`table.createFamily(id, { rule })`). */
export function clientGcRule(view: FeatureView): { versions: number; age?: { seconds: number }; union?: boolean } {
  return view.ttlSeconds > 0 ? { versions: 1, age: { seconds: view.ttlSeconds }, union: true } : { versions: 1 };
}

/**
 * The same rule as the `gc_rules` JSON of Terraform's google_bigtable_gc_policy. Durations are written the way Go
 * prints them (`24h0m0s`), the form the provider reads back, so a plan after apply shows no drift.
 */
export function terraformGcRules(view: FeatureView): string {
  const rules: Record<string, unknown>[] = [{ max_version: 1 }];
  if (view.ttlSeconds > 0) return JSON.stringify({ mode: 'union', rules: [{ max_age: goDuration(view.ttlSeconds) }, ...rules] });
  return JSON.stringify({ rules });
}

/** Whole seconds as Go's time.Duration.String(): 90 → 1m30s, 3600 → 1h0m0s, 30 → 30s. */
export function goDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${m}m${r}s`;
  if (m > 0) return `${m}m${r}s`;
  return `${r}s`;
}
