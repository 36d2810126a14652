import { isPermanent, NotFoundError, type CtloopError } from '../errors.js';
import type { EventOf } from '../events/catalog.js';
import type { FeatureRepo } from '../features/definitions.js';
import type { ModelCatalog, ModelSpec } from '../models/config.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';
import { log } from '../runtime/log.js';
import { completeRun } from './complete.js';
import { exportTrainingSets, runPrefix } from './export.js';
import type { JobSpec, TrainingLauncher } from './launcher.js';
import { claimRun, recordLaunched, recordPrepared, runIdFor, type Run } from './runs.js';

export interface LaunchDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  repo: FeatureRepo;
  models: ModelCatalog;
  launcher: TrainingLauncher;
  bucket: string;
  project: string;
  region: string;
  trainerImage?: string;
  trainerServiceAccount?: string;
  codeVersion: string;
  /** The serving champion's model directory, scored by the trainer on the same test rows (model registry). */
  champion?: (model: string) => Promise<string | null>;
  now?: () => Date;
}

export type LaunchOutcome =
  | { action: 'launched'; runId: string; jobId: string }
  | { action: 'duplicate' | 'already-launched' | 'already-finished'; runId: string; jobId: string | null }
  | { action: 'failed'; runId: string; error: string };

/**
 * launch-training: a training request becomes one run and at most one job. Claim the run (same request → same run,
 * a duplicate launches nothing), export the split training sets, record parameters and data snapshot, then start
 * the job. A request that cannot be trained (no labelled rows in a split, unknown service...) ends as
 * `training.completed` FAILED with the reason, never as silence; infrastructure failures are thrown and retried, and
 * a retry resumes the same run (adopting a job already started for it).
 */
export async function launchTraining(deps: LaunchDeps, event: EventOf<'trainingRequested'>): Promise<LaunchOutcome> {
  const now = deps.now ?? (() => new Date());
  const model = deps.models.model(event.data.model);
  const runId = runIdFor(model.name, event.data.dedupKey);
  const { run, owner } = await claimRun(deps.warehouse, {
    runId, model: model.name, requestKey: event.data.dedupKey, requestEventId: event.id, correlationId: event.correlationId,
    trigger: event.data.reason, ...(event.data.driftReportId ? { driftReportId: event.data.driftReportId } : {}),
    backend: deps.launcher.backend, codeVersion: deps.codeVersion, now: now(),
  });
  if (!owner) return { action: 'duplicate', runId, jobId: run.jobId };
  if (run.finishedAt) return { action: 'already-finished', runId, jobId: run.jobId };
  if (run.jobId) return { action: 'already-launched', runId, jobId: run.jobId };
  const adopted = await deps.launcher.findByRun(runId);
  if (adopted) {
    await recordLaunched(deps.warehouse, runId, { jobId: adopted, at: now(), deadline: deadline(now(), model) });
    return { action: 'already-launched', runId, jobId: adopted };
  }
  try {
    const spec = await prepare(deps, model, run, event, now());
    const { jobId } = await deps.launcher.launch(spec);
    await recordLaunched(deps.warehouse, runId, { jobId, at: now(), deadline: deadline(now(), model) });
    log('info', 'training launched', { runId, model: model.name, backend: deps.launcher.backend, jobId, eventId: event.id });
    return { action: 'launched', runId, jobId };
  } catch (err) {
    if (!isPermanent(err)) throw err;
    const e = err as CtloopError;
    await completeRun(deps, runId, { state: 'FAILED', error: e.describe() });
    return { action: 'failed', runId, error: e.message };
  }
}

function deadline(at: Date, model: ModelSpec): Date {
  // Vertex AI's own timeout plus time to provision and to report: the reconciler expires what outlives it.
  return new Date(at.getTime() + (model.trainer.timeoutSeconds + 1800) * 1000);
}

