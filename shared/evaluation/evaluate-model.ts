import { NotFoundError, ValidationError } from '../errors.js';
import { catalog, createEvent, type EventOf } from '../events/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ModelRegistry, ModelVersion } from '../ports/model-registry.js';
import type { ObjectStore } from '../ports/object-store.js';
import { evaluatePredictions, type EvaluationReport } from './evaluate.js';
import type { ModelEvaluationSource } from './model-source.js';
import { parsePredictions } from './predictions.js';

/**
 * training.completed → evaluate the candidate → register the version → model.evaluated.
 *
 * - A job that did not succeed has nothing to evaluate: acknowledged, nothing registered, nothing published (the
 *   launcher's training.completed already says why).
 * - The candidate and the champion are compared on the trainer's predictions over the same test rows
 *   (`predictions.csv`: `score`, and `baseline_score` when a champion existed).
 * - Registration is keyed by the run id; a redelivered event finds the version and publishes the same
 *   model.evaluated again (same event id), so a crash between registering and publishing loses nothing.
 * - A blessed version becomes `challenger`; when the model has no champion at all, it becomes `champion` too so the
 *   loop has a baseline. A refused version is registered (with its report) and takes no alias.
 */
const SOURCE = 'ctloop/functions/evaluate-model';

export interface EvaluateModelDeps {
  objectStore: ObjectStore;
  bus: EventBus;
  registry: ModelRegistry;
  models: ModelEvaluationSource;
}

export type EvaluateModelResult =
  | { action: 'skipped'; reason: string }
  | { action: 'evaluated' | 'republished'; version: ModelVersion; blessed: boolean; eventId: string; failedChecks: number };

const file = (dir: string, name: string) => `${dir.endsWith('/') ? dir : `${dir}/`}${name}`;

export function evaluatedEventId(model: string, runId: string): string {
  return `evaluated-${model}-${runId}`;
}

export async function evaluateTrainedModel(deps: EvaluateModelDeps, event: EventOf<'trainingCompleted'>): Promise<EvaluateModelResult> {
  const d = event.data;
  if (d.state !== 'SUCCEEDED') return { action: 'skipped', reason: `training ${d.state.toLowerCase()}: nothing to evaluate` };
  const runId = d.runId ?? d.jobId;
  if (!d.modelUri) {
    throw new ValidationError(`training.completed for run ${runId} is SUCCEEDED but has no modelUri`, { hint: 'the launcher must report the model directory (AIP_MODEL_DIR) of a successful run' });
  }
  const existing = await deps.registry.findByRun(d.model, runId);
  if (existing) {
    const report = existing.evaluationUri ? JSON.parse((await deps.objectStore.get(existing.evaluationUri)).toString('utf8')) as EvaluationReport : null;
    const eventId = await publish(deps, event, existing, report, runId);
    return { action: 'republished', version: existing, blessed: existing.blessed, eventId, failedChecks: report?.failedChecks.length ?? 0 };
  }

  const cfg = await deps.models(d.model);
  const predictionsUri = file(d.modelUri, 'predictions.csv');
  if (!(await deps.objectStore.exists(predictionsUri))) {
    throw new NotFoundError(`run ${runId} wrote no ${predictionsUri}`, { hint: 'the trainer must write predictions.csv (row_id, label, score[, baseline_score], slice columns) to AIP_MODEL_DIR' });
  }
  const predictions = parsePredictions((await deps.objectStore.get(predictionsUri)).toString('utf8'), cfg.evaluation.slices, predictionsUri);
  const champion = await deps.registry.getVersion(d.model, 'champion');
  const report = evaluatePredictions(predictions, cfg.evaluation, champion?.version ?? null);

  const metrics: Record<string, number> = { rows: report.overall.rows };
  for (const [k, v] of Object.entries(report.overall.candidate)) if (v !== null) metrics[k] = v;
  const baselineUri = d.baselineUri ?? file(d.modelUri, 'baseline_profile.json');
  const { version } = await deps.registry.registerVersion({
    model: d.model, runId, artifactUri: d.modelUri, metrics, blessed: report.blessed, evaluation: report,
    baselineProfileUri: (await deps.objectStore.exists(baselineUri)) ? baselineUri : null,
    lineage: {
      runId, jobId: d.jobId, dataUris: Object.fromEntries(Object.entries(d.datasets ?? {}).map(([k, v]) => [k, v.uri])),
      trigger: d.trigger ? { reason: d.trigger, driftReportId: d.driftReportId ?? null, requestId: null } : null,
    },
    aliases: report.blessed ? (champion ? ['challenger'] : ['challenger', 'champion']) : [],
    servingImage: cfg.servingImage,
  });
  const eventId = await publish(deps, event, version, report, runId);
  return { action: 'evaluated', version, blessed: report.blessed, eventId, failedChecks: report.failedChecks.length };
}

async function publish(deps: EvaluateModelDeps, cause: EventOf<'trainingCompleted'>, v: ModelVersion, report: EvaluationReport | null, runId: string): Promise<string> {
  const ev = createEvent('modelEvaluated', {
    model: v.model, candidateVersion: v.version, championVersion: report?.championVersion ?? null, blessed: v.blessed, metrics: v.metrics,
    failedChecks: (report?.failedChecks ?? []).map((c) => ({ check: c.check, slice: c.slice, detail: c.detail })),
    runId, ...(v.evaluationUri ? { evaluationUri: v.evaluationUri } : {}),
  }, { source: SOURCE, causedBy: cause, id: evaluatedEventId(v.model, runId) });
  await deps.bus.publish(catalog.modelEvaluated.topic, ev);
  return ev.id;
}
