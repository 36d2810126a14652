import { ValidationError } from '../errors.js';
import type { FeatureRepo, FeatureView } from '../features/definitions.js';
import { getOnlineFeatures, type FeatureStatus, type OnlineDeps } from '../features/online.js';
import type { SqlValue } from '../ports/warehouse.js';
import type { Instance } from './request.js';
import type { ServedModelSpec } from './served-models.js';

/** PRESENT / NULL_VALUE / NOT_FOUND / OUTSIDE_MAX_AGE from the online store, or REQUEST when the caller sent it. */
export type ServedFeatureStatus = FeatureStatus | 'REQUEST';

export interface ViewPlan {
  view: FeatureView;
  features: string[];
  /** Join key → the instance field it is read from (same name unless the model maps it). */
  keys: { joinKey: string; field: string }[];
}

/** Which online features a model needs, grouped by view (one batched read per view and request). */
export function featurePlan(repo: FeatureRepo, spec: ServedModelSpec): ViewPlan[] {
  if (!spec.featureService) return [];
  const byView = new Map<string, string[]>();
  for (const ref of repo.service(spec.featureService).features) {
    const [v, f] = ref.split(':') as [string, string];
    byView.set(v, [...(byView.get(v) ?? []), f]);
  }
  return [...byView].map(([name, features]) => {
    const view = repo.view(name);
    return { view, features, keys: view.entity.joinKeys.map((k) => ({ joinKey: k.name, field: k.name in spec.keys ? spec.keys[k.name]! : k.name })) };
  });
}

export interface AssembledFeatures {
  /** Per instance: every field as the model receives it (raw values win over online ones). */
  features: Record<string, SqlValue>[];
  statuses: Record<string, ServedFeatureStatus>[];
  /** Per instance: canonical JSON of the join-key values it was looked up by (null when none), for label joins. */
  entityKeys: (string | null)[];
}

/** Join-key values of an instance (or of a label row) for a plan, keyed by join key; missing keys are listed. */
export function resolveKeys(plan: ViewPlan[], row: Record<string, unknown>): { keys: Record<string, string | number>; missing: Map<string, string[]> } {
  const keys: Record<string, string | number> = {};
  const missing = new Map<string, string[]>();
  for (const p of plan) {
    for (const k of p.keys) {
      const v = row[k.joinKey] ?? row[k.field];
      if (typeof v === 'string' || typeof v === 'number') keys[k.joinKey] = v;
      else missing.set(p.view.name, [...(missing.get(p.view.name) ?? []), k.field]);
    }
  }
  return { keys, missing };
}

/** Canonical text of join-key values: sorted names, typed values (so "7" and 7 differ). */
export function entityKeyOf(keys: Record<string, string | number>): string | null {
  const names = Object.keys(keys).sort();
  return names.length === 0 ? null : JSON.stringify(Object.fromEntries(names.map((n) => [n, keys[n]])));
}

/**
 * Merge each instance's raw values with its online features: for every view of the plan whose features the
 * instance does not all carry, its join keys are required (a missing one is a ValidationError naming
 * `instances[i].<field>`), and the view is read once for all such instances.
 */
export async function assembleFeatures(deps: OnlineDeps, plan: ViewPlan[], instances: Instance[]): Promise<AssembledFeatures> {
  const features = instances.map((i) => ({ ...i }) as Record<string, SqlValue>);
  const statuses = instances.map((i) => Object.fromEntries(Object.keys(i).map((k) => [k, 'REQUEST' as ServedFeatureStatus])));
  const resolved = instances.map((i) => resolveKeys(plan, i));
  const bad: string[] = [];
  for (const p of plan) {
    const need = instances.map((inst, i) => (p.features.every((f) => f in inst) ? -1 : i)).filter((i) => i >= 0);
    for (const i of need) for (const f of resolved[i]!.missing.get(p.view.name) ?? []) bad.push(`instances[${i}].${f}`);
    if (need.length === 0 || bad.length > 0) continue;
    const res = await getOnlineFeatures(deps, {
      view: p.view.name,
      features: p.features,
      entities: need.map((i) => Object.fromEntries(p.keys.map((k) => [k.joinKey, resolved[i]!.keys[k.joinKey]]))),
    });
    res.metadata.feature_names.forEach((f, j) => {
      need.forEach((i, n) => {
        if (f in instances[i]!) return; // the caller's value wins
        features[i]![f] = res.results[j]!.values[n]!;
        statuses[i]![f] = res.results[j]!.statuses[n]!;
      });
    });
  }
  if (bad.length > 0) {
    throw new ValidationError(`missing entity keys: ${[...new Set(bad)].slice(0, 10).join(', ')}`, {
      hint: `give each instance the join keys of its features (${plan.map((p) => `${p.view.name}: ${p.keys.map((k) => k.field).join(', ')}`).join('; ')}) or the feature values themselves`,
      details: { fields: [...new Set(bad)] },
    });
  }
  return { features, statuses, entityKeys: resolved.map((r) => entityKeyOf(r.keys)) };
}
