import type { FeatureRepo } from '../features/definitions.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import type { LoopExtras } from '../status/extras.js';
import { traceVersion } from '../status/lineage.js';
import { driftSeries, readEvaluation } from '../status/reads.js';

/**
 * The report's data, read from the loop's records only (drift history, registry, evaluation reports, run records;
 * delivery and serving when they exist). Each section is a flat table, ready for a Vega-Lite spec; a section whose
 * source does not exist yet is `null` (the page shows why), one that exists but holds nothing is `[]`.
 */
const P_VALUE_METHODS = new Set(['ks', 'chisquare', 'z']);

export interface ReportData {
  generatedAt: string;
  drift: { view: string; feature: string; panel: string; windowEnd: string; value: number; threshold: number; measure: 'p-value' | 'distance'; method: string; drifted: boolean; reportId: string }[];
  metrics: { model: string; version: string; label: string; metric: string; value: number; blessed: boolean; aliases: string }[];
  slices: { model: string; version: string; label: string; slice: string; metric: string; value: number; rows: number }[];
  canary: { model: string; version: string; rollout: string; check: string; side: 'canary' | 'champion'; value: number }[] | null;
  live: { model: string; version: string; day: string; auc: number | null; logLoss: number | null; predictions: number; labelled: number }[] | null;
  lineage: { model: string; version: string; label: string; stage: string; time: string; summary: string }[];
}

export interface ReportDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  registry: ModelRegistry;
  repo: FeatureRepo;
  extras: LoopExtras;
}

const METRICS = ['auc', 'log_loss', 'accuracy', 'ece', 'brier'];

export async function collectReportData(deps: ReportDeps, now = new Date()): Promise<ReportData> {
  const drift = (await driftSeries(deps.warehouse)).flatMap((p) => {
    const pv = P_VALUE_METHODS.has(p.method);
    const value = pv ? p.pValue : p.statistic;
    if (value === null || p.threshold === null) return [];
    return [{ view: p.view, feature: p.feature, panel: `${p.view} · ${p.feature}`, windowEnd: p.windowEnd, value, threshold: p.threshold, measure: pv ? 'p-value' as const : 'distance' as const, method: p.method, drifted: p.drifted, reportId: p.reportId }];
  });

  const versions = await deps.registry.listVersions();
  const label = (model: string, version: string) => `${model}@${version}`;
  const metrics: ReportData['metrics'] = [];
  const slices: ReportData['slices'] = [];
  const lineage: ReportData['lineage'] = [];
  for (const v of versions) {
    for (const m of METRICS) {
      const x = v.metrics[m];
      if (typeof x === 'number' && Number.isFinite(x)) metrics.push({ model: v.model, version: v.version, label: label(v.model, v.version), metric: m, value: x, blessed: v.blessed, aliases: v.aliases.join(', ') });
    }
    const evaluation = await readEvaluation(deps.objectStore, v.evaluationUri);
    for (const s of evaluation?.slices ?? []) {
      if (!s.evaluated || !s.candidate) continue;
      for (const m of ['auc', 'log_loss']) {
        const x = (s.candidate as unknown as Record<string, number | null>)[m];
        if (typeof x === 'number' && Number.isFinite(x)) slices.push({ model: v.model, version: v.version, label: label(v.model, v.version), slice: s.key, metric: m, value: x, rows: s.rows });
      }
    }
    const trace = await traceVersion(deps, v.model, v.version);
    for (const k of trace.links) {
      if (k.present && k.time) lineage.push({ model: v.model, version: v.version, label: label(v.model, v.version), stage: k.stage, time: k.time, summary: k.summary });
    }
  }

  const models = [...new Set(versions.map((v) => v.model))];
  const rollouts = await deps.extras.rollouts(models);
  const canary = rollouts && rollouts.flatMap((r) => r.checks.flatMap((c) => [
    ...(c.canary !== null ? [{ model: r.model, version: r.version, rollout: `${r.model}@${r.version} (${r.phase})`, check: c.name, side: 'canary' as const, value: c.canary }] : []),
    ...(c.champion !== null ? [{ model: r.model, version: r.version, rollout: `${r.model}@${r.version} (${r.phase})`, check: c.name, side: 'champion' as const, value: c.champion }] : []),
  ]));
  const live = await deps.extras.live(models);
  return { generatedAt: now.toISOString(), drift, metrics, slices, canary, live, lineage };
}