async function prepare(deps: LaunchDeps, model: ModelSpec, run: Run, event: EventOf<'trainingRequested'>, now: Date): Promise<JobSpec> {
  const view = deps.repo.view(model.spine.view);
  if (!(await deps.warehouse.getTable(view.table))) {
    throw new NotFoundError(`model ${model.name}: the spine view ${view.name} has no table ${view.table} in the warehouse`, {
      hint: `create the tables (ctloop features apply) and load labelled rows into ${view.name} (npm start does both for the flights example)`,
    });
  }
  const end = await trainingEnd(deps, model, event);
  const sets = await exportTrainingSets(deps, model, run.runId, end);
  const prefix = runPrefix(deps.bucket, model.name, run.runId);
  const champion = deps.champion ? await deps.champion(model.name) : null;
  const image = (model.trainer.image ?? deps.trainerImage)?.replaceAll('${project}', deps.project).replaceAll('${region}', deps.region);
  const env: Record<string, string> = {
    AIP_TRAINING_DATA_URI: sets.splits.train.uri,
    AIP_VALIDATION_DATA_URI: sets.splits.validation.uri,
    AIP_TEST_DATA_URI: sets.splits.test.uri,
    AIP_DATA_FORMAT: 'csv',
    CTLOOP_LABEL: sets.label,
    CTLOOP_ROW_ID: sets.rowId,
    CTLOOP_SLICES: model.slices.join(','),
    CTLOOP_MODEL: model.name,
    ...(champion ? { CTLOOP_BASELINE_MODEL_DIR: champion } : {}),
  };
  const spec: JobSpec = {
    runId: run.runId, model: model.name, displayName: `ctloop-${run.runId}`, ...(image ? { image } : {}),
    command: model.trainer.command, args: model.trainer.args, machineType: model.trainer.machineType, timeoutSeconds: model.trainer.timeoutSeconds,
    env, outputPrefix: prefix, logsUri: `${prefix}logs.txt`, cwd: deps.models.dir,
    labels: { ctloop_run: run.runId, ctloop_model: model.name.replace(/_/g, '-') },
  };
  await recordPrepared(deps.warehouse, run.runId, {
    params: {
      command: spec.command, image: spec.image ?? null, args: spec.args, machineType: spec.machineType, timeoutSeconds: spec.timeoutSeconds,
      featureService: model.featureService, spine: model.spine, slices: model.slices, end: end.toISOString(), champion, requestedAt: event.time,
    },
    datasets: { splits: sets.splits, rowId: sets.rowId, label: sets.label, columns: sets.columns },
    baselineUri: sets.baselineUri, logsUri: spec.logsUri, modelUri: `${prefix}model/`,
  });
  return spec;
}

/**
 * The request's end: its training window's end, but never past the latest labelled example (labels arrive after
 * the event; a window with no labels yet would leave the test split empty); without a window, the latest label.
 */
async function trainingEnd(deps: LaunchDeps, model: ModelSpec, event: EventOf<'trainingRequested'>): Promise<Date> {
  const hi = await labelledDataEnd(deps, model);
  const asked = event.data.trainingWindow ? new Date(event.data.trainingWindow.end) : null;
  if (!hi) return asked ?? new Date(event.time);
  return asked && asked < hi ? asked : hi;
}

/** Just after the latest labelled example of the model's spine view, or null when it has none. */
export async function labelledDataEnd(deps: Pick<LaunchDeps, 'warehouse' | 'repo'>, model: ModelSpec): Promise<Date | null> {
  const view = deps.repo.view(model.spine.view);
  if (!(await deps.warehouse.getTable(view.table))) return null;
  const d = deps.warehouse.dialect;
  const rows = await deps.warehouse.query(`SELECT MAX(${d.ident(view.timestampField)}) AS hi FROM ${d.table(view.table)} WHERE ${d.ident(model.spine.label)} IS NOT NULL`);
  return rows[0]?.hi instanceof Date ? new Date((rows[0].hi as Date).getTime() + 1) : null;
}

/** The code that ran: build-info.json of a staged function, else git, else 'unknown' (shared/training/code-version.ts). */
export { codeVersion } from './code-version.js';
